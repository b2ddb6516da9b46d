"""Fixed codes written into the SQL text as literals, for the partial indexes.

The servers prepare a statement on its 5th use in a connection (``prepare_threshold``), and
PostgreSQL may then run it with a generic plan, made without the parameters' values. Such a
plan cannot use a partial index whose predicate names a value (``status IN ('accepted', …)``,
``channel = 'in_app'``) when the query passes that value as a parameter: it reads the whole
table instead. A query meant for such an index writes the value into the SQL with ``Code``.

Only fixed codes of our own (lower-case letters and underscores, or the empty string) are
accepted, so nothing a user typed can end up in the SQL text.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import CharField, Expression, Q

_CODE = re.compile(r"[a-z_]*")


def _checked(value: str) -> str:
    value = getattr(value, "value", value)  # a TextChoices member
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise ValueError(f"not a fixed code that may stand in SQL text: {value!r}")
    return value


class Code(Expression):
    """A fixed code as an SQL literal: ``filter(status=Code(Status.PENDING))``."""

    def __init__(self, value: str):
        super().__init__(output_field=CharField())
        self.value = _checked(value)

    def __repr__(self) -> str:
        return f"Code({self.value!r})"

    def as_sql(self, compiler, connection):
        return f"'{self.value}'", []

    def get_group_by_cols(self):
        return []


def keyed() -> Q:
    """Rows with an idempotency key, in the terms of the partial unique indexes on one
    (``condition=~Q(idempotency_key="")``), which a lookup must repeat to use them."""
    return ~Q(idempotency_key=Code(""))


def codes(values: Iterable[str]) -> list[Code]:
    """Fixed codes as literals for an ``__in`` lookup: ``filter(status__in=codes(OPEN_STATES))``."""
    return [Code(value) for value in sorted(map(_checked, values))]


def codes_sql(values: Iterable[str]) -> str:
    """The same list for raw SQL: ``'accepted', 'assigned', …``."""
    return ", ".join(f"'{value}'" for value in sorted(map(_checked, values)))
