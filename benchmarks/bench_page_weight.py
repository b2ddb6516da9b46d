"""Page weight of the resident portal's submit page, measured in real (headless) Chromium.

Builds the test city in a throw-away SQLite data directory, signs in a resident with a home,
serves the project with waitress (as the demo does: static files through WhiteNoise from the
apps) and loads ``/portal/new/`` in /usr/bin/chromium. Every response is counted with its
headers and body as they crossed the wire (Playwright ``request.sizes()``), split by kind;
images and fonts are reported but not counted towards the target (HTML + CSS + JS < 200 KB).

Variants: zh-Hans, English, elder mode; and the same page after "Show the map" (Leaflet and
the grid outlines load only then). Each is also timed on an emulated slow phone connection
(400 kbit/s down, 400 ms round trip: Chrome DevTools' "Slow 3G").

    .venv/bin/python benchmarks/bench_page_weight.py [--port N]
"""
from __future__ import annotations

import argparse
import gzip
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = tempfile.mkdtemp(prefix="cg-bench-weight-")
ENV = {**os.environ, "DJANGO_SETTINGS_MODULE": "communitygrid.settings", "CG_DEV_SECRETS": "1", "CG_DATA_DIR": DATA,
       "CG_LOG_LEVEL": "ERROR", "DATABASE_URL": f"sqlite:///{DATA}/bench.sqlite3"}
os.environ.update(ENV)
TARGET = 200 * 1024
COUNTED = {"document", "stylesheet", "script", "fetch", "xhr"}
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1024 / 8, "uploadThroughput": 400 * 1024 / 8}


def prepare() -> str:
    """Migrate, build the city, a resident with a home; return the resident's session key."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from communitygrid.accounts.models import Role
    from communitygrid.testing import build_city, make_household, make_user

    call_command("migrate", interactive=False, verbosity=0)
    Path(DATA, "static").mkdir(exist_ok=True)
    city = build_city()
    household = make_household(city.grids[0])
    for grid in city.grids:
        make_user(Role.GRID_WORKER, scope=[grid])
    resident = make_user(Role.RESIDENT, person=household.members.first())
    client = Client()
    client.force_login(resident)
    return client.cookies["sessionid"].value


def serve(port: int) -> subprocess.Popen:
    code = ("import django; django.setup();"
            "from django.core.wsgi import get_wsgi_application; from waitress import serve;"
            f"serve(get_wsgi_application(), host='127.0.0.1', port={port}, threads=4)")
    process = subprocess.Popen([sys.executable, "-c", code], env=ENV, cwd=ROOT)
    for _ in range(100):
        if process.poll() is not None:
            raise SystemExit(f"the server did not start on port {port}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def measure(browser, base: str, session: str, *, language: str, elder: bool, open_map: bool, slow: bool) -> dict:
    context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844}, locale="zh-CN")
    cookies = [{"name": "sessionid", "value": session, "url": base},
               {"name": "cg_language", "value": language, "url": base}]
    if elder:
        cookies.append({"name": "cg_elder", "value": "1", "url": base})
    context.add_cookies(cookies)
    page = context.new_page()
    if slow:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    rows = []
    page.on("requestfinished", lambda request: rows.append(request))
    started = time.perf_counter()
    response = page.goto("/portal/new/", wait_until="load")
    assert response.status == 200 and "/portal/new/" in page.url, page.url
    loaded = time.perf_counter() - started
    map_seconds = None
    if open_map:
        started = time.perf_counter()
        page.click("#open-map")
        page.wait_for_selector("#map .leaflet-interactive", timeout=120_000)
        map_seconds = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    by_kind: dict[str, int] = {}
    gzipped = 0
    for request in rows:
        sizes = request.sizes()
        kind = request.resource_type
        by_kind[kind] = by_kind.get(kind, 0) + sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if kind in COUNTED and request.response() is not None:
            # What the same body would weigh gzip-compressed (level 6), had the server compressed it.
            gzipped += len(gzip.compress(request.response().body(), 6)) + sizes["responseHeadersSize"]
    context.close()
    counted = sum(n for kind, n in by_kind.items() if kind in COUNTED)
    return {"by_kind": by_kind, "counted": counted, "requests": len(rows), "load_s": loaded, "map_s": map_seconds,
            "gzipped": gzipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port to serve on (default: a free one)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from communitygrid.testing_browser import CHROMIUM, CHROMIUM_ARGS

    session = prepare()
    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    server = serve(args.port)
    base = f"http://127.0.0.1:{args.port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"{'variant':38} {'HTML+CSS+JS':>12} {'images/fonts':>12} {'requests':>8} {'load (fast)':>11} "
                  f"{'load (slow 3G)':>14}")
            for language, elder, open_map in [("zh-hans", False, False), ("en", False, False), ("zh-hans", True, False),
                                              ("zh-hans", False, True)]:
                fast = measure(browser, base, session, language=language, elder=elder, open_map=open_map, slow=False)
                slow = measure(browser, base, session, language=language, elder=elder, open_map=open_map, slow=True)
                other = sum(n for kind, n in fast["by_kind"].items() if kind not in COUNTED)
                name = f"{language}{' elder' if elder else ''}{' + map opened' if open_map else ''}"
                slow_text = f"{slow['load_s']:.2f} s" + (f" + map {slow['map_s']:.1f} s" if open_map else "")
                print(f"{name:38} {fast['counted'] / 1024:10.1f} KB {other / 1024:9.1f} KB {fast['requests']:8d} "
                      f"{fast['load_s']:9.2f} s {slow_text:>14}  {'MET' if fast['counted'] < TARGET else 'NOT MET'}")
                print("    " + ", ".join(f"{kind} {n / 1024:.1f} KB" for kind, n in sorted(fast["by_kind"].items())))
                print(f"    gzip-compressed, the same responses would weigh {fast['gzipped'] / 1024:.1f} KB")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(DATA, ignore_errors=True)


if __name__ == "__main__":
    main()
