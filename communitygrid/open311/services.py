"""Posting a service request: checked whole, then one normal case through ``case_submit``.

Everything is validated before anything is written (location inside the key's areas,
attributes against their definitions), and the case and its Open311 record are written in one
transaction, so a refused request leaves nothing behind. A retried POST (same key, same body,
or the same ``Idempotency-Key`` header) returns the first request instead of a second case.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _

from communitygrid.accounts.scopes import covers
from communitygrid.apikeys.models import ApiKey
from communitygrid.cases.errors import CaseError
from communitygrid.cases.models import Case, Category, Channel
from communitygrid.cases.services import DESCRIPTION_MAX, case_submit
from communitygrid.core.sql import keyed
from communitygrid.geo.models import Node
from communitygrid.open311.errors import Open311Error
from communitygrid.open311.formats import parse_w3c
from communitygrid.open311.models import Datatype, Open311Request, ServiceAttribute
from communitygrid.open311.selectors import service_attributes
from communitygrid.registry.models import Building

ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,48})\](\[\])?$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{2,24}$")
TEXT_MAX = {Datatype.STRING: 300, Datatype.TEXT: 2000}
# A retry across midnight (UTC) still finds the first request within this time.
RETRY_WINDOW = dt.timedelta(hours=1)
# Parameters that make two POSTs "the same request" for a retry; api_key is not one of them.
IGNORED_FOR_IDENTITY = {"api_key", "jurisdiction_id"}


@dataclass
class Posted:
    case: Case
    token: str
    created: bool
    account_id: str


def _text(data, name: str, limit: int) -> str:
    value = (data.get(name) or "").strip()
    if len(value) > limit:
        raise Open311Error(400, _("%(name)s is longer than %(n)d characters.") % {"name": name, "n": limit})
    return value


@dataclass(frozen=True)
class _Where:
    grid: Node
    lon: float | None = None
    lat: float | None = None
    building: Building | None = None


def _locate(data) -> _Where:
    from communitygrid.geo.selectors import locate

    lat, lon = (data.get("lat") or "").strip(), (data.get("long") or "").strip()
    if lat or lon:
        try:
            lat_f, lon_f = float(lat), float(lon)
        except ValueError:
            raise Open311Error(400, _("lat and long must both be given, as decimal degrees."))
        if not (math.isfinite(lat_f) and math.isfinite(lon_f) and -90 <= lat_f <= 90 and -180 <= lon_f <= 180):
            raise Open311Error(400, _("lat or long is out of range."))
        grid = locate(lon=lon_f, lat=lat_f)
        if grid is None:
            raise Open311Error(400, _("The point lat %(lat).5f, long %(lon).5f lies outside every grid.")
                               % {"lat": lat_f, "lon": lon_f})
        return _Where(grid, lon=lon_f, lat=lat_f)
    address_id = _text(data, "address_id", 64)
    if address_id:
        building = Building.objects.select_related("grid").filter(code=address_id).first()
        if building is None:
            raise Open311Error(400, _("address_id %(id)s is not a known address.") % {"id": address_id})
        return _Where(building.grid, building=building)
    address = " ".join(_text(data, "address_string", 300).split())
    if address:
        building = (Building.objects.select_related("grid").filter(address=address).order_by("id").first()
                    or Building.objects.select_related("grid").filter(name=address).order_by("id").first())
        if building is None:
            raise Open311Error(400, _("address_string “%(address)s” could not be found; give lat and long or "
                                      "address_id instead.") % {"address": address[:100]})
        return _Where(building.grid, building=building)
    raise Open311Error(400, _("A location is required: lat and long, address_string or address_id."))


def _check_area(key: ApiKey, grid: Node) -> None:
    if not covers(key.user, grid):
        raise Open311Error(403, _("The location lies outside the areas this API key may submit to."))


def _one_attribute(attribute: ServiceAttribute, values: list[str]):
    label = attribute.code
    keys = [choice["key"] for choice in attribute.choices()]
    if attribute.datatype == Datatype.MULTIVALUELIST:
        unknown = [v for v in values if v not in keys]
        if unknown:
            raise Open311Error(400, _("attribute[%(code)s]: %(value)s is not one of %(choices)s.")
                               % {"code": label, "value": unknown[0][:50], "choices": ", ".join(keys)})
        return sorted(set(values))
    if len(values) > 1:
        raise Open311Error(400, _("attribute[%(code)s] takes one value.") % {"code": label})
    value = values[0].strip()
    if attribute.datatype == Datatype.SINGLEVALUELIST:
        if value not in keys:
            raise Open311Error(400, _("attribute[%(code)s]: %(value)s is not one of %(choices)s.")
                               % {"code": label, "value": value[:50], "choices": ", ".join(keys)})
    elif attribute.datatype == Datatype.NUMBER:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise Open311Error(400, _("attribute[%(code)s] must be a number.") % {"code": label})
    elif attribute.datatype == Datatype.DATETIME:
        if parse_w3c(value) is None:
            raise Open311Error(400, _("attribute[%(code)s] must be a W3C date-time such as 2026-01-31T09:00:00+08:00.")
                               % {"code": label})
    elif len(value) > TEXT_MAX.get(attribute.datatype, 300):
        raise Open311Error(400, _("attribute[%(code)s] is longer than %(n)d characters.")
                           % {"code": label, "n": TEXT_MAX.get(attribute.datatype, 300)})
    return value


def check_attributes(category: Category, data) -> dict:
    """The posted ``attribute[code]`` (and ``attribute[code][]``) values, checked against the
    service's definition: unknown codes, missing required ones and wrong values are refused."""
    given: dict[str, list[str]] = {}
    for name in data.keys():
        match = ATTRIBUTE_KEY.match(name)
        if match:
            given.setdefault(match[1], []).extend(v for v in data.getlist(name) if v.strip())
        elif name.startswith("attribute"):
            raise Open311Error(400, _("%(name)s is not an attribute parameter; write attribute[code].")
                               % {"name": name[:60]})
    definitions = {a.code: a for a in service_attributes(category) if a.variable}
    unknown = sorted(set(given) - set(definitions))
    if unknown:
        raise Open311Error(400, _("attribute[%(code)s] is not an attribute of service %(service)s.")
                           % {"code": unknown[0], "service": category.code})
    checked = {}
    for code, attribute in definitions.items():
        values = given.get(code) or []
        if not values:
            if attribute.required:
                raise Open311Error(400, _("attribute[%(code)s] is required for service %(service)s.")
                                   % {"code": code, "service": category.code})
            continue
        checked[code] = _one_attribute(attribute, values)
    return checked


