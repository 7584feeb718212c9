"""Deny by default: the route access rule, the one decision and the navigation built on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar, Router, get
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler

from portal.app import NAVIGATION as PORTAL_NAVIGATION
from portal.context import current_actor
from portal.pages import NavItem, visible_navigation, with_paths
from portal.permissions.guards import (
    ACCESS_KEY,
    Access,
    access_of,
    current_principal,
    may,
    public,
    requires,
    signed_in,
)
from portal.permissions.model import Area, Level, Tier
from portal.permissions.principal import Principal
from portal.permissions.resolve import effective_levels, service_scope
from portal.services.handlers import ROUTERS as SERVICE_ROUTERS


def make_principal(tier: Tier = Tier.USER, levels: Mapping[Area, Level] | None = None) -> Principal:
    return Principal(
        user_id=UUID(int=1),
        organisation_id=UUID(int=2),
        organisation_name="Acme",
        email="ada@acme.example",
        full_name="Ada Lovelace",
        display_name=None,
        kind="interactive",
        tier=tier,
        is_owner=False,
        roles=(),
        levels=effective_levels(tier, []) if levels is None else levels,
        scope=service_scope(tier),
        idle_timeout_seconds=1800,
        absolute_timeout_seconds=43200,
    )


async def _page() -> str:
    return "page"


def route(path: str, opt: dict[str, Any] | None = None) -> HTTPRouteHandler:
    return get(path, opt=opt)(_page)


def test_public_signed_in_and_requires_carry_their_access() -> None:
    assert public() == {ACCESS_KEY: Access(public=True)}
    assert signed_in() == {ACCESS_KEY: Access(public=False, area=None, level=Level.NONE)}
    assert requires(Area.ORDERS, Level.FULL) == {
        ACCESS_KEY: Access(area=Area.ORDERS, level=Level.FULL)
    }


def test_access_of_reads_the_handler_opt() -> None:
    assert access_of(route("/orders", requires(Area.ORDERS, Level.READ))) == Access(
        area=Area.ORDERS, level=Level.READ
    )
    assert access_of(route("/open", public())) == Access(public=True)


def test_a_route_without_an_access_rule_has_none() -> None:
    assert access_of(route("/forgotten")) is None
    assert access_of(route("/junk", {ACCESS_KEY: "orders:full"})) is None


def test_may_lets_anyone_use_public_routes() -> None:
    assert may(make_principal(levels={}), Access(public=True)) is True


def test_may_lets_any_principal_use_signed_in_routes() -> None:
    assert may(make_principal(levels={}), Access()) is True


def test_may_checks_the_level_in_the_area() -> None:
    user = make_principal(Tier.USER)
    assert may(user, Access(area=Area.TICKETS, level=Level.FULL)) is True
    assert may(user, Access(area=Area.SERVICES, level=Level.READ)) is True
    assert may(user, Access(area=Area.SERVICES, level=Level.FULL)) is False
    assert may(user, Access(area=Area.ORDERS, level=Level.READ)) is False


def test_may_treats_an_area_missing_from_the_levels_as_none() -> None:
    assert may(make_principal(levels={}), Access(area=Area.USERS, level=Level.READ)) is False


def test_only_approvers_may_approve() -> None:
    approve = Access(area=Area.APPROVALS, level=Level.APPROVE)
    assert may(make_principal(Tier.ADMIN), approve) is True
    assert may(make_principal(Tier.MANAGER), approve) is False
    assert may(make_principal(levels={Area.APPROVALS: Level.FULL}), approve) is False


@settings(max_examples=200, deadline=None)
@given(
    levels=st.dictionaries(st.sampled_from(Area), st.sampled_from(Level)),
    area=st.sampled_from(Area),
    required=st.sampled_from(Level),
)
def test_may_agrees_with_the_principal_levels(
    levels: dict[Area, Level], area: Area, required: Level
) -> None:
    principal = make_principal(levels=levels)
    expected = levels.get(area, Level.NONE) >= required
    assert may(principal, Access(area=area, level=required)) is expected
    assert principal.may(area, required) is expected


def test_principal_name_prefers_the_display_name() -> None:
    principal = make_principal()
    assert principal.name == "Ada Lovelace"
    assert replace(principal, display_name="Ada").name == "Ada"


def test_principal_is_frozen() -> None:
    principal = make_principal()
    with pytest.raises(AttributeError):
        principal.tier = Tier.ADMIN  # type: ignore[misc]


NAVIGATION = [
    NavItem("Dashboard", route("/", signed_in())),
    NavItem("Services", route("/services", requires(Area.SERVICES, Level.READ))),
    NavItem("Orders", route("/orders", requires(Area.ORDERS, Level.READ))),
    NavItem("Approvals", route("/approvals", requires(Area.APPROVALS, Level.APPROVE))),
    NavItem("Users", route("/users", requires(Area.USERS, Level.READ))),
    NavItem("Help", route("/help", public())),
    NavItem("Undeclared", route("/undeclared")),
]


def labels(items: list[NavItem]) -> list[str]:
    return [item.label for item in items]


def test_navigation_for_a_user() -> None:
    shown = visible_navigation(make_principal(Tier.USER), NAVIGATION)
    assert labels(shown) == ["Dashboard", "Services", "Help"]


def test_navigation_for_a_manager() -> None:
    shown = visible_navigation(make_principal(Tier.MANAGER), NAVIGATION)
    assert labels(shown) == ["Dashboard", "Services", "Orders", "Help"]


def test_navigation_for_an_admin_still_hides_routes_without_a_rule() -> None:
    shown = visible_navigation(make_principal(Tier.ADMIN), NAVIGATION)
    assert labels(shown) == ["Dashboard", "Services", "Orders", "Approvals", "Users", "Help"]


def test_navigation_follows_overrides_in_the_levels() -> None:
    levels = {**effective_levels(Tier.USER, []), Area.SERVICES: Level.NONE}
    shown = visible_navigation(make_principal(Tier.USER, levels), NAVIGATION)
    assert labels(shown) == ["Dashboard", "Help"]


@settings(max_examples=200, deadline=None)
@given(levels=st.dictionaries(st.sampled_from(Area), st.sampled_from(Level)))
def test_navigation_shows_exactly_what_may_allows(levels: dict[Area, Level]) -> None:
    always = ["Dashboard", "Help"]
    needs = {
        "Services": (Area.SERVICES, Level.READ),
        "Orders": (Area.ORDERS, Level.READ),
        "Approvals": (Area.APPROVALS, Level.APPROVE),
        "Users": (Area.USERS, Level.READ),
    }
    shown = labels(visible_navigation(make_principal(levels=levels), NAVIGATION))
    expected = {
        label for label, (area, level) in needs.items() if levels.get(area, Level.NONE) >= level
    }
    assert set(shown) == expected | set(always)
    assert shown == [item.label for item in NAVIGATION if item.label in shown]


def test_nav_item_href_is_where_the_app_routes_its_handler() -> None:
    services = Litestar(
        route_handlers=SERVICE_ROUTERS,
        dependencies={
            "principal": Provide(current_principal, sync_to_thread=False),
            "actor": Provide(current_actor, sync_to_thread=False),
        },
    )
    assert PORTAL_NAVIGATION[1].label == "Services"
    assert with_paths(services, PORTAL_NAVIGATION[1:2])[0].href == "/services"
    handler = get(["/b", "/a"], opt=signed_in())(_page)
    app = Litestar(route_handlers=[Router("/x", route_handlers=[handler])])
    assert with_paths(app, [NavItem("Two", handler)])[0].href == "/x/a"
