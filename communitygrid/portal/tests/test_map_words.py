"""The maps' zoom buttons speak the page's language (found walking the demo: Leaflet's English
"Zoom in"/"Zoom out" titles on Chinese pages)."""
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from communitygrid.accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language, zoom_in, zoom_out", [("zh-hans", "放大", "缩小"), ("en", "Zoom in", "Zoom out")])
def test_the_request_form_hands_its_map_translated_zoom_titles(resident_client, language, zoom_in, zoom_out):
    resident_client.cookies["cg_language"] = language
    body = resident_client.get(reverse("portal:new")).content.decode()
    assert f'data-msg-zoom-in="{zoom_in}"' in body and f'data-msg-zoom-out="{zoom_out}"' in body


@pytest.mark.parametrize("language, zoom_in, zoom_out", [("zh-hans", "放大", "缩小"), ("en", "Zoom in", "Zoom out")])
def test_the_cockpit_hands_its_map_translated_zoom_titles(client, users, language, zoom_in, zoom_out):
    client.force_login(users[Role.LEADER])
    client.cookies["cg_language"] = language
    body = client.get(reverse("insights:cockpit")).content.decode()
    assert f'data-zoom-in="{zoom_in}"' in body and f'data-zoom-out="{zoom_out}"' in body


@pytest.mark.parametrize("script, title", [("portal/portal.js", 't("zoom-in")'),
                                           ("insights/cockpit.js", "mapBox.dataset.zoomIn")])
def test_the_scripts_replace_leaflet_s_english_zoom_control(script, title):
    source = Path(finders.find(script)).read_text(encoding="utf-8")
    assert "zoomControl: false" in source and "L.control.zoom(" in source and title in source
