"""The demo population at FULL scale (pure, no database): norms, age pyramid, care shares, IDs."""
import datetime as dt
from collections import Counter

import pytest

from communitygrid.core.demo import population as pop
from communitygrid.core.demo.geography import GRIDS, SEED
from communitygrid.registry.validators import parse_id_number

TODAY = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def city():
    counts = pop.households_per_grid(GRIDS, seed=SEED, scale=1.0)
    households = [h for grid in pop.plan_population(counts, seed=SEED + 1, today=TODAY) for h in grid]
    persons = [p for h in households for p in h.members]
    return counts, households, persons


def share(part, whole):
    return part / whole


def test_every_grid_holds_300_to_500_households_and_the_district_about_50000(city):
    counts, households, _ = city
    assert all(300 <= n <= 500 for n in counts)
    assert 47_000 <= sum(counts) == len(households) <= 53_000


def test_the_district_has_about_120000_persons_at_about_2_4_per_household(city):
    _, households, persons = city
    assert 110_000 <= len(persons) <= 130_000
    assert 2.2 <= len(persons) / len(households) <= 2.7


def test_about_21_percent_are_60_or_over_and_14_percent_65_or_over(city):
    _, _, persons = city
    ages = [p.age_on(TODAY) for p in persons]
    assert share(sum(a >= 60 for a in ages), len(ages)) == pytest.approx(0.21, abs=0.01)
    assert share(sum(a >= 65 for a in ages), len(ages)) == pytest.approx(0.14, abs=0.01)


def test_ages_form_a_pyramid_not_a_uniform_spread(city):
    _, _, persons = city
    bands = Counter(min(p.age_on(TODAY) // 10, 9) for p in persons)
    total = len(persons)
    assert bands[3] / total > 0.15  # the working-age bulge
    assert bands[6] > bands[7] > bands[8] > bands[9]  # thinning towards the top
    assert 0.12 < (bands[0] + bands[1]) / total < 0.22  # children and teenagers
    assert all(0 <= p.age_on(TODAY) <= 100 for p in persons)


def test_care_groups_come_in_realistic_shares(city):
    _, households, persons = city
    tagged = Counter(code for p in persons for code, _ in p.tags)
    aged_60 = sum(p.age_on(TODAY) >= 60 for p in persons)
    assert share(tagged[pop.ELDERLY_ALONE], aged_60) == pytest.approx(0.08, abs=0.015)
    assert share(tagged[pop.DISABLED], len(persons)) == pytest.approx(0.06, abs=0.01)
    assert share(tagged[pop.LOW_INCOME], len(persons)) == pytest.approx(0.02, abs=0.007)
    assert share(sum(h.migrant for h in households), len(households)) == pytest.approx(0.20, abs=0.02)
    assert share(tagged[pop.VETERAN], len(persons)) == pytest.approx(0.02, abs=0.01)
    assert 0 < tagged[pop.CHILD_IN_DIFFICULTY] < 0.01 * len(persons)
    assert tagged[pop.ADVANCED_AGE] == sum(p.age_on(TODAY) >= 80 for p in persons)


def test_an_elderly_person_living_alone_is_60_or_over_and_alone(city):
    _, households, _ = city
    for household in households:
        for person in household.members:
            if (pop.ELDERLY_ALONE, "") in person.tags:
                assert len(household.members) == 1 and person.age_on(TODAY) >= 60


def test_disability_levels_are_the_registry_levels(city):
    _, _, persons = city
    levels = Counter(level for p in persons for code, level in p.tags if code == pop.DISABLED)
    assert set(levels) == {"一级", "二级", "三级", "四级"}
    assert levels["四级"] > levels["一级"]


def test_every_id_number_is_valid_unique_and_matches_birth_date_and_gender(city):
    _, _, persons = city
    numbers = [p.id_number for p in persons]
    assert len(set(numbers)) == len(numbers)
    for person in persons:
        parsed = parse_id_number(person.id_number, today=TODAY)  # the registry's own validator
        assert parsed.birth_date == person.birth_date
        assert parsed.gender == person.gender


def test_migrants_carry_a_home_region_and_locals_the_city_s(city):
    _, households, _ = city
    for household in households[:5000]:
        for person in household.members:
            if household.migrant:
                assert person.residence == "migrant" and person.registered_address
                assert not person.id_number.startswith("3301")
            else:
                assert person.residence == "local" and person.id_number.startswith("3301")


def test_phones_are_eleven_digit_mobiles_and_young_children_have_none(city):
    _, _, persons = city
    for person in persons[:20000]:
        if person.age_on(TODAY) < 14:
            assert person.phone == ""
        elif person.phone:
            assert len(person.phone) == 11 and person.phone.startswith("1") and person.phone.isdigit()


def test_children_are_younger_than_the_head_of_their_household(city):
    _, households, _ = city
    for household in households:
        head = household.members[0]
        assert head.household_role == "head"
        for person in household.members[1:]:
            if person.household_role == "child":
                assert person.birth_date > head.birth_date


def test_the_same_seed_gives_the_same_people():
    first = pop.plan_population([20, 20], seed=7, today=TODAY)
    second = pop.plan_population([20, 20], seed=7, today=TODAY)
    assert [[p.id_number for h in g for p in h.members] for g in first] == \
        [[p.id_number for h in g for p in h.members] for g in second]


def test_scale_shrinks_households_per_grid_but_keeps_every_grid():
    small = pop.households_per_grid(GRIDS, seed=SEED, scale=0.05)
    full = pop.households_per_grid(GRIDS, seed=SEED, scale=1.0)
    assert len(small) == len(full) == GRIDS
    assert all(s == max(1, round(f * 0.05)) for s, f in zip(small, full))
