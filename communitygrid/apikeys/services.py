"""Every write about API keys: create (shown once), revoke, authenticate, count, log."""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from communitygrid.accounts.models import Role, User
from communitygrid.accounts.services import binding_errors
from communitygrid.apikeys.errors import BadKey, MissingScope, RateLimited
from communitygrid.apikeys.models import ApiKey, ApiKeyRateWindow, ApiKeyUse, Organisation, Scope
from communitygrid.geo.models import Level, Node

KEY_START = "cg_"
# The service account's role follows the level of the key's nodes: it sees that subtree's
# cases the way staff of that level do. Grid keys are grid *leaders*, so that dispatch (which
# picks grid workers) never hands a case to a key.
ROLE_FOR_LEVEL = {
    Level.DISTRICT: Role.DISTRICT_STAFF,
    Level.STREET: Role.STREET_STAFF,
    Level.COMMUNITY: Role.COMMUNITY_STAFF,
    Level.GRID: Role.GRID_LEADER,
    Level.MICROGRID: Role.GRID_LEADER,
}
MAX_RATE_LIMIT = 100_000


def key_hash(raw: str) -> str:
    # Keys are 190 random bits: a fast hash is enough, no stretching needed (unlike passwords).
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    plaintext: str  # shown once, never stored


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_system_admin:
        raise ValidationError(_("Only a system administrator may create or revoke API keys."))


def apikey_validate(*, organisation: Organisation | None, name: str, scopes: list[str], nodes: list[Node],
                    rate_limit) -> str:
    """The service account's role for a key like this; ValidationError names each bad field."""
    errors: dict[str, list[str]] = {}
    role = None
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the key a name (what system uses it).")]
    elif len(name) > 100:
        errors["name"] = [_("The name is longer than 100 characters.")]
    if organisation is None:
        errors["organisation"] = [_("Choose the organisation that holds the key.")]
    elif not organisation.is_active:
        errors["organisation"] = [_("%(organisation)s is not active.") % {"organisation": organisation}]
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown:
        errors["scopes"] = [_("Unknown scope(s): %(scopes)s. Choose from: %(choices)s.")
                            % {"scopes": ", ".join(unknown), "choices": ", ".join(Scope.values)}]
    elif not scopes:
        errors["scopes"] = [_("Grant the key at least one scope.")]
    if isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or not 1 <= rate_limit <= MAX_RATE_LIMIT:
        errors["rate_limit"] = [_("The rate limit must be a whole number of requests per minute from 1 to %(max)d.")
                                % {"max": MAX_RATE_LIMIT}]
    levels = {node.level for node in nodes}
    if not nodes:
        errors["nodes"] = [_("Bind the key to at least one area (a hierarchy node).")]
    elif len(levels) > 1:
        errors["nodes"] = [_("All areas of one key must be at the same level.")]
    elif next(iter(levels)) not in ROLE_FOR_LEVEL:
        errors["nodes"] = [_("A key is bound to a district, street, community or grid, not a %(level)s.")
                           % {"level": Level(next(iter(levels))).label}]
    else:
        role = ROLE_FOR_LEVEL[next(iter(levels))]
        for messages in binding_errors(role=role, scope_nodes=list(nodes), department=None).values():
            errors.setdefault("nodes", []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return role


def apikey_create(*, organisation: Organisation, name: str, scopes: list[str], nodes: list[Node],
                  rate_limit: int = 60, actor: User | None) -> NewKey:
    """Create a key and its service account; ValidationError names each bad field. The
    plaintext is returned once and never stored (only its SHA-256 and prefix are)."""
    _require_admin(actor)
    role = apikey_validate(organisation=organisation, name=name, scopes=scopes, nodes=nodes, rate_limit=rate_limit)
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(4)
            if not ApiKey.objects.filter(prefix=prefix).exists():
                break
        plaintext = f"{KEY_START}{prefix}_{secrets.token_urlsafe(24)}"
        return _write(organisation=organisation, name=name, scopes=scopes, nodes=nodes, rate_limit=rate_limit,
                      actor=actor, role=role, prefix=prefix, plaintext=plaintext)


# What apikey_create makes: "cg_", 8 hex digits (the prefix), "_", 32 URL-safe characters (190 bits).
KEY_SHAPE = re.compile(r"^cg_([0-9a-f]{8})_[A-Za-z0-9_-]{32}$")


def apikey_create_published(*, plaintext: str, organisation: Organisation, name: str, scopes: list[str],
                            nodes: list[Node], rate_limit: int = 60) -> NewKey:
    """A key whose plaintext is already public: for the demo city only (``core.demo.build``
    prints it like the demo passwords). Checked and stored exactly as ``apikey_create``'s
    keys, and verified by the same hash lookup; only the plaintext is the caller's."""
    match = KEY_SHAPE.match(plaintext)
    if match is None:
        raise ValueError("a published key must have the shape of a generated one")
    role = apikey_validate(organisation=organisation, name=name, scopes=scopes, nodes=nodes, rate_limit=rate_limit)
    with transaction.atomic():
        return _write(organisation=organisation, name=name, scopes=scopes, nodes=nodes, rate_limit=rate_limit,
                      actor=None, role=role, prefix=match[1], plaintext=plaintext)


def _write(*, organisation: Organisation, name: str, scopes: list[str], nodes: list[Node], rate_limit: int,
           actor: User | None, role: str, prefix: str, plaintext: str) -> NewKey:
    name = name.strip()
    user = User(username=f"apikey-{prefix}", role=role, display_name=f"{organisation.name} · {name}"[:100])
    user.set_unusable_password()
    user.save()
    user.scope_nodes.set(nodes)
    key = ApiKey.objects.create(
        organisation=organisation, name=name, prefix=prefix, key_hash=key_hash(plaintext),
        scopes=sorted(set(scopes)), rate_limit=rate_limit, user=user, created_by=actor,
    )
    return NewKey(key, plaintext)


def apikey_revoke(*, key: ApiKey, actor: User | None, reason: str = "") -> ApiKey:
    """Revoke at once: the key stops working and its service account is disabled."""
    _require_admin(actor)
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor, revoke_reason=(reason or "").strip()[:200])
        if updated:
            User.objects.filter(pk=key.user_id).update(is_active=False)
    key.refresh_from_db()
    return key