def _describe(description: str, category: Category, attributes: dict) -> str:
    """What the handler reads: the text, then each answer on its own line, in the platform's
    language (the handlers'), whatever language the client asked for."""
    with translation.override(settings.LANGUAGE_CODE):
        return _answers(description, category, attributes)


def _answers(description: str, category: Category, attributes: dict) -> str:
    lines = [description or category.label]
    definitions = {a.code: a for a in service_attributes(category)}
    for code, value in attributes.items():
        attribute = definitions[code]
        names = {c["key"]: c["name"] for c in attribute.choices()}
        # The list separator and the question's colon as the platform's language writes them
        # (Chinese: "、" and "："); the question's own mark gives way to the colon.
        if isinstance(value, list):
            parts = [str(names.get(v, v)) for v in value]
            answer = parts[0] if parts else ""
            for part in parts[1:]:
                answer = _("%(first)s, %(next)s") % {"first": answer, "next": part}
        else:
            answer = names.get(value, value)
        question = str(attribute.label).rstrip("?？:： ")
        lines.append(_("%(question)s: %(answer)s") % {"question": question, "answer": answer})
    return "\n".join(lines)


def _identity(data, header_key: str, now: dt.datetime) -> list[str]:
    """Idempotency keys for this POST: the client's, or today's and yesterday's digest of the body."""
    if header_key:
        return ["h-" + hashlib.sha256(header_key.encode()).hexdigest()[:60]]
    items = sorted((name, value) for name in data.keys() if name not in IGNORED_FOR_IDENTITY
                   for value in data.getlist(name))
    digest = hashlib.sha256(repr(items).encode()).hexdigest()[:60]
    today = now.date()
    return [f"b-{digest}-{day:%Y%m%d}" for day in (today, today - dt.timedelta(days=1))]


