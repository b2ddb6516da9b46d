"""Every app's Simplified Chinese catalogue is complete: no empty and no fuzzy translation."""
import ast
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(PACKAGE.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))


class Entry(NamedTuple):
    line: int
    flags: set[str]
    msgctxt: str | None
    msgid: str
    msgid_plural: str | None
    msgstrs: list[str]


def entries(text: str):
    """Yield an :class:`Entry` for each entry of a .po file; obsolete ones are skipped.

    Entries are separated by blank lines, as gettext and makemessages write them."""
    line_no = 0
    for block in text.split("\n\n"):
        start = line_no + 1
        line_no += block.count("\n") + 2
        flags: set[str] = set()
        fields: dict[str, str] = {}
        field = None
        for line in block.strip().splitlines():
            line = line.strip()
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[field] += ast.literal_eval(line)
            else:
                field, _, rest = line.partition(" ")
                fields[field] = ast.literal_eval(rest)
        if "msgid" in fields:
            yield Entry(start, flags, fields.get("msgctxt"), fields["msgid"], fields.get("msgid_plural"),
                        [v for k, v in fields.items() if k.startswith("msgstr")])


def problems(path: Path) -> list[str]:
    found = []
    for entry in entries(path.read_text(encoding="utf-8")):
        if "fuzzy" in entry.flags:  # a fuzzy header too: msgfmt would then drop the charset
            found.append(f"{path}:{entry.line}: fuzzy: {entry.msgid[:60]!r}")
        elif entry.msgid and (not entry.msgstrs or any(not s.strip() for s in entry.msgstrs)):
            found.append(f"{path}:{entry.line}: untranslated: {entry.msgid[:60]!r}")
    return found


def test_the_parser_finds_empty_and_fuzzy_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        'msgid "Done"\nmsgstr "完成"\n\n'
        'msgid "Empty"\nmsgstr ""\n\n'
        '#, fuzzy, python-format\nmsgid "Guess %(n)s"\nmsgstr "猜 %(n)s"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\n\n'
        'msgid ""\n"Long "\n"text"\nmsgstr ""\n"长"\n"文"\n\n'
        '#~ msgid "Old"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    found = problems(po)
    assert [p.split(": ", 2)[1:] for p in found] == [
        ["untranslated", "'Empty'"], ["fuzzy", "'Guess %(n)s'"], ["untranslated", "'one'"]]


def test_every_app_has_a_chinese_catalogue_for_its_own_strings():
    assert PACKAGE / "core/locale/zh_Hans/LC_MESSAGES/django.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_no_empty_or_fuzzy_translation(path):
    assert problems(path) == []


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_msgfmt_accepts_the_catalogue_and_its_placeholders(path):
    result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


KEYWORDS = ["--keyword=gettext_noop", "--keyword=gettext_lazy", "--keyword=ngettext_lazy:1,2", "--keyword=pgettext:1c,2",
            "--keyword=npgettext:1c,2,3", "--keyword=pgettext_lazy:1c,2", "--keyword=npgettext_lazy:1c,2,3"]


def extracted(app: Path) -> list[Entry]:
    """The strings the app's code and templates mark for translation, as makemessages finds them."""
    import tempfile

    from django.utils.translation.template import templatize

    sources = [p for p in app.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]
    with tempfile.TemporaryDirectory() as tmp:
        for n, template in enumerate(app.rglob("templates/**/*.html")):
            target = Path(tmp) / f"t{n}.py"
            target.write_text(templatize(template.read_text(encoding="utf-8"), origin=str(template)), encoding="utf-8")
            sources.append(target)
        result = subprocess.run(["xgettext", "--language=Python", "--from-code=UTF-8", "-o", "-", *KEYWORDS,
                                 *map(str, sources)], capture_output=True, text=True, check=True)
    return [e for e in entries(result.stdout) if e.msgid]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_string_the_app_marks_is_translated_at_run_time(path):
    """A string in the code but never added to a catalogue shows in English on a Chinese page."""
    from django.utils.translation import trans_real

    catalog = trans_real.translation("zh-hans")._catalog  # every app's catalogue and Django's, merged
    missing = []
    for entry in extracted(path.parents[3]):
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if not catalog.get((key, 0) if entry.msgid_plural else key):
            missing.append(entry.msgid[:60])
    assert missing == []
