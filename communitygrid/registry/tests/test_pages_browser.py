"""Registry pages in a real browser: axe-core finds no serious problem, the reveal works by keyboard."""
import pytest

from communitygrid.accounts.models import Role
from communitygrid.registry.models import Person
from communitygrid.testing_browser import serious_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_registry_pages_pass_axe_in_both_languages(page, users, city, language):
    worker = users[Role.GRID_WORKER]
    sign_in(page, worker.username)
    page.context.add_cookies([{"name": "cg_language", "value": language, "url": page.url}])
    person = Person.objects.filter(grid=city.grids[0]).order_by("id").first()
    building_id = person.household.room.unit.building_id
    for path in ("/registry/persons/", f"/registry/persons/{person.pk}/",
                 f"/registry/households/{person.household_id}/", "/registry/buildings/",
                 f"/registry/buildings/{building_id}/"):
        page.goto(path)
        assert page.locator("h1").count() == 1, path
        assert serious_violations(page) == [], path


def test_reveal_by_keyboard_shows_the_values_once(page, users, city):
    worker = users[Role.GRID_WORKER]
    person = Person.objects.filter(grid=city.grids[0]).order_by("id").first()
    sign_in(page, worker.username)
    page.goto(f"/registry/persons/{person.pk}/")
    assert person.phone.reveal() not in page.content()
    phone_box = page.locator("input[name=fields][value=phone]")
    phone_box.focus()
    page.keyboard.press("Space")
    page.locator("textarea[name=purpose]").focus()
    page.keyboard.type("入户走访核实联系方式")
    page.keyboard.press("Tab")
    with page.expect_navigation(url=f"**/registry/persons/{person.pk}/reveal"):
        page.keyboard.press("Enter")
    assert person.phone.reveal() in page.locator("main").inner_text()
    assert serious_violations(page) == []
    page.goto(f"/registry/persons/{person.pk}/")
    assert person.phone.reveal() not in page.content()


@pytest.mark.parametrize("elder", [False, True])
def test_the_reveal_check_boxes_sit_beside_their_labels(page, users, city, elder):
    """Found walking the demo: each box was a full-width input with its label on a line below."""
    worker = users[Role.GRID_WORKER]
    person = Person.objects.filter(grid=city.grids[0]).order_by("id").first()
    sign_in(page, worker.username)
    if elder:
        page.context.add_cookies([{"name": "cg_elder", "value": "1", "url": page.url}])
    page.goto(f"/registry/persons/{person.pk}/")
    box = page.locator("input[name=fields][value=phone]").bounding_box()
    label = page.locator("label[for=%s]" % page.locator("input[name=fields][value=phone]").get_attribute("id"))
    text = label.bounding_box()
    assert box["width"] <= 64 and box["height"] <= 64  # was the full width of the form
    assert abs((box["y"] + box["height"] / 2) - (text["y"] + text["height"] / 2)) < 12  # on the same line


@pytest.mark.parametrize(("language", "elder"), [("zh-hans", False), ("en", True)])
def test_the_resident_household_pages_pass_axe(page, users, city, language, elder):
    from communitygrid.testing import make_user

    resident = users[Role.RESIDENT]
    sign_in(page, resident.username)
    page.context.add_cookies([{"name": "cg_language", "value": language, "url": page.url},
                              {"name": "cg_elder", "value": "1" if elder else "0", "url": page.url}])
    page.goto("/registry/households/mine/")
    assert page.url.endswith(f"/registry/households/{resident.person.household_id}/")
    assert page.locator("table[aria-labelledby=h-members] tbody tr").count() == 2
    assert serious_violations(page) == []
    alone = make_user(Role.RESIDENT, person=Person.objects.create(grid=city.grids[0], name="赵独", gender="M",
                                                                  birth_date="1980-01-01"))
    page.context.clear_cookies()
    sign_in(page, alone.username)
    page.goto("/registry/households/mine/")
    assert page.locator("h1").count() == 1 and page.locator("[role=status]").count() >= 1
    assert serious_violations(page) == []
