"""The permission vocabulary: areas, levels, per-area maxima, tiers, scopes and the grant
parser policies are saved through."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.permissions.model import (
    AREA_MAX_LEVEL,
    MAX_GRANTS_PER_POLICY,
    TIER_GRANTS,
    TIER_SCOPE,
    Area,
    Level,
    Scope,
    Tier,
    parse_grants,
    validate_grant,
)

# The areas DESIGN.md names ("at least"), spelled as the code stores them.
DESIGN_AREAS = {
    "users",
    "roles",
    "security_settings",
    "approval_policies",
    "approvals",
    "services",
    "usage",
    "orders",
    "billing",
    "tickets",
    "documents",
    "contracts",
    "cost_centres",
    "scheduled_reports",
    "usage_alerts",
    "activity_log",
    "api_tokens",
}

# The manager tier as DESIGN.md and the brief describe it.
MANAGER_GRANTS = {
    Area.SERVICES: Level.READ,
    Area.USAGE: Level.READ,
    Area.ORDERS: Level.FULL,
    Area.BILLING: Level.READ,
    Area.TICKETS: Level.FULL,
    Area.DOCUMENTS: Level.READ,
    Area.SCHEDULED_REPORTS: Level.FULL,
    # Issue 9: admins manage the cost centre list, everyone else may read it.
    Area.COST_CENTRES: Level.READ,
}

USER_GRANTS = {
    Area.SERVICES: Level.READ,
    Area.TICKETS: Level.FULL,
    Area.COST_CENTRES: Level.READ,
}

fast = settings(max_examples=200, deadline=None)


def test_every_area_the_design_names_exists() -> None:
    assert DESIGN_AREAS - {area.value for area in Area} == set()


def test_levels_are_ordered_none_read_full_approve() -> None:
    assert Level.NONE < Level.READ < Level.FULL < Level.APPROVE
    assert sorted(Level) == [Level.NONE, Level.READ, Level.FULL, Level.APPROVE]


@pytest.mark.parametrize("level", list(Level))
def test_level_label_round_trips_through_parse(level: Level) -> None:
    assert Level.parse(level.label) is level


@pytest.mark.parametrize(("text", "expected"), [("READ", Level.READ), ("Full", Level.FULL)])
def test_level_parse_ignores_case(text: str, expected: Level) -> None:
    assert Level.parse(text) is expected


@pytest.mark.parametrize("text", ["", "write", "admin", " read", "1"])
def test_level_parse_refuses_unknown_levels_and_lists_the_known_ones(text: str) -> None:
    with pytest.raises(ValueError, match="unknown level") as raised:
        Level.parse(text)
    assert "none, read, full, approve" in str(raised.value)


def test_only_approvals_has_the_approve_action_level() -> None:
    assert AREA_MAX_LEVEL[Area.APPROVALS] is Level.APPROVE
    others = {AREA_MAX_LEVEL[area] for area in Area if area is not Area.APPROVALS}
    assert others == {Level.FULL}


def test_every_area_has_a_maximum() -> None:
    assert set(AREA_MAX_LEVEL) == set(Area)


def test_admin_tier_has_every_area_at_its_maximum() -> None:
    assert dict(TIER_GRANTS[Tier.ADMIN]) == dict(AREA_MAX_LEVEL)


def test_manager_tier_has_the_grants_the_design_lists() -> None:
    manager = TIER_GRANTS[Tier.MANAGER]
    for area, level in MANAGER_GRANTS.items():
        assert manager.get(area) is level, area
    assert manager.get(Area.USERS, Level.NONE) is Level.NONE
    assert manager.get(Area.APPROVALS, Level.NONE) is Level.NONE
    assert manager.get(Area.ACTIVITY_LOG, Level.NONE) is Level.NONE


def test_manager_tier_has_exactly_the_grants_the_design_lists() -> None:
    assert dict(TIER_GRANTS[Tier.MANAGER]) == MANAGER_GRANTS


def test_user_tier_has_exactly_assigned_services_read_and_tickets() -> None:
    assert dict(TIER_GRANTS[Tier.USER]) == USER_GRANTS


def test_every_tier_has_grants_and_a_scope() -> None:
    assert set(TIER_GRANTS) == set(Tier)
    assert set(TIER_SCOPE) == set(Tier)


def test_tier_scopes() -> None:
    assert TIER_SCOPE[Tier.ADMIN] is Scope.ORGANISATION
    assert TIER_SCOPE[Tier.MANAGER] is Scope.ORGANISATION
    assert TIER_SCOPE[Tier.USER] is Scope.ASSIGNED


def test_tier_grants_cannot_be_edited() -> None:
    """The admin role (and every tier) is fixed: the mappings are read-only."""
    with pytest.raises(TypeError):
        TIER_GRANTS[Tier.ADMIN][Area.USERS] = Level.NONE  # type: ignore[index]
    with pytest.raises(TypeError):
        TIER_GRANTS[Tier.ADMIN] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        AREA_MAX_LEVEL[Area.ORDERS] = Level.APPROVE  # type: ignore[index]


@pytest.mark.parametrize("tier", list(Tier))
def test_no_tier_grants_more_than_an_area_allows(tier: Tier) -> None:
    for area, level in TIER_GRANTS[tier].items():
        assert level <= AREA_MAX_LEVEL[area]


def test_validate_grant_parses_a_good_grant() -> None:
    assert validate_grant("orders", "full") == (Area.ORDERS, Level.FULL)
    assert validate_grant("approvals", "approve") == (Area.APPROVALS, Level.APPROVE)
    assert validate_grant("billing", "none") == (Area.BILLING, Level.NONE)


@pytest.mark.parametrize("area", ["", "Orders", "order", "everything", "cost centres"])
def test_validate_grant_refuses_unknown_areas(area: str) -> None:
    with pytest.raises(ValueError, match="unknown area"):
        validate_grant(area, "read")


@pytest.mark.parametrize("level", ["", "write", "owner", "2"])
def test_validate_grant_refuses_unknown_levels(level: str) -> None:
    with pytest.raises(ValueError, match="unknown level"):
        validate_grant("orders", level)


@pytest.mark.parametrize("area", [area for area in Area if area is not Area.APPROVALS])
def test_validate_grant_refuses_approve_outside_approvals(area: Area) -> None:
    with pytest.raises(ValueError, match="goes up to 'full'"):
        validate_grant(area.value, "approve")


@fast
@given(area=st.sampled_from(Area), level=st.sampled_from(Level))
def test_validate_grant_accepts_exactly_the_levels_up_to_the_area_maximum(
    area: Area, level: Level
) -> None:
    if level <= AREA_MAX_LEVEL[area]:
        assert validate_grant(area.value, level.label) == (area, level)
    else:
        with pytest.raises(ValueError, match="goes up to"):
            validate_grant(area.value, level.label)


def test_parse_grants_parses_every_grant() -> None:
    assert parse_grants({"orders": "full", "approvals": "approve", "usage": "read"}) == (
        {Area.ORDERS: Level.FULL, Area.APPROVALS: Level.APPROVE, Area.USAGE: Level.READ},
        {},
    )
    assert parse_grants({}) == ({}, {})


def test_parse_grants_leaves_out_a_none_grant() -> None:
    assert parse_grants({"billing": "none", "usage": "read"}) == ({Area.USAGE: Level.READ}, {})


def test_parse_grants_refuses_one_bad_grant_among_good_ones() -> None:
    _, errors = parse_grants({"usage": "read", "orders": "approve"})
    assert errors == {"grants.orders": "Area 'orders' goes up to 'full', not 'approve'."}


def test_parse_grants_names_the_field_of_an_unknown_area_and_of_an_unknown_level() -> None:
    _, errors = parse_grants({"no_such_area": "read", "users": "everything"})
    assert set(errors) == {"grants", "grants.users"}
    assert errors["grants"].startswith("Unknown area 'no_such_area'")
    assert errors["grants.users"].startswith("Unknown level 'everything'")


def test_parse_grants_refuses_more_than_100_grants() -> None:
    assert MAX_GRANTS_PER_POLICY == 100
    grants = {f"area_{n}": "read" for n in range(MAX_GRANTS_PER_POLICY + 1)}
    assert parse_grants(grants) == ({}, {"grants": "A policy holds at most 100 grants."})


def test_parse_grants_does_not_refuse_exactly_100_grants_for_their_number() -> None:
    # Only 17 areas exist, so 100 keys include unknown ones: the refusal must be about those,
    # not about the count.
    grants = {area.value: "read" for area in Area}
    grants.update({f"area_{n}": "read" for n in range(MAX_GRANTS_PER_POLICY - len(grants))})
    assert len(grants) == MAX_GRANTS_PER_POLICY
    parsed, errors = parse_grants(grants)
    assert errors == {"grants": "Unknown area 'area_0'."}
    assert parsed == dict.fromkeys(Area, Level.READ)
