"""Tiers (urgent / general / complex): which tier a case gets and the deadlines it implies.

Respond and resolve times (PRODUCT.md capability 3, plan §5.4):

=========  ================================  =====================================
tier       respond (accepted by a person)    resolve
=========  ================================  =====================================
urgent     30 minutes, round the clock       24 hours, round the clock
general    24 working hours                  5 working days (or the category's)
complex    3 working days                    15 working days (or the category's)
=========  ================================  =====================================

Urgent cases (someone in danger) run on the wall clock; the others follow the working-day
calendar (``calendar.py`` explains "working hours" and "working days"). The sweep warns at
80 % of the respond window and, after a breach, gives each level of the hierarchy one more
respond window before escalating again.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


from communitygrid.cases import calendar
from communitygrid.cases.models import TIER_ORDER, Category, Tier
from communitygrid.cases.wording import SEPARATORS, Note

WARN_FRACTION = 0.8


@dataclass(frozen=True)
class Span:
    amount: int
    unit: str  # "minutes" | "hours" | "working_hours" | "working_days"

    def after(self, start: dt.datetime, *, days: calendar.WorkingCalendar | None = None) -> dt.datetime:
        if self.unit == "minutes":
            return start + dt.timedelta(minutes=self.amount)
        if self.unit == "hours":
            return start + dt.timedelta(hours=self.amount)
        if self.unit == "working_hours":
            return calendar.add_working_hours(start, self.amount, calendar=days)
        if self.unit == "working_days":
            return calendar.add_working_days(start, self.amount, calendar=days)
        raise ValueError(f"unknown span unit {self.unit!r}")


@dataclass(frozen=True)
class TierRule:
    respond: Span
    resolve: Span


TIER_RULES = {
    Tier.URGENT: TierRule(respond=Span(30, "minutes"), resolve=Span(24, "hours")),
    Tier.GENERAL: TierRule(respond=Span(24, "working_hours"), resolve=Span(5, "working_days")),
    Tier.COMPLEX: TierRule(respond=Span(3, "working_days"), resolve=Span(15, "working_days")),
}

# Words that mean someone may be in danger now. Chinese words match anywhere in the text,
# English ones as whole words ("gas", not "gastric").
DANGER_WORDS_ZH = ("火", "燃气", "煤气", "漏气", "漏电", "触电", "晕倒", "昏迷", "摔倒", "跌倒", "急救", "救命", "冒烟", "坍塌", "溺水")
DANGER_WORDS_EN = ("fire", "smoke", "gas", "electric shock", "fainted", "unconscious", "collapsed", "fallen", "emergency")
_DANGER_EN = re.compile(r"\b(" + "|".join(re.escape(w) for w in DANGER_WORDS_EN) + r")\b", re.IGNORECASE)


def danger_word(text: str) -> str | None:
    for word in DANGER_WORDS_ZH:
        if word in text:
            return word
    match = _DANGER_EN.search(text)
    return match.group(1).lower() if match else None


def raise_one(tier: str) -> str:
    index = TIER_ORDER.index(tier)
    return TIER_ORDER[min(index + 1, len(TIER_ORDER) - 1)]


def classify(*, category: Category, description: str, care_groups: list, channel: str) -> tuple[str, Note]:
    """The case's tier and the reasons for it (worded when read: cases.wording), from the
    category and the raising rules."""
    from communitygrid.cases.models import Channel

    tier = category.default_tier
    why = Note(separator=SEPARATORS["submit"]).add("tier_default", tier=tier)
    word = danger_word(description)
    if word:
        tier = Tier.URGENT
        why.add("tier_danger_word", word=word)
    if channel in (Channel.ONE_TAP, Channel.IOT) and tier != Tier.URGENT:
        tier = Tier.URGENT
        why.add("tier_help_call")
    if care_groups and tier != Tier.URGENT:
        tier = raise_one(tier)
        why.add("tier_care_group", groups=list(care_groups))
    return tier, why


@dataclass(frozen=True)
class Deadlines:
    respond_by: dt.datetime
    resolve_by: dt.datetime
    warn_at: dt.datetime


def warn_point(start: dt.datetime, deadline: dt.datetime) -> dt.datetime:
    return start + (deadline - start) * WARN_FRACTION


def deadlines_for(*, tier: str, category: Category, start: dt.datetime) -> Deadlines:
    rule = TIER_RULES[tier]
    days = calendar.WorkingCalendar()  # one read of the override table for both deadlines
    respond_by = rule.respond.after(start, days=days)
    resolve = Span(category.resolve_days, "working_days") if category.resolve_days and tier != Tier.URGENT else rule.resolve
    resolve_by = max(resolve.after(start, days=days), respond_by)
    return Deadlines(respond_by=respond_by, resolve_by=resolve_by, warn_at=warn_point(start, respond_by))


def escalation_step(tier: str, breach: dt.datetime) -> dt.datetime:
    """When a level that received an escalation is itself overdue: one respond window later."""
    return TIER_RULES[tier].respond.after(breach)
