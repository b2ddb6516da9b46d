"""Which records a user may reach, per model: apps register their scoped selector here.

``privacy.services`` must never unmask a record without asking this registry whether the
record lies inside the actor's scope for the action. An app registers in ``AppConfig.ready``::

    scoping.register(Person, lambda user, action: selectors.person_queryset(user=user, action=action))
"""
from __future__ import annotations

from typing import Callable

from django.db.models import Model, QuerySet

ScopedSelector = Callable[..., QuerySet]
_SELECTORS: dict[type[Model], ScopedSelector] = {}


class NotRegistered(LookupError):
    pass


def register(model: type[Model], selector: ScopedSelector) -> None:
    _SELECTORS[model] = selector


def scoped_queryset(model: type[Model], user, action: str) -> QuerySet:
    try:
        selector = _SELECTORS[model]
    except KeyError as exc:
        raise NotRegistered(f"{model.__name__} has no scoped selector registered") from exc
    return selector(user, action)


def in_scope(obj: Model, user, action: str) -> bool:
    return scoped_queryset(type(obj), user, action).filter(pk=obj.pk).exists()
