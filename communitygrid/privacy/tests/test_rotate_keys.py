import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from communitygrid.privacy import crypto
from communitygrid.privacy.fields import models_with_encrypted_fields
from communitygrid.registry.models import Household, Person

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


@pytest.fixture
def under_key_a(settings, city):
    """Every encrypted value of a small city written under key A alone."""
    from communitygrid.testing import make_household

    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    for grid in city.grids[:3]:
        make_household(grid, members=2)
    first = Person.objects.order_by("pk").first()
    first.health_notes = "高血压"
    first.save()
    return settings


def all_raw_tokens() -> list[str]:
    tokens = []
    with connection.cursor() as cursor:
        for model, fields in models_with_encrypted_fields().items():
            for f in fields:
                cursor.execute(f"SELECT {f.column} FROM {model._meta.db_table} WHERE {f.column} IS NOT NULL")  # noqa: S608
                tokens += [row[0] for row in cursor.fetchall()]
    return tokens


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_rotation_moves_every_value_to_the_newest_key(under_key_a):
    tokens = all_raw_tokens()
    # At least: id_number + phone per member (3 households × 2), one health note, 3 addresses.
    count = len(tokens)
    assert count >= 6 * 2 + 1 + 3
    plaintexts = sorted(crypto.decrypt(t) for t in tokens)

    under_key_a.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    with pytest.raises(CommandError, match=f"{count} value"):
        run("--check")
    output = run("--batch-size", "2")
    assert f"Done: {count} value(s) re-encrypted" in output

    under_key_a.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert sorted(crypto.decrypt(t) for t in all_raw_tokens()) == plaintexts
    assert f"0 value(s) still under old keys, {count} under the newest key" in run("--check")


def test_a_second_run_changes_nothing(under_key_a):
    under_key_a.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    run()
    before = all_raw_tokens()
    assert "Done: 0 value(s) re-encrypted" in run()
    assert all_raw_tokens() == before


def test_an_interrupted_run_resumes_where_it_stopped(under_key_a, monkeypatch):
    under_key_a.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    calls = {"n": 0}
    real = crypto.rotate

    def failing_after_three(token):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(token)

    monkeypatch.setattr(crypto, "rotate", failing_after_three)
    with pytest.raises(KeyboardInterrupt):
        run("--batch-size", "1")
    monkeypatch.setattr(crypto, "rotate", real)
    # Whole batches before the interruption are kept; the interrupted batch is not half-written.
    current = sum(crypto.is_current(t) for t in all_raw_tokens())
    assert current in {2, 3}
    assert f"Done: {len(all_raw_tokens()) - current} value(s) re-encrypted" in run()


def test_a_value_no_key_can_decrypt_is_reported_by_record(under_key_a):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_person SET phone = %s WHERE id = %s",
                       [Fernet(Fernet.generate_key()).encrypt(b"x").decode(), Person.objects.order_by("pk").first().pk])
    under_key_a.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    with pytest.raises(CommandError, match="1 value"):
        run()


def test_reindex_recomputes_blind_indexes_after_the_blind_key_changes(under_key_a):
    person = Person.objects.order_by("pk").first()
    phone = person.phone.reveal()
    under_key_a.BLIND_INDEX_KEY = "a-new-blind-index-key"
    assert not Person.objects.filter(phone_bidx=crypto.blind_index("phone", phone)).exists()
    output = run("--reindex")
    assert "blind indexes recomputed" in output
    assert Person.objects.get(phone_bidx=crypto.blind_index("phone", phone)).pk == person.pk
    assert Person.objects.filter(id_number_bidx=crypto.blind_index("id_number", person.id_number.reveal())).exists()
    assert "0 blind index(es) recomputed" in run("--reindex")


def test_households_are_discovered_without_being_named(under_key_a):
    assert Household in models_with_encrypted_fields()
    assert "registry.Household: 3 current" in run("--check")


@pytest.mark.parametrize("args", [["--batch-size", "0"], ["--check", "--reindex"]])
def test_bad_options_are_refused(db, args):
    with pytest.raises(CommandError):
        run(*args)
