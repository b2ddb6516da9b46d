"""One English message, one Chinese translation, whichever app's catalogue holds it.

Django merges every app's catalogue into one at run time and the app listed first in INSTALLED_APPS
wins, so if two apps translate the same (msgctxt, msgid) differently, one of them shows the other's
word. A word with two meanings gets a context (``pgettext``); a word with one meaning gets the one
term in docs/glossary.md.
"""
import itertools
from collections import defaultdict
from pathlib import Path

import pytest
from django.utils import translation

from communitygrid.core.tests.test_translations import CATALOGUES, entries
from communitygrid.geo.models import Node, NodeStatus
from communitygrid.registry.models import Person, PersonCareTag

APPS = {path.parts[-5]: path for path in CATALOGUES}


def translations(path: Path) -> dict[tuple[str | None, str, bool], tuple[str, ...]]:
    """(msgctxt, msgid, plural?) → msgstrs of every entry that reaches the compiled catalogue.

    Empty and fuzzy translations are left out: msgfmt drops them, so they cannot override another app's."""
    found = {}
    for entry in entries(path.read_text(encoding="utf-8")):
        if entry.msgid and "fuzzy" not in entry.flags and entry.msgstrs and all(s.strip() for s in entry.msgstrs):
            found[entry.msgctxt, entry.msgid, entry.msgid_plural is not None] = tuple(entry.msgstrs)
    return found


def disagreements(catalogues: dict[str, Path]) -> list[str]:
    """One line per message that the given apps translate differently, naming each translation's apps."""
    apps_by_key: dict[tuple, dict[tuple[str, ...], list[str]]] = defaultdict(lambda: defaultdict(list))
    for app, path in catalogues.items():
        for key, msgstrs in translations(path).items():
            apps_by_key[key][msgstrs].append(app)
    found = []
    for (msgctxt, msgid, _plural), variants in sorted(apps_by_key.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
        if len(variants) > 1:
            context = "" if msgctxt is None else f" (context {msgctxt!r})"
            where = "; ".join(f"{' / '.join(msgstrs)!r} in {', '.join(sorted(apps))}"
                              for msgstrs, apps in sorted(variants.items()))
            found.append(f"{msgid!r}{context}: {where}")
    return found


def write(path: Path, body: str) -> Path:
    path.write_text('msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n' + body, encoding="utf-8")
    return path


def test_a_message_translated_two_ways_is_reported_with_its_apps(tmp_path):
    geo = write(tmp_path / "geo.po",
                'msgid "Retired"\nmsgstr "已撤销"\n\n'
                'msgctxt "hierarchy"\nmsgid "level"\nmsgstr "层级"\n\n'
                'msgid "Any"\nmsgstr "不限"\n\n'
                'msgid "%(n)d room"\nmsgid_plural "%(n)d rooms"\nmsgstr[0] "%(n)d 个房间"\n')
    registry = write(tmp_path / "registry.po",
                     'msgid "Retired"\nmsgstr "退休"\n\n'
                     'msgctxt "care level"\nmsgid "level"\nmsgstr "等级"\n\n'
                     'msgid "Any"\nmsgstr "不限"\n\n'
                     '#, fuzzy\nmsgid "Open"\nmsgstr "进行中"\n\n'
                     'msgid "%(n)d room"\nmsgid_plural "%(n)d rooms"\nmsgstr[0] "%(n)d 间房"\n')
    privacy = write(tmp_path / "privacy.po",
                    'msgid "Retired"\nmsgstr ""\n\nmsgid "Any"\nmsgstr "全部"\n\nmsgid "Open"\nmsgstr "查看"\n')
    assert disagreements({"geo": geo, "registry": registry, "privacy": privacy}) == [
        "'%(n)d room': '%(n)d 个房间' in geo; '%(n)d 间房' in registry",
        "'Any': '不限' in geo, registry; '全部' in privacy",
        "'Retired': '已撤销' in geo; '退休' in registry",
    ]


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(sorted(APPS), 2)))
def test_two_apps_translate_every_message_they_share_alike(first, second):
    assert disagreements({first: APPS[first], second: APPS[second]}) == []


def test_each_meaning_of_a_shared_word_keeps_its_own_translation_at_run_time():
    """The merged catalogue, as pages see it; in English the context never shows."""
    labels = {
        "node status": NodeStatus.RETIRED.label,
        "employment": Person.Employment.RETIRED.label,
        "hierarchy level": Node._meta.get_field("level").verbose_name,
        "care level": PersonCareTag._meta.get_field("level").verbose_name,
    }
    with translation.override("zh-hans"):
        assert {key: str(label) for key, label in labels.items()} == {
            "node status": "已撤销", "employment": "退休", "hierarchy level": "层级", "care level": "等级"}
    with translation.override("en"):
        assert {key: str(label) for key, label in labels.items()} == {
            "node status": "Retired", "employment": "Retired", "hierarchy level": "level", "care level": "level"}


# Terms docs/glossary.md rules out, with the one to use instead.
NEVER = {"案件": "诉求"}


def test_no_catalogue_uses_a_term_the_glossary_rules_out():
    found = [f"{path.parts[-5]}: {msgid!r} → {' / '.join(msgstrs)!r} (use {NEVER[term]})"
             for path in CATALOGUES for (_ctx, msgid, _plural), msgstrs in translations(path).items()
             for term in NEVER if any(term in s for s in msgstrs)]
    assert found == []
