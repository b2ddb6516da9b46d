"""One-tap help: an urgent case at the resident's home, the emergency contact attached (or not)."""
import pytest

from communitygrid.accounts.models import Role
from communitygrid.cases.models import Case, Channel, Tier
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.services import help_call_submit

pytestmark = pytest.mark.django_db


def test_without_an_emergency_contact_the_case_goes_out_and_nothing_is_revealed(users):
    resident = users[Role.RESIDENT]
    result = help_call_submit(user=resident, idempotency_key="one")
    case = result.case
    assert result.created and case.channel == Channel.ONE_TAP and case.tier == Tier.URGENT
    assert case.caller_name == "" and case.caller_phone is None
    assert case.grid == resident.person.household.grid
    assert not AccessLog.objects.exists()
    assert help_call_submit(user=resident, idempotency_key="one").case == case
    assert Case.objects.count() == 1


def test_the_emergency_contact_number_is_revealed_once_with_its_purpose(users):
    resident = users[Role.RESIDENT]
    person = resident.person
    person.emergency_contact_name, person.emergency_contact_phone = "赵强", "13700001111"
    person.save()
    case = help_call_submit(user=resident, idempotency_key="two", ip_address="10.0.0.9").case
    assert case.caller_phone.reveal() == "13700001111" and "赵强" in case.description
    log = AccessLog.objects.get()
    assert log.actor == resident and log.purpose.startswith("one-tap help") and log.ip_address == "10.0.0.9"
