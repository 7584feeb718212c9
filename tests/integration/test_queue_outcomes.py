"""What the approvals queue tells an approver after a decision: bulk approval redirects back
to the queue (post, redirect, get) with each order's result shown once; a decision in place
names the order and what waits next."""

from __future__ import annotations

from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.orders.tables import OrderDecision
from portal.permissions.model import Tier
from tests.conftest import Tenant, sign_in, with_csrf
from tests.integration.orders_support import (
    add_person,
    add_policy,
    order_row,
    place_and_evaluate,
    status_of,
)

HTMX = {"hx-request": "true"}


async def number_of(order_id: UUID) -> int:
    number: int = (await order_row(order_id))["number"]
    return number


async def test_bulk_approve_redirects_to_the_queue_which_shows_each_result_once(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    await add_policy(acme, "Over 50", "50.00")
    await add_policy(acme, "Over 1000", "1000.00", level=2, users=[finance.id])
    one_level = await place_and_evaluate(acme.manager, "100.00")
    two_levels = await place_and_evaluate(acme.manager, "2000.00")
    own = await place_and_evaluate(acme.admin, "100.00")
    await sign_in(client, acme.admin.email)
    chosen = [f"{one_level}:1", f"{two_levels}:1", f"{own}:1"]
    posted = await client.post(
        "/approvals/approve", data=with_csrf(client, orders=chosen), follow_redirects=False
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/approvals?done=bulk"
    queue = await client.get(posted.headers["location"])
    assert queue.status_code == 200
    assert f'<a href="/orders/{one_level}">Order {await number_of(one_level)} approved.</a>' in (
        queue.text
    )
    assert (
        f"Order {await number_of(two_levels)}: your approval is recorded; level 2 waits now."
        in queue.text
    )
    assert f'<a href="/orders/{own}">This order</a>: ' in queue.text and "own order" in queue.text
    assert (await status_of(one_level), await status_of(two_levels)) == (
        "approved",
        "pending_approval",
    )
    again = await client.get("/approvals?done=bulk")
    assert again.status_code == 200 and 'id="bulk-results"' not in again.text


async def test_a_bulk_approval_of_nothing_says_so_and_decides_nothing(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_policy(acme, "Over 50", "50.00")
    order_id = await place_and_evaluate(acme.manager, "100.00")
    await sign_in(client, acme.admin.email)
    for orders in ([], ["not-an-order"], [f"{order_id}:one"]):
        refused = await client.post("/approvals/approve", data=with_csrf(client, orders=orders))
        assert refused.status_code == 422
        assert "Choose one or more orders from the queue." in refused.text
    assert await status_of(order_id) == "pending_approval"
    assert await OrderDecision.count() == 0


async def test_approving_a_level_in_place_says_which_level_waits_whether_or_not_it_stays(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    await add_policy(acme, "Over 50", "50.00")
    await add_policy(acme, "Over 1000, admins", "1000.00", level=2)
    await add_policy(acme, "Over 5000, finance", "5000.00", level=3, users=[finance.id])
    order_id = await place_and_evaluate(acme.manager, "6000.00")
    number = await number_of(order_id)
    await sign_in(client, acme.admin.email)
    # Level 2 is the admins' too: the row comes back at level 2, saying so.
    row = await client.post(
        f"/orders/{order_id}/approve", data=with_csrf(client, level="1"), headers=HTMX
    )
    assert row.status_code == 200
    said = f"Order {number}: your approval is recorded; level 2 waits now."
    assert f'<p class="notice" id="done-{order_id}" role="status">{said}</p>' in row.text
    assert f'name="orders" value="{order_id}:2"' in row.text
    # Level 3 is finance's alone: the row leaves the admin's queue, saying what waits.
    row = await client.post(
        f"/orders/{order_id}/approve", data=with_csrf(client, level="2"), headers=HTMX
    )
    assert (
        f"Order {number}: your approval is recorded; level 3 waits now. It has left your queue."
        in row.text
    )
    await sign_in(client, finance.email)
    assert f"queue-{order_id}" in (await client.get("/approvals")).text


async def test_rejecting_in_place_names_the_order_and_says_the_requester_is_told(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_policy(acme, "Over 50", "50.00")
    order_id = await place_and_evaluate(acme.manager, "100.00")
    await sign_in(client, acme.admin.email)
    row = await client.post(
        f"/orders/{order_id}/reject",
        data=with_csrf(client, level="1", reason="Not this quarter"),
        headers=HTMX,
    )
    assert row.status_code == 200
    assert (
        f"Order {await number_of(order_id)} rejected; the requester is told your reason. "
        "It has left your queue." in row.text
    )