def request_post(*, key: ApiKey, data, idempotency_key: str = "") -> Posted:
    """Post a service request as ``key``; Open311Error (400/403) says what is wrong, and then
    nothing was written."""
    now = timezone.now()
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > 200:
        raise Open311Error(400, _("The Idempotency-Key header is longer than 200 characters."))
    identities = _identity(data, idempotency_key, now)
    # keyed(): the partial unique index on the key, even under a prepared statement's generic plan.
    earlier = (Case.objects.filter(keyed(), submitted_by=key.user, channel=Channel.OPEN311,
                                   idempotency_key__in=identities, created_at__gte=now - RETRY_WINDOW)
               .select_related("open311").order_by("id").first())
    if earlier is None and len(identities) == 1:
        earlier = Case.objects.filter(keyed(), submitted_by=key.user, channel=Channel.OPEN311,
                                      idempotency_key=identities[0]).select_related("open311").first()
    if earlier is not None:
        return Posted(earlier, earlier.open311.token, False, earlier.open311.account_id)

    code = _text(data, "service_code", 48)
    if not code:
        raise Open311Error(400, _("service_code was not provided."))
    category = Category.objects.filter(code=code, is_active=True, parent__isnull=False).first()
    if category is None:
        raise Open311Error(400, _("service_code %(code)s was not found.") % {"code": code})
    where = _locate(data)
    _check_area(key, where.grid)
    attributes = check_attributes(category, data)
    description = _describe(_text(data, "description", 4000), category, attributes)
    if len(description) > DESCRIPTION_MAX:
        raise Open311Error(400, _("description and attributes together are longer than %(n)d characters.")
                           % {"n": DESCRIPTION_MAX})
    media_url = _text(data, "media_url", 500)
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise Open311Error(400, _("media_url must be an http or https URL."))
    phone = _text(data, "phone", 30)
    if phone and not PHONE.match(phone):
        raise Open311Error(400, _("phone may hold only digits, spaces, dashes and a leading +."))
    caller = " ".join(filter(None, [_text(data, "first_name", 50), _text(data, "last_name", 50)]))
    account_id, device_id = _text(data, "account_id", 100), _text(data, "device_id", 100)
    address_id = _text(data, "address_id", 64) if where.building else ""
    address_string = " ".join(_text(data, "address_string", 300).split())

    try:
        with transaction.atomic():
            result = case_submit(
                submitted_by=key.user, channel=Channel.OPEN311, category_code=category.code, description=description,
                lon=where.lon, lat=where.lat, building_id=where.building.pk if where.building else None,
                idempotency_key=identities[0], caller_name=caller, caller_phone=phone,
            )
            if not result.created:
                extra = Open311Request.objects.get(case=result.case)
                return Posted(result.case, extra.token, False, extra.account_id)
            extra = Open311Request.objects.create(
                case=result.case, key=key, token=secrets.token_hex(16), address_string=address_string,
                address_id=address_id, media_url=media_url, attributes=attributes, account_id=account_id,
                device_id=device_id,
            )
    except CaseError as error:
        raise Open311Error(403 if error.status == 403 else 400, error.message)
    return Posted(result.case, extra.token, True, account_id)
