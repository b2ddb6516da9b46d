"""Errors a case service raises; each carries the HTTP status the API answers with."""
from __future__ import annotations


class CaseError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(CaseError):
    """Bad input: the message names the field and the problem; nothing was written."""

    status = 400


class NotAllowed(CaseError):
    """The actor may see the case but may not take this action on it."""

    status = 403


class NotFound(CaseError):
    """No such case within the actor's scope (out-of-scope cases are not revealed to exist)."""

    status = 404


class TransitionNotAllowed(CaseError):
    """The action is not allowed from the case's current state (or the state changed meanwhile)."""

    status = 409
