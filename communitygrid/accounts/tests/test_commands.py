import io

import pytest
from django.core.management import CommandError, call_command

from communitygrid.accounts.models import Role, User


def run(*args):
    out = io.StringIO()
    call_command("create_user", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "pw.txt"
    path.write_text("a-long-and-unusual-passphrase-42\nignored second line\n", encoding="utf-8")
    return str(path)


def test_creates_a_grid_worker_from_a_password_file(city, password_file):
    output = run("wang", "--role", Role.GRID_WORKER, "--scope", "S0C0G0", "--scope", "S0C0G1",
                 "--display-name", "王网格", "--password-file", password_file)
    user = User.objects.get(username="wang")
    assert user.check_password("a-long-and-unusual-passphrase-42")
    assert sorted(user.scope_nodes.values_list("code", flat=True)) == ["S0C0G0", "S0C0G1"]
    assert "S0C0G0" in output and "wang" in output


def test_prompts_twice_on_a_terminal(city, monkeypatch):
    answers = iter(["a-long-and-unusual-passphrase-42", "a-long-and-unusual-passphrase-42"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    run("li", "--role", Role.RESIDENT)
    assert User.objects.get(username="li").role == Role.RESIDENT


def test_differing_prompted_passwords_create_nothing(city, monkeypatch):
    answers = iter(["a-long-and-unusual-passphrase-42", "something-else-entirely-42"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="differ"):
        run("li", "--role", Role.RESIDENT)
    assert not User.objects.filter(username="li").exists()


def test_without_a_terminal_or_file_it_says_what_to_do(city, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="--password-file"):
        run("li", "--role", Role.RESIDENT)


def test_binding_errors_are_listed_by_field(city, password_file):
    with pytest.raises(CommandError) as caught:
        run("zhao", "--role", Role.STREET_STAFF, "--scope", "S0C0G0", "--scope", "NOPE", "--password-file", password_file)
    assert "scope_codes" in str(caught.value) and "NOPE" in str(caught.value)
    assert not User.objects.filter(username="zhao").exists()


def test_unreadable_or_empty_password_file(city, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("zhao", "--role", Role.RESIDENT, "--password-file", str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CommandError, match="empty"):
        run("zhao", "--role", Role.RESIDENT, "--password-file", str(empty))


def test_is_a_management_command_of_accounts(db):
    # ``communitygrid create-user`` maps hyphens to this name (communitygrid/cli.py).
    from django.core.management import get_commands

    assert get_commands()["create_user"] == "communitygrid.accounts"
