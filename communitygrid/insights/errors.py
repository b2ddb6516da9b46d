"""Errors of the figures' filters: the cases app's error kinds, each with its HTTP status
(one ``answers`` wrapper and one error schema serve both APIs)."""
from __future__ import annotations

from communitygrid.cases.errors import CaseError as InsightsError
from communitygrid.cases.errors import InvalidInput as InvalidFilter
from communitygrid.cases.errors import NotAllowed as NoFigures
from communitygrid.cases.errors import NotFound

__all__ = ["InsightsError", "InvalidFilter", "NoFigures", "NotFound"]
