"""The spec's wire formats: W3C datetimes (with the offset), JSON and XML bodies, parsing dates."""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
import zoneinfo
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

# The element name of each item of a list, by the list's name (the spec's XML shapes).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
}


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def w3c(moment: dt.datetime | None) -> str | None:
    """``2026-11-29T22:50:00+08:00``: local time (the deployment's zone) with its offset.

    The zone is looked up once, not per call through ``timezone.localtime``: a page holds
    3,000 datetimes and the per-call lookup was a third of its time."""
    if moment is None:
        return None
    return moment.astimezone(_zone(settings.TIME_ZONE)).isoformat(timespec="seconds")


def parse_w3c(text: str) -> dt.datetime | None:
    """A W3C date or datetime as an aware datetime; None if it is not one. A datetime without
    an offset is read in the deployment's time zone; a bare date is its local midnight."""
    text = (text or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is None:
                return None
            moment = dt.datetime.combine(day, dt.time())
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


# Characters XML 1.0 cannot carry at all (a resident's text may hold them).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(NOT_XML.sub("", str(value)))


def _append(out: list[str], tag: str, value) -> None:
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, item in value.items():
            _append(out, key, item)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        item_tag = ITEM_TAGS.get(tag, "item")
        out.append(f"<{tag}>")
        for item in value:
            _append(out, item_tag, item)
        out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}>{_text(value)}</{tag}>")


def to_xml(root: str, body) -> bytes:
    """``body`` (a list or a dict) under ``<root>``, lists itemised by ITEM_TAGS. Written as
    text (tags are our own field names; values escaped): a tree of elements cost more than
    the query on a page of 1,000."""
    out = ['<?xml version="1.0" encoding="utf-8"?>\n']
    _append(out, root, body)
    return "".join(out).encode()


def to_json(body) -> bytes:
    return json.dumps(body, ensure_ascii=False, cls=DjangoJSONEncoder).encode()
