"""Why a request made with a key is refused; each carries the HTTP status it is answered with."""
from __future__ import annotations


class KeyRefused(Exception):
    status = 401

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class BadKey(KeyRefused):
    """No such key, or a revoked one."""

    status = 401


class MissingScope(KeyRefused):
    """A valid key that was not granted what this request needs."""

    status = 403


class RateLimited(KeyRefused):
    status = 429
