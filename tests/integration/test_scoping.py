"""A user-tier principal never sees an unassigned service, and another organisation never sees
anything, by any route: every GET route the app registers is asked, with the hidden service's
id wherever a route takes one."""

from __future__ import annotations

from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Member, Tenant, sign_in
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
