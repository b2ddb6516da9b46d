"""The one page envelope of every list: ``?limit=&offset=`` in, ``{items, count, limit, offset}`` out.

Use ``@paginate(LimitOffset)`` on a handler that returns a queryset or a list. Both bounds are
validated (422 naming ``limit`` or ``offset``), so no request can ask the database for an
offset it cannot represent.
"""
from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from ninja.pagination import PaginationBase

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 2**31 - 1


class LimitOffset(PaginationBase):
    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (1–200).")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="Items in the whole list, across pages.")
        limit: int
        offset: int

    def paginate_queryset(self, queryset, pagination: Input, request=None, **params) -> dict[str, Any]:
        limit, offset = pagination.limit, pagination.offset
        return {
            "items": queryset[offset : offset + limit],
            "count": self._items_count(queryset),
            "limit": limit,
            "offset": offset,
        }
