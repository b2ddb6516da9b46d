"""Who lives in the demo city: households and persons with a real age structure.

Households are drawn from family types (an elderly person alone, a young couple, three
generations…) whose shares are set so the district looks like an older Chinese city district:
about 21% of residents aged 60 or over and 14% aged 65 or over (7th census: 18.7% and 13.5%
nationally, higher in old city districts), 2.4 persons per household, one household in five
migrant. Pure: the plan is numbers and strings; ``build`` writes it.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from communitygrid.core.demo import names
from communitygrid.registry.validators import id_check_character

HOUSEHOLDS_PER_GRID = (340, 495)  # the 300–500 norm with room to spare either side

# Ages 60+ by five-year band (share of the whole population, %), an old-district pyramid.
ELDER_BANDS = ((60, 7.0), (65, 5.5), (70, 3.8), (75, 2.4), (80, 1.4), (85, 0.7), (90, 0.2))

# Care-tag codes: the standard groups of registry.CareTag (registry migration 0003).
ELDERLY_ALONE = "elderly_alone"
EMPTY_NEST = "empty_nest"
ADVANCED_AGE = "advanced_age"
DISABLED = "disabled"
CHILD_IN_DIFFICULTY = "child_in_difficulty"
LOW_INCOME = "subsistence_allowance"
MIGRANT = "new_citizen"
VETERAN = "veteran"
DISABILITY_LEVELS = (("一级", 10), ("二级", 20), ("三级", 30), ("四级", 40))


@dataclass(slots=True)
class PersonPlan:
    name: str
    gender: str
    birth_date: dt.date
    id_number: str
    phone: str
    household_role: str
    residence: str
    employment: str
    employer: str = ""
    registered_address: str = ""
    health_notes: str = ""
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)  # (code, level)

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


@dataclass(slots=True)
class HouseholdPlan:
    family: str
    migrant: bool
    tenure: str
    members: list[PersonPlan]
    verified_days_ago: int | None


# (family type, weight, share of migrants among households of that type)
FAMILIES = (
    ("elder_alone", 4.0, 0.0),
    ("elder_couple", 15.5, 0.02),
    ("young_single", 13.0, 0.45),
    ("middle_single", 6.5, 0.15),
    ("young_couple", 8.5, 0.35),
    ("middle_couple", 8.0, 0.08),
    ("couple_child", 16.0, 0.22),
    ("couple_two_children", 7.0, 0.18),
    ("three_generations", 6.0, 0.05),
    ("couple_child_grandparent", 6.0, 0.05),
    ("single_parent", 3.5, 0.1),
    ("shared_tenants", 4.0, 0.9),
    ("large_family", 2.0, 0.2),
)
_FAMILY_NAMES = [family for family, _, _ in FAMILIES]
_FAMILY_WEIGHTS = [weight for _, weight, _ in FAMILIES]
_MIGRANT_SHARE = {family: share for family, _, share in FAMILIES}


class Planner:
    """Draws households for one district; IDs stay unique across everything it draws."""

    def __init__(self, *, seed: int, today: dt.date):
        self.rng = random.Random(seed)
        self.today = today
        self.used_ids: set[str] = set()

    # --- ages -------------------------------------------------------------------------------
    def elder_age(self, low: int = 60) -> int:
        bands = [(start, weight) for start, weight in ELDER_BANDS if start + 4 >= low]
        start, _ = self.rng.choices(bands, weights=[w for _, w in bands])[0]
        top = 99 if start == 90 else start + 4
        return self.rng.randint(max(start, low), top)

    def adult_age(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def birth_date(self, age: int) -> dt.date:
        # A birthday uniformly within the year that makes the person ``age`` today.
        latest = self.today.replace(year=self.today.year - age) if not (
            self.today.month == 2 and self.today.day == 29) else dt.date(self.today.year - age, 2, 28)
        return latest - dt.timedelta(days=self.rng.randrange(365))

    # --- identities -------------------------------------------------------------------------
    def id_number(self, birth: dt.date, gender: str, region: str) -> str:
        while True:
            sequence = self.rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            body = f"{region}{birth:%Y%m%d}{sequence:03d}"
            number = body + id_check_character(body)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def person(self, *, age: int, gender: str, role: str, family_name: str, home: tuple[str, str] | None) -> PersonPlan:
        rng = self.rng
        birth = self.birth_date(age)
        region = home[0] if home else rng.choice(names.LOCAL_REGIONS)
        phone = names.mobile(rng) if age >= 14 and not (age >= 80 and rng.random() < 0.4) else ""
        employment, employer = self.employment(age)
        plan = PersonPlan(
            name=family_name + names.given_name(rng, gender, birth.year),
            gender=gender, birth_date=birth, id_number=self.id_number(birth, gender, region), phone=phone,
            household_role=role, residence="migrant" if home else "local",
            employment=employment, employer=employer,
            registered_address=f"{home[1]}{rng.choice('东西南北')}{rng.randint(1, 30)}组{rng.randint(1, 99)}号" if home else "",
        )
        if age >= 60:
            plan.emergency_contact_name = family_name + names.given_name(rng, rng.choice("MF"), birth.year + 28)
            plan.emergency_contact_phone = names.mobile(rng)
            if rng.random() < (0.15 if age < 70 else 0.35):
                plan.health_notes = rng.choice(names.HEALTH_NOTES)
        return plan

    def employment(self, age: int) -> tuple[str, str]:
        rng = self.rng
        if age < 6:
            return "preschool", ""
        if age < 18 or (age < 23 and rng.random() < 0.55):
            return "student", rng.choice(names.SCHOOLS)
        if age >= 60:
            return ("retired", "") if rng.random() < 0.9 else ("employed", rng.choice(names.EMPLOYERS))
        draw = rng.random()
        if draw < 0.72:
            return "employed", rng.choice(names.EMPLOYERS)
        if draw < 0.84:
            return "self_employed", "个体经营"
        if draw < 0.90:
            return "unemployed", ""
        return ("retired", "") if age >= 50 else ("other", "")

    # --- households -------------------------------------------------------------------------
    def household(self) -> HouseholdPlan:
        rng = self.rng
        family = rng.choices(_FAMILY_NAMES, weights=_FAMILY_WEIGHTS)[0]
        migrant = rng.random() < _MIGRANT_SHARE[family]
        home = rng.choice(names.HOME_REGIONS) if migrant else None
        members = [self.person(age=age, gender=gender, role=role, family_name=surname, home=home)
                   for age, gender, role, surname in self.family_members(family)]
        if migrant:
            tenure = "tenant" if rng.random() < 0.85 else "owner"
        else:
            draw = rng.random()
            tenure = "owner" if draw < 0.84 else "tenant" if draw < 0.95 else "public"
        verified = rng.random()
        days = rng.randint(1, 360) if verified < 0.76 else rng.randint(370, 900) if verified < 0.94 else None
        household = HouseholdPlan(family=family, migrant=migrant, tenure=tenure, members=members, verified_days_ago=days)
        self.tag(household)
        return household

    def family_members(self, family: str) -> list[tuple[int, str, str, str]]:
        """(age, gender, role in household, surname) of each member, head first."""
        rng = self.rng
        head_gender = "M" if rng.random() < 0.62 else "F"
        other = "F" if head_gender == "M" else "M"
        surname = names.surname(rng)
        spouse_surname = names.surname(rng)

        def spouse_of(age: int) -> tuple[int, str, str, str]:
            return max(20, age + rng.randint(-5, 3)), other, "spouse", spouse_surname

        def child_of(parent_age: int, role: str = "child") -> tuple[int, str, str, str]:
            return max(0, parent_age - rng.randint(24, 34)), rng.choice("MF"), role, surname

        if family == "elder_alone":
            return [(self.elder_age(62), rng.choice("MFF"), "head", surname)]
        if family == "elder_couple":
            age = self.elder_age()
            return [(age, head_gender, "head", surname), (min(99, max(60, age + rng.randint(-4, 2))), other, "spouse", spouse_surname)]
        if family == "young_single":
            return [(self.adult_age(20, 39), rng.choice("MF"), "head", surname)]
        if family == "middle_single":
            return [(self.adult_age(40, 59), rng.choice("MF"), "head", surname)]
        if family == "young_couple":
            age = self.adult_age(23, 38)
            return [(age, head_gender, "head", surname), spouse_of(age)]
        if family == "middle_couple":
            age = self.adult_age(45, 59)
            return [(age, head_gender, "head", surname), spouse_of(age)]
        if family in {"couple_child", "couple_two_children", "large_family"}:
            age = self.adult_age(27, 56)
            children = {"couple_child": 1, "couple_two_children": 2, "large_family": 3}[family]
            return [(age, head_gender, "head", surname), spouse_of(age)] + [child_of(age) for _ in range(children)]
        if family == "single_parent":
            age = self.adult_age(28, 52)
            return [(age, rng.choice("MFF"), "head", surname), child_of(age)]
        if family == "shared_tenants":
            return [(self.adult_age(20, 34), rng.choice("MF"), "head" if i == 0 else "tenant", names.surname(rng))
                    for i in range(rng.choice((2, 2, 3)))]
        if family == "three_generations":
            grand = self.elder_age()
            parent = max(30, grand - rng.randint(24, 32))
            members = [(grand, head_gender, "head", surname)]
            if rng.random() < 0.6:
                members.append((min(99, max(60, grand + rng.randint(-4, 2))), other, "spouse", spouse_surname))
            members += [(parent, rng.choice("MF"), "child", surname), (max(22, parent + rng.randint(-3, 3)),
                        rng.choice("MF"), "relative", names.surname(rng)), child_of(parent, "grandchild")]
            return members
        # couple_child_grandparent: a working couple, their child and one parent moved in.
        age = self.adult_age(32, 50)
        return [(age, head_gender, "head", surname), spouse_of(age), child_of(age),
                (self.elder_age(max(60, age + 24)), rng.choice("MFF"), "parent", surname)]

    def tag(self, household: HouseholdPlan) -> None:
        rng = self.rng
        low_income = rng.random() < 0.02
        for person in household.members:
            age = person.age_on(self.today)
            if household.family == "elder_alone":
                person.tags.append((ELDERLY_ALONE, ""))
            elif household.family == "elder_couple":
                person.tags.append((EMPTY_NEST, ""))
            if age >= 80:
                person.tags.append((ADVANCED_AGE, ""))
            if household.migrant:
                person.tags.append((MIGRANT, ""))
            if low_income:
                person.tags.append((LOW_INCOME, ""))
            disabled = 0.015 if age < 18 else 0.05 if age < 60 else 0.11 if age < 80 else 0.24
            if rng.random() < disabled:
                level = rng.choices([lv for lv, _ in DISABILITY_LEVELS], weights=[w for _, w in DISABILITY_LEVELS])[0]
                person.tags.append((DISABLED, level))
            if age < 18 and rng.random() < (0.06 if low_income else 0.004):
                person.tags.append((CHILD_IN_DIFFICULTY, ""))
            if person.gender == "M" and age >= 35 and rng.random() < 0.07:
                person.tags.append((VETERAN, ""))


def households_per_grid(grid_count: int, *, seed: int, scale: float = 1.0) -> list[int]:
    """How many households each comprehensive grid holds: 340–495 at full scale."""
    rng = random.Random(seed)
    low, high = HOUSEHOLDS_PER_GRID
    return [max(1, round(rng.randint(low, high) * scale)) for _ in range(grid_count)]


def plan_population(counts: list[int], *, seed: int, today: dt.date) -> list[list[HouseholdPlan]]:
    """The households of each grid, in grid order."""
    planner = Planner(seed=seed, today=today)
    return [[planner.household() for _ in range(count)] for count in counts]
