"""The case actions a worker takes from the workbench, each one case service.

The table says which input each action asks for and which service it calls; which actions a
page offers comes from the state machine (``states.allowed_actions``) and the user's part in
the case. The services decide again, so a forged request gets their answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.utils.translation import gettext_lazy as _

from communitygrid.accounts.models import Role
from communitygrid.accounts.scopes import covers
from communitygrid.cases import services, states
from communitygrid.cases.models import Case
from communitygrid.cases.services import SUPERVISOR_ROLES


@dataclass(frozen=True)
class Action:
    label: object
    fields: tuple[str, ...]  # input the form asks for; "reason" and "note" are text, "department" a choice
    required: tuple[str, ...]
    call: Callable
    supervisor_may: bool = False  # a supervisor of the area may take it as well as the handler


ACTIONS: dict[str, Action] = {
    "accept": Action(_("Accept"), ("note",), (),
                     lambda case, user, d: services.case_accept(case=case, actor=user, note=d["note"])),
    "start": Action(_("Start work"), ("note",), (),
                    lambda case, user, d: services.case_start(case=case, actor=user, note=d["note"])),
    "note": Action(_("Add a note or photo"), ("note", "attachments"), (),
                   lambda case, user, d: services.case_note(case=case, actor=user, note=d["note"],
                                                            attachments=d["attachments"])),
    "resolve": Action(_("Resolve"), ("note", "attachments"), ("note",),
                      lambda case, user, d: services.case_resolve(case=case, actor=user, note=d["note"],
                                                                  attachments=d["attachments"])),
    "pause": Action(_("Wait for the resident"), ("reason",), ("reason",),
                    lambda case, user, d: services.case_pause(case=case, actor=user, reason=d["reason"])),
    "resume": Action(_("Resume"), ("note",), (),
                     lambda case, user, d: services.case_resume(case=case, actor=user, note=d["note"]),
                     supervisor_may=True),
    "request_help": Action(_("Ask for help"), ("note",), ("note",),
                           lambda case, user, d: services.case_request_help(case=case, actor=user, note=d["note"])),
    "hand_back": Action(_("Hand back"), ("reason",), ("reason",),
                        lambda case, user, d: services.case_hand_back(case=case, actor=user, reason=d["reason"])),
    "transfer_to_department": Action(
        _("Transfer to a department"), ("department", "note"), ("department",),
        lambda case, user, d: services.case_transfer_to_department(case=case, actor=user, department=d["department"],
                                                                   note=d["note"]),
        supervisor_may=True),
    "escalate": Action(_("Escalate"), ("reason",), ("reason",),
                       lambda case, user, d: services.case_escalate(case=case, actor=user, reason=d["reason"]),
                       supervisor_may=True),
}

# One tap: nothing to type (an optional note aside).
ONE_TAP = {"accept", "start", "resume"}


def is_handler(user, case: Case) -> bool:
    return user.is_system_admin or case.assignee_id == user.pk or bool(
        case.department_id and user.department_id == case.department_id and user.role == Role.DEPARTMENT_STAFF)


def is_supervisor(user, case: Case) -> bool:
    return user.is_system_admin or (user.role in SUPERVISOR_ROLES and covers(user, case.grid))


def available(user, case: Case) -> list[str]:
    """The workbench actions the case's state allows and the user may take, in the table's order."""
    allowed = set(states.allowed_actions(case.status))
    handler, supervisor = is_handler(user, case), is_supervisor(user, case)
    return [name for name, action in ACTIONS.items()
            if name in allowed and (handler or (action.supervisor_may and supervisor))]
