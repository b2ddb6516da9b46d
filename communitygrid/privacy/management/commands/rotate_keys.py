"""Re-encrypt every encrypted field under the newest key; optionally rebuild blind indexes.

Usage: ``communitygrid rotate-keys [--check] [--reindex] [--batch-size N]``. See
docs/operations/key-rotation.md for the whole procedure.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from communitygrid.privacy import crypto
from communitygrid.privacy.fields import EncryptedField, Sensitive, models_with_encrypted_fields


@dataclass
class Tally:
    current: int = 0
    old: int = 0
    rotated: int = 0
    reindexed: int = 0
    undecryptable: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the newest key of CG_FIELD_KEYS, in batches "
        "(one transaction each; safe to interrupt and run again). --check only counts what is "
        "still under old keys; --reindex also recomputes blind-index columns from the plaintext "
        "(needed after changing CG_BLIND_INDEX_KEY)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Change nothing; report how many values are still under old keys (exit 1 if any).")
        parser.add_argument("--reindex", action="store_true",
                            help="Recompute blind-index columns from the plaintext with the current CG_BLIND_INDEX_KEY.")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args, check: bool, reindex: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if check and reindex:
            raise CommandError("--check changes nothing, so it cannot be combined with --reindex")
        totals = Tally()
        for model, fields in models_with_encrypted_fields().items():
            tally = self._walk(model, fields, batch_size=batch_size, write=not check, reindex=reindex)
            self.stdout.write(
                f"{model._meta.label}: {tally.current} current, {tally.old} under old keys"
                + ("" if check else f", {tally.rotated} re-encrypted")
                + (f", {tally.reindexed} blind indexes recomputed" if reindex else "")
                + (f", {len(tally.undecryptable)} cannot be decrypted" if tally.undecryptable else "")
            )
            totals.current += tally.current
            totals.old += tally.old
            totals.rotated += tally.rotated
            totals.reindexed += tally.reindexed
            totals.undecryptable += tally.undecryptable
        for where in totals.undecryptable[:50]:
            self.stderr.write(f"cannot decrypt {where} with any key in CG_FIELD_KEYS")
        if check:
            self.stdout.write(f"{totals.old} value(s) still under old keys, {totals.current} under the newest key.")
        else:
            self.stdout.write(self.style.SUCCESS(
                f"Done: {totals.rotated} value(s) re-encrypted"
                + (f", {totals.reindexed} blind index(es) recomputed" if reindex else "") + "."
            ))
        if totals.undecryptable:
            raise CommandError(f"{len(totals.undecryptable)} value(s) cannot be decrypted with the configured keys "
                               "(an old key is missing from CG_FIELD_KEYS?)")
        if check and totals.old:
            raise CommandError(f"{totals.old} value(s) are still encrypted under old keys; run rotate-keys.")

    def _walk(self, model, fields: list[EncryptedField], *, batch_size: int, write: bool, reindex: bool) -> Tally:
        tally = Tally()
        columns = ["pk"] + [f.attname for f in fields] + [f.blind_index_field for f in fields if f.blind_index_field]
        last_pk = None
        while True:
            # Keyset pagination by primary key: each batch reads and writes its rows in one
            # transaction, locking them, so a concurrent edit is never overwritten with the
            # old value, and an interrupted run resumes by simply running again.
            with transaction.atomic():
                rows = model._base_manager.order_by("pk").only(*columns)
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                if write:
                    rows = rows.select_for_update()
                batch = list(rows[:batch_size])
                if not batch:
                    return tally
                last_pk = batch[-1].pk
                changed, changed_columns = [], set()
                for row in batch:
                    if self._process_row(model, row, fields, tally, write=write, reindex=reindex, touched=changed_columns):
                        changed.append(row)
                if write and changed:
                    model._base_manager.bulk_update(changed, sorted(changed_columns))

    def _process_row(self, model, row, fields, tally: Tally, *, write: bool, reindex: bool, touched: set) -> bool:
        row_changed = False
        for f in fields:
            value: Sensitive | None = row.__dict__.get(f.attname)
            if value is None:
                if reindex and f.blind_index_field and getattr(row, f.blind_index_field) is not None:
                    setattr(row, f.blind_index_field, None)
                    touched.add(f.blind_index_field)
                    tally.reindexed += 1
                    row_changed = True
                continue
            token = value.token
            try:
                if crypto.is_current(token):
                    tally.current += 1
                    new_token = token
                else:
                    tally.old += 1
                    new_token = crypto.rotate(token) if write else token
                plain = crypto.decrypt(new_token) if reindex else None
            except crypto.DecryptionError:
                tally.undecryptable.append(f"{model._meta.label} pk={row.pk} field={f.name}")
                continue
            if new_token != token:
                row.__dict__[f.attname] = Sensitive(f.kind, token=new_token)
                touched.add(f.attname)
                tally.rotated += 1
                row_changed = True
            if reindex and f.blind_index_field:
                digest = crypto.blind_index(f.kind, plain)
                if getattr(row, f.blind_index_field) != digest:
                    setattr(row, f.blind_index_field, digest)
                    touched.add(f.blind_index_field)
                    tally.reindexed += 1
                    row_changed = True
        return row_changed
