"""/api/docs renders in a real browser that may not reach anything but our own server."""
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_render_with_no_outside_network(page, live_server):
    outside = []

    def only_our_origin(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_our_origin)
    page.goto("/api/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/cases/" in path for path in paths)
    assert any("/api/v1/webhooks/endpoints" in path for path in paths)
    page.screenshot(path="screenshots/api-docs.png", full_page=False)
    assert outside == []
