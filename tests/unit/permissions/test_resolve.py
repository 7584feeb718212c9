"""The one permission rule: tier and roles give the highest level, overrides raise or cap."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.permissions.model import (
    AREA_MAX_LEVEL,
    TIER_GRANTS,
    Area,
    Grants,
    Level,
    OverrideKind,
    Scope,
    Tier,
)
from portal.permissions.resolve import (
    Override,
    allows,
    effective_levels,
    level_in,
    role_levels,
    service_scope,
)

fast = settings(max_examples=200, deadline=None)

areas = st.sampled_from(Area)
levels = st.sampled_from(Level)
tiers = st.sampled_from(Tier)
# Any levels, even above an area's maximum: the resolver must cap whatever is stored.
role_grants_lists = st.lists(st.dictionaries(areas, levels, max_size=5), max_size=3)
overrides_lists = st.lists(
    st.builds(Override, area=areas, kind=st.sampled_from(OverrideKind), level=levels),
    max_size=5,
)


def grant(area: Area, level: Level) -> Override:
    return Override(area, OverrideKind.GRANT, level)


def restrict(area: Area, level: Level) -> Override:
    return Override(area, OverrideKind.RESTRICT, level)


def cap_of(area: Area, overrides: list[Override]) -> Level:
    restrictions = [
        o.level for o in overrides if o.area is area and o.kind is OverrideKind.RESTRICT
    ]
    return min([AREA_MAX_LEVEL[area], *restrictions])


# Direct tests of each rule.


def test_effective_levels_name_every_area() -> None:
    assert set(effective_levels(Tier.USER, [])) == set(Area)


def test_tier_alone_gives_its_grants_and_none_elsewhere() -> None:
    levels = effective_levels(Tier.USER, [])
    assert levels[Area.SERVICES] is Level.READ
    assert levels[Area.TICKETS] is Level.FULL
    assert levels[Area.COST_CENTRES] is Level.READ
    assert {area for area, level in levels.items() if level > Level.NONE} == {
        Area.SERVICES,
        Area.TICKETS,
        Area.COST_CENTRES,
    }


def test_admin_has_every_area_at_its_maximum() -> None:
    assert effective_levels(Tier.ADMIN, []) == dict(AREA_MAX_LEVEL)


def test_a_role_adds_to_the_tier() -> None:
    levels = effective_levels(Tier.USER, [{Area.ORDERS: Level.FULL}])
    assert levels[Area.ORDERS] is Level.FULL
    assert levels[Area.SERVICES] is Level.READ


def test_the_highest_level_any_role_grants_wins() -> None:
    roles: list[Grants] = [
        {Area.BILLING: Level.READ},
        {Area.BILLING: Level.FULL},
        {Area.BILLING: Level.NONE},
    ]
    assert effective_levels(Tier.USER, roles)[Area.BILLING] is Level.FULL
    assert level_in(Area.BILLING, Tier.USER, roles) is Level.FULL


def test_a_role_granting_less_than_the_tier_does_not_lower_it() -> None:
    levels = effective_levels(Tier.MANAGER, [{Area.ORDERS: Level.READ}])
    assert levels[Area.ORDERS] is Level.FULL


def test_a_role_level_above_the_area_maximum_is_capped() -> None:
    assert effective_levels(Tier.USER, [{Area.ORDERS: Level.APPROVE}])[Area.ORDERS] is Level.FULL


def test_a_grant_override_raises_one_area() -> None:
    levels = effective_levels(Tier.USER, [], [grant(Area.BILLING, Level.READ)])
    assert levels[Area.BILLING] is Level.READ
    assert levels == {**effective_levels(Tier.USER, []), Area.BILLING: Level.READ}


def test_a_grant_override_never_lowers() -> None:
    levels = effective_levels(Tier.MANAGER, [], [grant(Area.ORDERS, Level.READ)])
    assert levels[Area.ORDERS] is Level.FULL


def test_a_grant_override_is_capped_at_the_area_maximum() -> None:
    assert level_in(Area.ORDERS, Tier.USER, [], [grant(Area.ORDERS, Level.APPROVE)]) is Level.FULL


def test_a_restriction_caps_one_area() -> None:
    levels = effective_levels(Tier.MANAGER, [], [restrict(Area.ORDERS, Level.READ)])
    assert levels == {**effective_levels(Tier.MANAGER, []), Area.ORDERS: Level.READ}


def test_a_restriction_above_the_current_level_changes_nothing() -> None:
    levels = effective_levels(Tier.USER, [], [restrict(Area.SERVICES, Level.FULL)])
    assert levels[Area.SERVICES] is Level.READ


@pytest.mark.parametrize("order", ["restriction first", "grant first"])
def test_a_restriction_wins_over_a_grant_override_in_either_order(order: str) -> None:
    overrides = [restrict(Area.ORDERS, Level.READ), grant(Area.ORDERS, Level.FULL)]
    if order == "grant first":
        overrides.reverse()
    assert effective_levels(Tier.USER, [], overrides)[Area.ORDERS] is Level.READ
    assert level_in(Area.ORDERS, Tier.USER, [], overrides) is Level.READ


def test_a_restriction_wins_over_the_tier_and_roles() -> None:
    overrides = [restrict(Area.USERS, Level.NONE)]
    roles: list[Grants] = [{Area.USERS: Level.FULL}]
    assert effective_levels(Tier.ADMIN, roles, overrides)[Area.USERS] is Level.NONE
    assert level_in(Area.USERS, Tier.ADMIN, roles, overrides) is Level.NONE


def test_the_lowest_of_several_restrictions_applies() -> None:
    overrides = [restrict(Area.ORDERS, Level.READ), restrict(Area.ORDERS, Level.NONE)]
    assert effective_levels(Tier.ADMIN, [], overrides)[Area.ORDERS] is Level.NONE


def test_level_in_accepts_a_one_shot_iterable_of_roles() -> None:
    roles = iter([{Area.CONTRACTS: Level.READ}])
    assert level_in(Area.CONTRACTS, Tier.USER, roles) is Level.READ


@pytest.mark.parametrize(
    ("have", "required", "expected"),
    [
        (Level.NONE, Level.NONE, True),
        (Level.NONE, Level.READ, False),
        (Level.READ, Level.READ, True),
        (Level.READ, Level.FULL, False),
        (Level.FULL, Level.READ, True),
        (Level.FULL, Level.APPROVE, False),
        (Level.APPROVE, Level.FULL, True),
    ],
)
def test_allows_compares_levels(have: Level, required: Level, expected: bool) -> None:
    assert allows({Area.APPROVALS: have}, Area.APPROVALS, required) is expected


def test_allows_treats_a_missing_area_as_none() -> None:
    assert allows({}, Area.ORDERS, Level.READ) is False
    assert allows({}, Area.ORDERS, Level.NONE) is True


@pytest.mark.parametrize(
    ("tier", "scope"),
    [
        (Tier.ADMIN, Scope.ORGANISATION),
        (Tier.MANAGER, Scope.ORGANISATION),
        (Tier.USER, Scope.ASSIGNED),
    ],
)
def test_service_scope_of_each_tier(tier: Tier, scope: Scope) -> None:
    assert service_scope(tier) is scope


# Invariants.


@fast
@given(
    tier=tiers,
    roles=role_grants_lists,
    overrides=overrides_lists,
    area=areas,
    cap=levels,
    granted=levels,
    data=st.data(),
)
def test_a_restriction_always_wins(
    tier: Tier,
    roles: list[Grants],
    overrides: list[Override],
    area: Area,
    cap: Level,
    granted: Level,
    data: st.DataObject,
) -> None:
    # The restriction and a (possibly higher) grant override land anywhere among the others.
    position = data.draw(st.integers(0, len(overrides)), label="restriction position")
    overrides.insert(position, restrict(area, cap))
    position = data.draw(st.integers(0, len(overrides)), label="grant position")
    overrides.insert(position, grant(area, granted))

    assert effective_levels(tier, roles, overrides)[area] <= cap
    assert level_in(area, tier, roles, overrides) <= cap


@fast
@given(tier=tiers, roles=role_grants_lists, overrides=overrides_lists, area=areas, cap=levels)
def test_a_restriction_caps_its_area_and_no_other(
    tier: Tier, roles: list[Grants], overrides: list[Override], area: Area, cap: Level
) -> None:
    before = effective_levels(tier, roles, overrides)
    after = effective_levels(tier, roles, [*overrides, restrict(area, cap)])
    assert after[area] == min(before[area], cap)
    assert {a: lv for a, lv in after.items() if a is not area} == {
        a: lv for a, lv in before.items() if a is not area
    }


@fast
@given(
    tier=tiers,
    roles=role_grants_lists,
    overrides=overrides_lists,
    extra=st.dictionaries(areas, levels, max_size=6),
)
def test_adding_a_role_never_lowers_any_area(
    tier: Tier, roles: list[Grants], overrides: list[Override], extra: Grants
) -> None:
    before = effective_levels(tier, roles, overrides)
    after = effective_levels(tier, [*roles, extra], overrides)
    for area in Area:
        assert after[area] >= before[area], area


@fast
@given(
    tier=tiers,
    roles=role_grants_lists,
    overrides=overrides_lists,
    area=areas,
    level=levels,
)
def test_a_grant_override_raises_exactly_one_area(
    tier: Tier, roles: list[Grants], overrides: list[Override], area: Area, level: Level
) -> None:
    before = effective_levels(tier, roles, overrides)
    after = effective_levels(tier, roles, [*overrides, grant(area, level)])
    assert after[area] == max(before[area], min(level, cap_of(area, overrides)))
    for other in Area:
        if other is not area:
            assert after[other] == before[other], other


@fast
@given(tier=tiers, roles=role_grants_lists, overrides=overrides_lists)
def test_level_in_and_effective_levels_agree_on_every_area(
    tier: Tier, roles: list[Grants], overrides: list[Override]
) -> None:
    levels = effective_levels(tier, roles, overrides)
    for area in Area:
        assert level_in(area, tier, roles, overrides) == levels[area], area


@fast
@given(tier=tiers, roles=role_grants_lists, overrides=overrides_lists)
def test_no_level_exceeds_the_area_maximum_and_approve_only_in_approvals(
    tier: Tier, roles: list[Grants], overrides: list[Override]
) -> None:
    levels = effective_levels(tier, roles, overrides)
    for area, level in levels.items():
        assert level <= AREA_MAX_LEVEL[area], area
        if level is Level.APPROVE:
            assert area is Area.APPROVALS


@fast
@given(tier=tiers, roles=role_grants_lists)
def test_without_overrides_the_level_is_the_highest_any_role_grants(
    tier: Tier, roles: list[Grants]
) -> None:
    levels = effective_levels(tier, roles)
    for area in Area:
        granted = [TIER_GRANTS[tier].get(area, Level.NONE)]
        granted += [role.get(area, Level.NONE) for role in roles]
        assert levels[area] == min(max(granted), AREA_MAX_LEVEL[area]), area


@fast
@given(policies=role_grants_lists)
def test_a_role_gets_each_areas_highest_level_among_its_policies(policies: list[Grants]) -> None:
    levels = role_levels(policies)
    assert set(levels) == set(Area)
    for area in Area:
        assert levels[area] == max((p.get(area, Level.NONE) for p in policies), default=Level.NONE)


def test_a_role_without_policies_grants_nothing() -> None:
    assert set(role_levels([]).values()) == {Level.NONE}
