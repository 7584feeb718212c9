"""A decision names the level it decides: a repeat of the same decision (a client's retry, a
double click, a replayed bulk request) is refused as already decided and never decides the
next level, which its approver never saw."""

from __future__ import annotations

from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.orders.tables import OrderDecision
from tests.conftest import BASE_URL, Tenant, csrf_header, sign_in, with_csrf
from tests.integration.orders_support import (
    add_person,
    add_policy,
    event_kinds,
    place_and_evaluate,
    status_of,
)

ALREADY = "Level 1 of this order is already decided; level 2 waits now."


async def two_levels_for_one_admin(acme: Tenant) -> UUID:
    # Neither policy names anybody, so both levels fall to the organisation's one admin.
    await add_policy(acme, "Over 5,000", "5000.00", level=1)
    await add_policy(acme, "Board", "5000.00", level=2)
    return await place_and_evaluate(acme.manager, "6200.00")


async def approvals_given(order_id: UUID) -> int:
    return (await event_kinds(order_id)).count("approval_given")


async def test_an_api_approval_sent_twice_decides_one_level(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    order_id = await two_levels_for_one_admin(acme)
    await sign_in(client, acme.admin.email)
    url = f"/api/v1/orders/{order_id}/approve"
    first = await client.post(url, json={"level": 1, "revision": 1}, headers=csrf_header(client))
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending_approval"
    again = await client.post(url, json={"level": 1, "revision": 1}, headers=csrf_header(client))
    assert again.status_code == 409
    assert again.json()["error"]["message"].startswith(ALREADY)
    assert await status_of(order_id) == "pending_approval"
    assert await OrderDecision.count() == 1
    assert await approvals_given(order_id) == 1
    # Level 2 is decided only when it is named.
    second = await client.post(url, json={"level": 2, "revision": 1}, headers=csrf_header(client))
    assert second.status_code == 200
    assert await status_of(order_id) == "approved"


async def test_a_decision_must_name_its_level_and_a_future_one_is_refused(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    order_id = await two_levels_for_one_admin(acme)
    await sign_in(client, acme.admin.email)
    url = f"/api/v1/orders/{order_id}/approve"
    missing = await client.post(url, json={"revision": 1}, headers=csrf_header(client))
    assert missing.status_code == 422
    assert missing.json()["error"]["details"] == [
        {"field": "level", "message": "Object missing required field `level`"}
    ]
    ahead = await client.post(url, json={"level": 2}, headers=csrf_header(client))
    assert ahead.status_code == 409
    assert ahead.json()["error"]["message"] == (
        "Level 2 is not waiting yet: the order waits on level 1."
    )
    page = await client.post(f"/orders/{order_id}/approve", data=with_csrf(client, revision="1"))
    assert page.status_code == 409
    assert "Open the order again to see which level waits." in page.text
    assert await OrderDecision.count() == 0


async def test_a_double_submitted_page_approval_decides_one_level(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    order_id = await two_levels_for_one_admin(acme)
    await sign_in(client, acme.admin.email)
    detail = await client.get(f"/orders/{order_id}")
    assert '<input type="hidden" name="level" value="1">' in detail.text
    assert "Approve level 1" in detail.text
    fields = with_csrf(client, revision="1", level="1")
    first = await client.post(f"/orders/{order_id}/approve", data=fields, follow_redirects=False)
    assert first.status_code == 303
    again = await client.post(f"/orders/{order_id}/approve", data=fields)
    assert again.status_code == 409
    assert ALREADY in again.text
    in_queue = await client.post(
        f"/orders/{order_id}/approve", data=fields, headers={"hx-request": "true"}
    )
    assert ALREADY in in_queue.text
    assert await OrderDecision.count() == 1
    assert await approvals_given(order_id) == 1
    assert await status_of(order_id) == "pending_approval"


async def test_a_replayed_bulk_approval_decides_one_level(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    order_id = await two_levels_for_one_admin(acme)
    await sign_in(client, acme.admin.email)
    queue = (await client.get("/api/v1/approvals")).json()
    assert [(i["order"]["id"], i["level"]) for i in queue["items"]] == [(str(order_id), 1)]
    body = {"orders": [{"order_id": str(order_id), "level": 1}]}
    first = await client.post("/api/v1/approvals/approve", json=body, headers=csrf_header(client))
    assert first.json()["results"][0]["ok"] is True
    again = await client.post("/api/v1/approvals/approve", json=body, headers=csrf_header(client))
    assert again.status_code == 200
    [result] = again.json()["results"]
    assert result["ok"] is False and result["message"].startswith(ALREADY)
    page = await client.post("/approvals/approve", data=with_csrf(client, orders=[f"{order_id}:1"]))
    assert ALREADY in page.text
    garbled = await client.post(
        "/approvals/approve", data=with_csrf(client, orders=[str(order_id)])
    )
    assert garbled.status_code == 422
    assert await OrderDecision.count() == 1
    assert await approvals_given(order_id) == 1
    assert await status_of(order_id) == "pending_approval"


async def test_each_level_can_be_made_to_need_a_different_person(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    order_id = await two_levels_for_one_admin(acme)
    await sign_in(client, acme.admin.email)
    shared = await client.get(f"/orders/{order_id}")
    assert "may approve levels 1 and 2: one person can clear these levels" in shared.text
    settings = await client.get("/settings/approval-policies")
    assert 'id="distinct_levels" name="distinct_levels">' in settings.text
    saved = await client.post(
        "/settings/approval-policies/levels",
        data=with_csrf(client, distinct_levels="on"),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    settings = await client.get("/settings/approval-policies")
    assert 'id="distinct_levels" name="distinct_levels" checked>' in settings.text
    assert (
        await ActivityEvent.count().where(
            ActivityEvent.action == "organisation.approval_levels_changed"
        )
        == 1
    )
    url = f"/api/v1/orders/{order_id}/approve"
    first = await client.post(url, json={"level": 1}, headers=csrf_header(client))
    assert first.status_code == 200
    assert (
        "but each level needs a different person" in (await client.get(f"/orders/{order_id}")).text
    )
    assert (await client.get("/api/v1/approvals")).json()["items"] == []
    same = await client.post(url, json={"level": 2}, headers=csrf_header(client))
    assert same.status_code == 403
    assert same.json()["error"]["message"] == (
        "Each level of an order needs a different person: you approved an earlier level."
    )
    assert await status_of(order_id) == "pending_approval"
    second = await add_person(acme, "Second Admin")
    async with AsyncTestClient(app, base_url=BASE_URL) as other:
        await sign_in(other, second.email)
        queue = (await other.get("/api/v1/approvals")).json()
        assert [(i["order"]["id"], i["level"]) for i in queue["items"]] == [(str(order_id), 2)]
        done = await other.post(url, json={"level": 2}, headers=csrf_header(other))
        assert done.status_code == 200 and done.json()["status"] == "approved"
