"""Creating a key in the back-office with a real headless Chromium: shown once, in both languages."""
from pathlib import Path

import pytest
from django.conf import settings

from communitygrid.testing_browser import serious_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_administrator_creates_a_key_and_copies_it_once(page, live_server, city, users, language):
    from communitygrid.accounts.models import Role
    from communitygrid.apikeys.models import ApiKey, Organisation
    from communitygrid.apikeys.services import apikey_authenticate

    Organisation.objects.create(code="hotline", name="12345 市民热线")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    sign_in(page, users[Role.ADMIN].username)
    page.goto("/admin/apikeys/apikey/add/")
    page.select_option("#id_organisation", label="12345 市民热线")
    page.fill("#id_name", "热线工单对接")
    page.check("input[name=scopes][value='cases:read']")
    page.check("input[name=scopes][value='open311']")
    page.select_option("#id_nodes", label=str(city.streets[0]))
    page.fill("#id_rate_limit", "120")
    assert serious_violations(page) == []
    page.click("input[name=_save]")
    message = page.locator(".messagelist .warning").inner_text()
    raw = next(word for word in message.split() if word.startswith("cg_"))
    assert apikey_authenticate(raw) == ApiKey.objects.get()
    assert ("只显示这一次" if language == "zh-hans" else "shown only this once") in message
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"apikey-created-{language}.png"), full_page=True)
    page.reload()
    assert raw not in page.content()  # once means once
