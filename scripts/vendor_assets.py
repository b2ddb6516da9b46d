#!/usr/bin/env python3
"""Fetch the front-end libraries from the npm registry into communitygrid/core/static/vendor/.

Only Python is needed (no Node.js): versions and sha512 integrity come from the committed
frontend/package-lock.json; each tarball is downloaded once (cached under .venv/vendor-cache),
verified against its integrity hash, and only the files the pages use are extracted. Pages then
serve them from our own origin, so the platform works offline on a closed network.

Set NPM_REGISTRY to use a mirror (default https://registry.npmjs.org).
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "frontend" / "package-lock.json"
DEST = ROOT / "communitygrid" / "core" / "static" / "vendor"
CACHE = ROOT / ".venv" / "vendor-cache"

# package -> files (or directories) inside the package to copy, relative to "package/".
WANTED = {
    "htmx.org": ["dist/htmx.min.js"],
    "leaflet": ["dist/leaflet.js", "dist/leaflet.css", "dist/images"],
    "echarts": ["dist/echarts.min.js"],
}


def tarball_url(name: str, version: str) -> str:
    registry = os.environ.get("NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    base = name.split("/")[-1]
    return f"{registry}/{name}/-/{base}-{version}.tgz"


def fetch(name: str, entry: dict) -> bytes:
    version, integrity = entry["version"], entry["integrity"]
    algo, _, expected = integrity.partition("-")
    cached = CACHE / f"{name.replace('/', '_')}-{version}.tgz"
    if cached.exists():
        data = cached.read_bytes()
    else:
        url = entry.get("resolved") or tarball_url(name, version)
        with urllib.request.urlopen(url, timeout=120) as resp:
            data = resp.read()
    digest = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{name}@{version}: integrity mismatch (expected {integrity})")
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    return data


def main() -> int:
    lock = json.loads(LOCK.read_text())["packages"]
    stamp = DEST / ".stamp"
    want_stamp = hashlib.sha256(LOCK.read_bytes() + json.dumps(WANTED).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == want_stamp:
        return 0
    if DEST.exists():
        shutil.rmtree(DEST)
    for name, paths in WANTED.items():
        entry = lock[f"node_modules/{name}"]
        data = fetch(name, entry)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                rel = member.name.split("/", 1)[1] if "/" in member.name else member.name
                if not member.isfile() or not any(rel == p or rel.startswith(p + "/") for p in paths):
                    continue
                target = DEST / name / rel.removeprefix("dist/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())
        print(f"vendor: {name}@{entry['version']}", file=sys.stderr)
    stamp.write_text(want_stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
