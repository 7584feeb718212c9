"""The dashboard's tiles carry figures, each only for whom its page is open to, scoped as
that page is: waiting approvals, one's own orders by status, the services one sees and what
they cost a month."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Tenant, sign_in
from tests.integration.orders_support import add_policy, place, place_and_evaluate
from tests.integration.test_services import add_service


def figure(page: str, tile: str) -> str | None:
    """The text of a tile's figure, tags dropped; None when the page has no such tile."""
    found = re.search(rf'id="tile-{tile}">(.*?)</(?:p|dl)>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip() if found else None


async def test_tiles_show_each_persons_figures_and_only_the_tiles_they_may_open(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await add_policy(acme, "Over 50", "50.00")
    for name in ("Leeds broadband", "Leeds firewall"):
        await add_service(acme, name, acme.user.id)
    await add_service(acme, "York broadband", acme.manager.id)
    await add_service(globex, "Not ours", globex.user.id)
    await place_and_evaluate(acme.manager, "100.00")
    await place(acme.manager, "100.00", submit=False)
    await place_and_evaluate(acme.admin, "12.00")
    await place_and_evaluate(globex.manager, "100.00")

    await sign_in(client, acme.admin.email)
    page = (await client.get("/")).text
    assert figure(page, "approvals") == "1 waiting for you"
    assert figure(page, "orders") == "Approved 1"
    assert figure(page, "services") == "3 services"
    assert figure(page, "monthly-cost") == "Monthly cost: GBP 568.50"

    await sign_in(client, acme.manager.email)
    page = (await client.get("/")).text
    assert figure(page, "approvals") is None
    assert figure(page, "orders") == "Draft 1 Pending approval 1"
    assert figure(page, "services") == "3 services"

    await sign_in(client, acme.user.email)
    page = (await client.get("/")).text
    assert figure(page, "approvals") is None and figure(page, "orders") is None
    assert figure(page, "services") == "2 services"
    assert figure(page, "monthly-cost") == "Monthly cost: GBP 379.00"


async def test_with_no_services_or_orders_the_tiles_say_so(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.manager.email)
    page = (await client.get("/")).text
    assert figure(page, "orders") == "None of yours yet"
    assert figure(page, "services") == "0 services"
    assert figure(page, "monthly-cost") == "Monthly cost: GBP 0.00"
