"""The case state machine: the one table of which action may move a case from which state.

Services (``services.py``) are the only code that changes a case's status, always through
:func:`target` and a conditional UPDATE on the old status. Actions that leave the status as
it is (``SAME``) still go through the table, so e.g. nobody supervises a closed case.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitygrid.cases.errors import TransitionNotAllowed
from communitygrid.cases.models import OPEN_STATES, Status

S = Status
SAME = "same"
# Open and the clock running.
RUNNING = frozenset({S.SUBMITTED, S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.REOPENED})
TAKEN = frozenset({S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.REOPENED})
HANDLING = frozenset({S.ACCEPTED, S.IN_PROGRESS})

# action: (states it may start from, resulting state or SAME)
TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    "dispatch": (frozenset({S.SUBMITTED}), S.ASSIGNED),
    "accept": (frozenset({S.ASSIGNED, S.REOPENED}), S.ACCEPTED),
    "start": (frozenset({S.ACCEPTED}), S.IN_PROGRESS),
    "pause": (HANDLING, S.WAITING_RESIDENT),
    "resume": (frozenset({S.WAITING_RESIDENT}), S.IN_PROGRESS),
    "resolve": (HANDLING, S.RESOLVED),
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
    "confirm": (frozenset({S.RESOLVED}), S.CLOSED),
    "dispute": (frozenset({S.RESOLVED}), S.REOPENED),
    "reopen": (frozenset({S.RESOLVED, S.CLOSED}), S.REOPENED),
    "reject": (frozenset({S.SUBMITTED, S.ASSIGNED}), S.REJECTED),
    "cancel": (frozenset(OPEN_STATES), S.CANCELLED),
    "merge": (frozenset(OPEN_STATES), S.MERGED),
    "redispatch": (RUNNING, S.ASSIGNED),
    "hand_back": (TAKEN, S.SUBMITTED),
    "transfer_to_department": (TAKEN, S.ASSIGNED),
    "take_over": (RUNNING, S.ACCEPTED),
    "request_help": (HANDLING, SAME),
    "escalate": (frozenset(OPEN_STATES), SAME),
    "supervise": (frozenset(OPEN_STATES), SAME),
    # A progress note or photos from the handler; the clock and the status stay as they are.
    "note": (TAKEN | {S.WAITING_RESIDENT}, SAME),
    "add_task": (HANDLING | {S.WAITING_RESIDENT}, SAME),
    "complete_task": (frozenset(OPEN_STATES), SAME),
    "task_overdue": (frozenset(OPEN_STATES), SAME),
    # Written by the sweep.
    "warn": (RUNNING, SAME),
    "follow_up": (frozenset({S.RESOLVED, S.CLOSED}), SAME),
}

ACTION_LABELS = {
    "submit": gettext_lazy("Submitted"),
    "import": gettext_lazy("Imported from another system"),
    "dispatch": gettext_lazy("Dispatched"),
    "accept": gettext_lazy("Accepted"),
    "start": gettext_lazy("Work started"),
    "pause": gettext_lazy("Waiting for the resident"),
    "resume": gettext_lazy("Resumed"),
    "resolve": gettext_lazy("Resolved"),
    "close": gettext_lazy("Closed"),
    "confirm": gettext_lazy("Confirmed by the resident"),
    "dispute": gettext_lazy("Disputed by the resident"),
    "reopen": gettext_lazy("Reopened"),
    "reject": gettext_lazy("Rejected"),
    "cancel": gettext_lazy("Cancelled"),
    "merge": gettext_lazy("Merged as duplicate"),
    "redispatch": gettext_lazy("Re-dispatched"),
    "hand_back": gettext_lazy("Handed back"),
    "transfer_to_department": gettext_lazy("Transferred to a department"),
    "take_over": gettext_lazy("Taken over"),
    "request_help": gettext_lazy("Asked for help"),
    "escalate": gettext_lazy("Escalated"),
    "supervise": gettext_lazy("Supervised (督办)"),
    "note": gettext_lazy("Progress note"),
    "add_task": gettext_lazy("Joint-handling task added"),
    "complete_task": gettext_lazy("Joint-handling task done"),
    "task_overdue": gettext_lazy("Joint-handling task overdue"),
    "warn": gettext_lazy("Deadline reminder"),
    "follow_up": gettext_lazy("Follow-up check"),
}


def target(action: str, status: str) -> str:
    """The state ``action`` leads to from ``status``; raises if the table forbids it."""
    try:
        sources, result = TRANSITIONS[action]
    except KeyError:
        raise TransitionNotAllowed(_("Unknown action “%(action)s”.") % {"action": action}, field="action")
    if status not in sources:
        raise TransitionNotAllowed(
            _("A case that is “%(status)s” cannot be “%(action)s”.")
            % {"status": Status(status).label, "action": ACTION_LABELS[action]}
        )
    return status if result == SAME else result


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _result) in TRANSITIONS.items() if status in sources]
