"""An Open311 error: answered in the spec's format, ``[{"code": …, "description": …}]``."""
from __future__ import annotations


class Open311Error(Exception):
    def __init__(self, status: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