def apikey_lookup(raw: str | None) -> ApiKey | None:
    raw = (raw or "").strip()
    if not raw.startswith(KEY_START) or len(raw) > 200:
        return None
    return ApiKey.objects.select_related("user", "organisation").filter(key_hash=key_hash(raw)).first()


def apikey_check(key: ApiKey | None) -> ApiKey:
    """``key`` if it may be used now, else BadKey saying why (unknown, revoked, disabled)."""
    if key is None:
        raise BadKey(_("The API key is not valid."))
    if key.is_revoked:
        raise BadKey(_("This API key (%(prefix)s…) was revoked on %(date)s.")
                     % {"prefix": key.prefix, "date": date_format(timezone.localtime(key.revoked_at), "DATETIME_FORMAT")})
    if not key.organisation.is_active:
        raise BadKey(_("The organisation holding this API key is not active."))
    if not key.user.is_active:
        raise BadKey(_("This API key's service account is disabled."))
    return key


def apikey_authenticate(raw: str | None) -> ApiKey:
    return apikey_check(apikey_lookup(raw))


def apikey_require_scope(key: ApiKey, scope: str) -> None:
    if not key.has_scope(scope):
        raise MissingScope(_("This API key was not granted the scope “%(scope)s”.") % {"scope": scope})


def _count_up(key: ApiKey, minute: int) -> int | None:
    """The minute's count after adding one, or None if the minute has no row yet."""
    table = ApiKeyRateWindow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET count = count + 1 WHERE key_id = %s AND minute = %s RETURNING count",
                       [key.pk, minute])
        row = cursor.fetchone()
    return row[0] if row else None


def apikey_rate_hit(*, key: ApiKey, now=None) -> None:
    """Count one request in the key's current minute; RateLimited (with Retry-After) past its limit.

    The counter is a database row, so every web process shares it: one atomic
    ``UPDATE … SET count = count + 1 … RETURNING count`` per request, an INSERT for the first
    request of a minute (when the key's older minutes are dropped).
    """
    now = now or timezone.now()
    epoch = now.timestamp()
    minute = int(epoch // 60)
    with transaction.atomic():
        _no_wait_for_disk()
        count = _count_up(key, minute)
        if count is None:
            try:
                with transaction.atomic():
                    ApiKeyRateWindow.objects.create(key=key, minute=minute, count=1)
                count = 1
                ApiKeyRateWindow.objects.filter(key=key, minute__lt=minute).delete()
            except IntegrityError:  # another process opened the minute first
                count = _count_up(key, minute)
    if count is not None and count > key.rate_limit:
        retry_after = max(1, math.ceil((minute + 1) * 60 - epoch))
        raise RateLimited(_("This API key is limited to %(limit)d requests a minute; try again in %(seconds)d seconds.")
                          % {"limit": key.rate_limit, "seconds": retry_after}, retry_after=retry_after)


LAST_USED_PRECISION = dt.timedelta(minutes=1)


def apikey_use_record(*, key: ApiKey, method: str, path: str, status: int, ip_address: str | None) -> None:
    """Log one use. ``last_used_at`` (for the key list) is kept to the minute, not rewritten on
    every request: the log has the exact times."""
    now = timezone.now()
    with transaction.atomic():
        _no_wait_for_disk()
        ApiKeyUse.objects.create(key=key, at=now, method=method[:10], path=path[:500], status=status,
                                 ip_address=ip_address)
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now


def _no_wait_for_disk() -> None:
    """Commit the counter and the log without waiting for the disk flush (PostgreSQL only).

    Every request with a key writes both; waiting for an fsync each time doubled the time of a
    small request. A crash may lose the last fraction of a second of counts and log rows,
    never corrupt them, and nothing else in the transaction depends on them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
