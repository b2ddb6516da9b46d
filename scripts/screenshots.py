#!/usr/bin/env python3
"""Screenshots of the sign-in page and every demo role's home page, to look at before a release.

Starts a small demo city (``communitygrid demo --scale 0.05``) in a throw-away data directory,
signs in as each demo account with the system's headless Chromium and writes PNGs into
./screenshots/: ``<page>-zh.png`` and ``<page>-en.png`` at desktop width, ``<page>-elder.png``
in elder mode at phone width, and the back-office index in its default language.

Usage: .venv/bin/python scripts/screenshots.py [--out DIR] [--keep-data DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).with_name("communitygrid")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
PASSWORD = "grid-demo-2025"
ACCOUNTS = ["demo-resident", "demo-worker", "demo-gridleader", "demo-community", "demo-street",
            "demo-district", "demo-department", "demo-leader", "demo-admin"]
MODES = {
    "zh": {"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}, "cookies": {}},
    "en": {"locale": "en-US", "viewport": {"width": 1280, "height": 900}, "cookies": {"cg_language": "en"}},
    "elder": {"locale": "zh-CN", "viewport": {"width": 390, "height": 844}, "cookies": {"cg_elder": "1"}},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the demo server stopped:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if json.load(response).get("status") == "ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the demo server did not answer in time")


def shoot(base: str, out: Path) -> list[Path]:
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for mode, setup in MODES.items():
            context = browser.new_context(base_url=base, locale=setup["locale"], viewport=setup["viewport"])
            context.add_cookies([{"name": k, "value": v, "url": base} for k, v in setup["cookies"].items()])
            page = context.new_page()
            page.goto("/accounts/login/")
            written.append(out / f"sign-in-{mode}.png")
            page.screenshot(path=written[-1], full_page=True)
            for username in ACCOUNTS:
                page.goto("/accounts/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", PASSWORD)
                page.click("form.card button[type=submit]")
                page.wait_for_url(lambda url: url.rstrip("/") == base)
                written.append(out / f"{username.removeprefix('demo-')}-{mode}.png")
                page.screenshot(path=written[-1], full_page=True)
                if username == "demo-admin" and mode == "zh":
                    page.goto("/admin/")
                    written.append(out / "back-office-zh.png")
                    page.screenshot(path=written[-1], full_page=True)
                context.clear_cookies()
                context.add_cookies([{"name": k, "value": v, "url": base} for k, v in setup["cookies"].items()])
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="where the PNGs go (default ./screenshots)")
    parser.add_argument("--keep-data", help="use (and keep) this data directory instead of a temporary one")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.keep_data) if args.keep_data else Path(tempfile.mkdtemp(prefix="cg-screenshots-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CG_DATA_DIR"}}
    server = subprocess.Popen(
        [str(COMMAND), "demo", "--scale", "0.05", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    try:
        wait_until_up(base, server)
        for path in shoot(base, out):
            print(path)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
