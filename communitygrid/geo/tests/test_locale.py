import ast
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def entries():
    """(msgid, msgstr, flags) for every entry of the catalogue but the header."""
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        fields, current, flags = {}, None, ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags += line
            elif line.startswith(("msgid ", "msgid_plural ", "msgstr ", "msgstr[0] ")):
                current, _space, value = line.partition(" ")
                fields[current] = ast.literal_eval(value)
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if fields.get("msgid"):
            yield fields["msgid"], fields.get("msgstr", fields.get("msgstr[0]", "")), flags


def test_every_geo_message_has_a_chinese_translation():
    found = list(entries())
    assert len(found) > 100
    assert [msgid for msgid, msgstr, _flags in found if not msgstr.strip()] == []
    assert [msgid for msgid, _msgstr, flags in found if "fuzzy" in flags] == []
