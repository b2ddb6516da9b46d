"""System notes of the record (tier and routing reasons, escalation, default close) read in the
reader's language, whatever the language they were written in."""
import datetime as dt

import pytest
from django.utils import translation

from communitygrid.accounts.models import Role
from communitygrid.cases import services, wording
from communitygrid.cases.models import CaseEvent
from communitygrid.cases.selectors import case_timeline
from communitygrid.notifications.kinds import moment
from communitygrid.testing import make_user


def notes(user, case) -> dict[str, str]:
    return {row["action"]: row["note"] for row in case_timeline(user=user, case=case)}


def test_tier_and_routing_reasons_written_in_chinese_read_in_english_and_back(people, submit):
    with translation.override("zh-hans"):
        case = submit(description="闻到燃气味").case
    stored = {event.action: event.note for event in CaseEvent.objects.filter(case=case)}
    assert stored["submit"].startswith("类别默认") and "网格员中在办诉求最少" in stored["dispatch"]
    with translation.override("en"):
        english = notes(people.worker, case)
    assert english["submit"].startswith("category default: ") and "; danger word “燃气”" in english["submit"]
    assert "；危险关键词" in stored["submit"] and "; " not in stored["submit"]  # each language's own punctuation
    assert "has the fewest open cases among the 2 grid workers of grid" in english["dispatch"]
    assert str(case.assignee) in english["dispatch"]
    with translation.override("zh-hans"):
        chinese = notes(people.worker, case)
    assert chinese["dispatch"] == stored["dispatch"] and chinese["submit"] == stored["submit"]

    with translation.override("en"):
        case = submit(description="another thing", lon=120.005, lat=30.015).case
    with translation.override("zh-hans"):
        assert "网格员中在办诉求最少" in notes(people.worker, case)["dispatch"]


def test_a_redispatch_keeps_the_staff_note_as_typed_and_words_the_reason_for_the_reader(people, submit):
    case = submit().case
    staff = people.community
    with translation.override("zh-hans"):
        services.case_redispatch(case=case, actor=staff, assignee=people.worker2, note="他更熟悉这栋楼")
    with translation.override("en"):
        note = notes(staff, case)["redispatch"]
    assert note == f"他更熟悉这栋楼 Chosen by {staff}."


def test_escalation_and_default_close_read_in_the_readers_language(people, submit):
    case = submit().case
    later = case.respond_by + dt.timedelta(minutes=1)
    services.case_escalate_overdue(case=case, now=later)
    case.refresh_from_db()
    with translation.override("en"):
        note = notes(people.community, case)["escalate"]
        assert note == f"no one responded by {moment(case.respond_by.isoformat())}"
    with translation.override("zh-hans"):
        chinese = notes(people.community, case)["escalate"]
        assert chinese == f"{moment(case.respond_by.isoformat())} 前无人响应"


def test_the_moment_of_an_escalation_reads_in_the_form_of_the_readers_language():
    why = {"why": [{"code": "escalate_not_resolved", "params": {"at": "2026-12-08T01:30:00+00:00"}}]}
    with translation.override("en"):
        assert wording.render(why) == "not resolved by Dec. 8, 2026 09:30"  # Asia/Shanghai
    with translation.override("zh-hans"):
        assert wording.render(why) == "2026年12月8日 09:30 前未办结"


def test_a_note_that_cannot_be_worded_shows_its_stored_text(people, submit):
    case = submit().case
    event = CaseEvent.objects.get(case=case, action="dispatch")
    assert wording.render({"why": [{"code": "from_a_later_release", "params": {}}]}) is None
    assert wording.render({"why": [{"code": "route_grid_fewest", "params": {"person": 10**9}}]}) is None
    assert wording.render({}) is None and wording.render(None) is None
    assert wording.render({"why": "not a list"}) is None
    with pytest.raises(KeyError):
        wording.Note().add("no_such_code")
    # An event whose parts are gone (written by an older release, say) shows its stored text.
    assert wording.render({**event.data, "why": [{"code": "gone", "params": {}}]}) is None


def test_residents_still_see_no_routing_reasons(people, submit):
    case = submit().case
    assert notes(people.resident, case)["dispatch"] == ""


def test_every_wording_has_a_chinese_translation():
    with translation.override("zh-hans"):
        for code, message in wording.MESSAGES.items():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in str(message)), code


@pytest.mark.django_db
def test_special_care_groups_are_named_in_the_readers_language_and_list_punctuation():
    from communitygrid.registry.models import CareTag

    tags = [CareTag.objects.create(code="t_empty_nest", name="空巢老人", name_en="Empty-nest elderly"),
            CareTag.objects.create(code="t_alone", name="独居老人", name_en="Living alone")]
    with translation.override("zh-hans"):
        note = wording.Note().add("tier_care_group", groups=tags)
    assert note.parts[0]["params"]["groups"] == ["t_empty_nest", "t_alone"]  # codes, not words
    assert note.text == "诉求人属于重点关爱人群：空巢老人、独居老人"
    with translation.override("en"):
        assert (wording.render({"why": note.parts}, action="submit")
                == "reporter in a special-care group: Empty-nest elderly, Living alone")
    # A note written before codes were stored keeps its names.
    old = wording.Note().add("tier_care_group", groups=["空巢老人"]).parts
    with translation.override("en"):
        assert wording.render({"why": old}, action="submit") == "reporter in a special-care group: 空巢老人"
