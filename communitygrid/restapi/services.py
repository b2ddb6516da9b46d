"""Writes of the API machinery: claiming an Idempotency-Key, storing its answer, purging old ones."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connections
from django.utils import timezone

from communitygrid.restapi.models import IdempotencyRecord

# A client may retry with the same key for this long; after that the key is forgotten.
KEEP_FOR = dt.timedelta(hours=24)
# A first request still unanswered after this long died with its worker: the key is free again.
STALE_AFTER = dt.timedelta(minutes=2)


@dataclass
class Claim:
    record: IdempotencyRecord
    # "new": go ahead and answer; "replay": answer with the stored response; "busy": the first
    # request is still running; "mismatch": the key was used for another request.
    outcome: str


def idempotency_claim(*, principal: str, key: str, fingerprint: str, method: str, path: str,
                      now: dt.datetime | None = None) -> Claim:
    now = now or timezone.now()
    fresh = IdempotencyRecord(principal=principal, key=key, fingerprint=fingerprint, method=method, path=path,
                              created_at=now)
    if _insert_unless_taken(fresh):
        return Claim(fresh, "new")
    record = IdempotencyRecord.objects.get(principal=principal, key=key)
    if record.created_at < now - KEEP_FOR and record.status_code is not None:
        # An expired key is a new request: take the row over (conditionally, in case of a race).
        if IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).update(
                fingerprint=fingerprint, method=method, path=path, status_code=None, body=b"", content_type="",
                created_at=now, completed_at=None):
            record.refresh_from_db()
            return Claim(record, "new")
        record.refresh_from_db()
    if record.fingerprint != fingerprint:
        return Claim(record, "mismatch")
    if record.status_code is not None:
        return Claim(record, "replay")
    if record.created_at < now - STALE_AFTER and IdempotencyRecord.objects.filter(
            pk=record.pk, status_code__isnull=True, created_at=record.created_at).update(created_at=now):
        record.refresh_from_db()
        return Claim(record, "new")
    return Claim(record, "busy")


def _insert_unless_taken(record: IdempotencyRecord) -> bool:
    """Insert the claim unless the (client, key) pair exists: one statement, no savepoint.

    Every POST with a key pays for this, so it skips the ORM's transaction and savepoint
    round trips (``INSERT … ON CONFLICT DO NOTHING RETURNING``, on PostgreSQL and SQLite).
    """
    connection = connections[IdempotencyRecord.objects.db]
    fields = [f for f in IdempotencyRecord._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(record, add=True), connection) for f in fields]
    sql = (f"INSERT INTO {connection.ops.quote_name(IdempotencyRecord._meta.db_table)} "
           f"({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT (principal, key) DO NOTHING RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    record.pk = row[0]
    record._state.adding, record._state.db = False, connection.alias
    return True


def idempotency_complete(*, record: IdempotencyRecord, status_code: int, content_type: str, body: bytes) -> None:
    """Keep the answer for replays; a server error is not kept, so that a retry runs again."""
    if status_code >= 500:
        idempotency_release(record=record)
        return
    # Raw: every keyed POST pays for this UPDATE, and the ORM's compilation cost more than the statement.
    connection = connections[IdempotencyRecord.objects.db]
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {connection.ops.quote_name(IdempotencyRecord._meta.db_table)} SET status_code = %s, "
                       "content_type = %s, body = %s, completed_at = %s WHERE id = %s AND created_at = %s",
                       [status_code, content_type[:100], connection.Database.Binary(body), adapt(timezone.now()),
                        record.pk, adapt(record.created_at)])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True, created_at=record.created_at).delete()


def idempotency_purge(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - KEEP_FOR).delete()
    return deleted
