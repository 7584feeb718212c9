"""A user-tier principal never sees an unassigned service, nobody without services:read sees
any, and another organisation never sees anything, by any route: every GET route the app
registers is asked, with the hidden service's id wherever a route takes one. Underneath, the
one condition every services query applies (`visible_to`), asked of a real database."""

from __future__ import annotations

from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.permissions.model import TIER_GRANTS, Area, Level, OverrideKind, Tier
from portal.services.queries import visible_to
from portal.services.tables import Service
from portal.users.service import UserChanges, change_user
from tests.conftest import BASE_URL, Member, Tenant, sign_in
from tests.integration.orders_support import principal_of
from tests.integration.test_access import UNKNOWN_ID, concrete, registered_routes
from tests.integration.test_services import add_service

HIDDEN = "Zebra hidden circuit"
SHOWN = "Yak visible circuit"


def paths_for(app: Litestar, service_id: UUID) -> list[str]:
    """Every GET path, with the hidden service's id where a route takes a service id."""
    paths = []
    for method, path, _ in registered_routes(app):
        if method != "GET" or path.startswith("/static") or path.startswith("/schema"):
            continue
        paths.append(concrete(path.replace("{service_id:uuid}", str(service_id))))
    search = ["/services?q=circuit", "/api/v1/services?q=circuit", "/services/export.csv?q=z"]
    return sorted(set(paths)) + search


async def leaks(client: AsyncTestClient[Litestar], app: Litestar, service_id: UUID) -> list[str]:
    found = []
    for path in paths_for(app, service_id):
        response = await client.get(path, follow_redirects=False)
        if HIDDEN in response.text or str(service_id) in response.text:
            found.append(f"{path} ({response.status_code})")
    return found


@pytest.mark.parametrize("who", ["user", "other organisation"])
async def test_an_unassigned_service_is_seen_by_no_route(
    who: str, client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant, globex: Tenant
) -> None:
    hidden = await add_service(acme, HIDDEN, acme.manager.id)
    await add_service(acme, SHOWN, acme.user.id)
    member: Member = acme.user if who == "user" else globex.admin
    await sign_in(client, member.email)
    assert await leaks(client, app, hidden) == []
    listing = await client.get("/api/v1/services?q=circuit")
    expected = 1 if who == "user" else 0
    assert listing.json()["total"] == expected
    assert listing.status_code == 200 and UNKNOWN_ID not in listing.text
    # The probe can fail: the same routes show the service to the organisation's admin.
    await sign_in(client, acme.admin.email)
    assert await leaks(client, app, hidden) != []


@pytest.mark.parametrize("tier", list(Tier))
async def test_without_services_read_no_route_shows_even_ones_own_service(
    tier: Tier, client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    member: Member = getattr(acme, tier.value)
    own = await add_service(acme, HIDDEN, member.id)
    restricted = {Area.SERVICES: (OverrideKind.RESTRICT, Level.NONE)}
    await change_user(
        acme.admin.actor, member.id, UserChanges(overrides=restricted), base_url=BASE_URL
    )
    await sign_in(client, member.email)
    # The one exception today: the new-order form offers services to change by scope alone
    # (visible_to), without asking for services:read, to whoever may place orders.
    may_order = TIER_GRANTS[tier].get(Area.ORDERS) is Level.FULL
    assert await leaks(client, app, own) == (["/orders/new (200)"] if may_order else [])
    assert (await client.get("/api/v1/services")).status_code == 403
    # The probe can fail: with the restriction lifted, the same routes show the same member it.
    await change_user(
        acme.admin.actor, member.id, UserChanges(overrides={Area.SERVICES: None}), base_url=BASE_URL
    )
    assert await leaks(client, app, own) != []


# A services level as the tier leaves it, raised, or lowered as far as it can go while the
# services stay readable: only the tier decides the scope.
SERVICES_LEVELS = {
    "of the tier": None,
    "granted full": (OverrideKind.GRANT, Level.FULL),
    "restricted to read": (OverrideKind.RESTRICT, Level.READ),
}


@pytest.mark.parametrize("level", list(SERVICES_LEVELS))
@pytest.mark.parametrize("tier", list(Tier))
async def test_visible_to_holds_each_tier_to_its_scope_at_any_services_level(
    tier: Tier, level: str, acme: Tenant, globex: Tenant
) -> None:
    member: Member = getattr(acme, tier.value)
    someone_else = acme.manager if member == acme.admin else acme.admin
    mine = await add_service(acme, "Mine", member.id)
    someone_elses = await add_service(acme, "Someone else's", someone_else.id)
    nobodys = await add_service(acme, "Nobody's", None)
    await add_service(globex, "Another organisation's", globex.admin.id)
    await add_service(globex, "Another organisation's, nobody's", None)
    override = SERVICES_LEVELS[level]
    if override is not None:
        await change_user(
            acme.admin.actor,
            member.id,
            UserChanges(overrides={Area.SERVICES: override}),
            base_url=BASE_URL,
        )
    principal = await principal_of(member)
    expected_level = TIER_GRANTS[tier][Area.SERVICES] if override is None else override[1]
    assert principal.levels[Area.SERVICES] is expected_level
    rows = await Service.select(Service.id).where(visible_to(principal))
    seen = {row["id"] for row in rows}
    # Assigned scope (the user tier): only its own; organisation scope: all of its own
    # organisation's, with or without a contact; nobody ever another organisation's.
    assert seen == ({mine} if tier is Tier.USER else {mine, someone_elses, nobodys})
