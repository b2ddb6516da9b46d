"""The case list as CSV: the same cases as the list page under the same filters, one row each.

No personal data of residents (no caller, no reporter, no description): a handler appears as
role and surname, as residents see staff on a case's timeline. So no protected field is read
and nothing goes to the sensitive-data access log (``privacy.services.access_log_record`` is for
exports that carry protected fields, such as the unmasked registry export).
"""
from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from communitygrid.cases.models import Case
from communitygrid.cases.selectors import staff_label

# More than this is refused with a request to narrow the filters (a month, a community…): a
# file of that size no longer answers a question, and the export would hold a connection for long.
EXPORT_LIMIT = 50_000

COLUMNS = [
    _("Case number"), _("Category"), _("Tier"), _("Status"), _("Grid"), _("Submitted at"), _("Respond by"),
    _("Resolve by"), _("Closed at"), _("Handler"),
]


def case_row(case: Case) -> list:
    """One row in ``COLUMNS`` order; times are datetimes (written in local time)."""
    handler = staff_label(case.assignee, case.assignee.role) if case.assignee_id else ""
    return [case.pk, case.category.full_label, case.get_tier_display(), case.get_status_display(), case.grid.name,
            case.created_at, case.respond_by, case.resolve_by, case.closed_at, handler]


def case_rows(cases: QuerySet):
    """The rows, read in chunks: the whole list never sits in memory."""
    cases = cases.select_related("category__parent", "grid", "assignee")
    return (case_row(case) for case in cases.iterator(chunk_size=2000))
