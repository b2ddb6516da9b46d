"""Per-process copies of the small tables every intake reads: the category catalogue and the
calendar overrides (docs/decisions/0005-intake-server-and-hot-path.md).

A copy lives at most ``CACHE_SECONDS``; saving or deleting a row through the ORM empties this
process's copies at once, and other processes see an administrator's edit within
``CACHE_SECONDS``. Without them every submission paid two queries for tables that change a few
times a year.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable, Generic, TypeVar

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

CACHE_SECONDS = 10.0
T = TypeVar("T")


class _Copy(Generic[T]):
    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._value: T | None = None
        self._loaded_at = 0.0
        self._generation = 0

    def get(self) -> T:
        value, now = self._value, time.monotonic()
        if value is not None and now - self._loaded_at < CACHE_SECONDS:
            return value
        with self._lock:
            generation = self._generation
        value = self._load()
        with self._lock:
            # A clear() during the load means the loaded rows may be older than the edit.
            if generation == self._generation:
                self._value, self._loaded_at = value, now
        return value

    def clear(self) -> None:
        with self._lock:
            self._value = None
            self._generation += 1


def _load_categories() -> dict:
    from communitygrid.cases.models import Category

    return {category.code: category for category in
            Category.objects.filter(is_active=True, parent__isnull=False).select_related("department")}


def _load_overrides() -> dict[dt.date, bool]:
    from communitygrid.cases.models import CalendarOverride

    return dict(CalendarOverride.objects.values_list("day", "is_workday"))


_categories = _Copy(_load_categories)
_overrides = _Copy(_load_overrides)


def active_leaf_category(code: str):
    """The active leaf category with this code, or None."""
    return _categories.get().get(code)


def calendar_overrides() -> dict[dt.date, bool]:
    return _overrides.get()


def clear() -> None:
    """Forget every copy (after an edit; tests call it between tests)."""
    _categories.clear()
    _overrides.clear()


@receiver(post_save, sender="cases.Category")
@receiver(post_delete, sender="cases.Category")
def _category_changed(sender, **kwargs) -> None:
    _categories.clear()


@receiver(post_save, sender="cases.CalendarOverride")
@receiver(post_delete, sender="cases.CalendarOverride")
def _override_changed(sender, **kwargs) -> None:
    _overrides.clear()
