"""Every app's Simplified Chinese catalogue is complete: no empty and no fuzzy translation, and its
labels take the full-width colon."""
import ast
import re
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


# A Chinese character or full-width punctuation mark right before an ASCII colon: "类别:" where
# Chinese text takes "类别：". Times ("10:30"), addresses ("http://") and placeholders
# ("%(host)s:%(port)d") have no Chinese character before their colon and are left alone.
CJK_THEN_ASCII_COLON = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]:")


def ascii_colons(path: Path) -> list[str]:
    return [f"{path}:{entry.line}: {msgstr!r}"
            for entry in entries(path.read_text(encoding="utf-8")) if entry.msgid
            for msgstr in entry.msgstrs if CJK_THEN_ASCII_COLON.search(msgstr)]


def test_the_colon_check_flags_chinese_text_before_an_ascii_colon_only(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        'msgid "Category:"\nmsgstr "类别:"\n\n'
        'msgid "Reason: %(r)s"\nmsgstr "原因: %(r)s"\n\n'
        'msgid "Q: A"\nmsgstr "是什么？: 缺失"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\n"共 %(n)d 项:"\n\n'
        'msgid "Open 10:30"\nmsgstr "10:30 开门"\n\n'
        'msgid "Serving on http://%(host)s:%(port)d/"\nmsgstr "服务已启动：http://%(host)s:%(port)d/"\n\n'
        'msgid "Label: %(v)s"\nmsgstr "%(label)s: %(v)s"\n\n'
        'msgid "Category"\nmsgstr "类别："\n',
        encoding="utf-8",
    )
    assert [found.split(": ", 1)[1] for found in ascii_colons(po)] == [
        "'类别:'", "'原因: %(r)s'", "'是什么？: 缺失'", "'共 %(n)d 项:'"]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_chinese_translations_use_the_full_width_colon(path):
    assert ascii_colons(path) == []


def test_form_labels_end_in_the_full_width_colon_in_chinese_and_the_ascii_one_in_english():
    """Django's own zh-Hans catalogue translates the label suffix ":" as ":"; ours wins."""
    from django import forms
    from django.utils import translation

    class CategoryForm(forms.Form):
        category = forms.CharField(label="类别")

    with translation.override("zh-hans"):
        assert CategoryForm()["category"].label_tag().endswith(">类别：</label>")
    with translation.override("en"):
        assert CategoryForm()["category"].label_tag().endswith(">类别:</label>")


TRANSLATED_THEN_COLON = re.compile(r"\{%\s*(?:trans|translate)\s[^%]*%\}:|\{%\s*endblocktrans(?:late)?\s*%\}:")


def test_no_template_puts_an_ascii_colon_after_a_translated_label():
    """``{% translate "Export" %}:`` shows "导出:" in Chinese; the colon belongs in the msgid."""
    found = [f"{template.relative_to(PACKAGE)}:{n}" for template in sorted(PACKAGE.glob("*/templates/**/*.html"))
             for n, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1)
             if TRANSLATED_THEN_COLON.search(line)]
    assert found == []
