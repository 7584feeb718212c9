"""Orders, the queue and approval policies over HTTP: pages (forms and htmx) and the JSON API,
with bad input, other tenants' ids, and concurrent requests."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.approvals.engine import evaluate_order
from portal.approvals.tables import ApprovalPolicy
from portal.orders.tables import Order, OrderDecision
from portal.permissions.model import Tier
from portal.services.tables import Service
from tests.conftest import BASE_URL, Member, Tenant, sign_in
from tests.integration.orders_support import (
    add_cost_centres,
    add_person,
    add_policy,
    event_kinds,
    order_row,
    place_and_evaluate,
    status_of,
)
from tests.integration.test_services import add_service


def form(client: AsyncTestClient[Litestar], **fields: Any) -> dict[str, Any]:
    return {**fields, "_csrf_token": client.cookies["csrftoken"]}


def api_headers(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def test_a_manager_places_an_order_in_the_page_and_the_admin_rejects_it(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    await add_policy(acme, "Over 500", "500.00")
    await add_cost_centres(acme, "IT-1")
    await sign_in(client, acme.manager.email)
    assert "Leased line 10 Gbps" in (await client.get("/orders/new")).text
    placed = await client.post(
        "/orders",
        data=form(client, kind="new", item="leased-line-10g", quantity="1", cost_centre="IT-1"),
        follow_redirects=False,
    )
    assert placed.status_code == 303
    order_id = UUID(placed.headers["location"].split("/")[2].split("?")[0])
    row = await order_row(order_id)
    assert (row["estimated_cost"], row["currency"], row["status"]) == (1250, "GBP", "submitted")
    await evaluate_order(order_id, BASE_URL)
    async with AsyncTestClient(app, base_url=BASE_URL) as admin:
        await sign_in(admin, acme.admin.email)
        dashboard = await admin.get("/")
        assert 'id="widget-count">1<' in dashboard.text
        queue = await admin.get("/approvals")
        assert f'id="queue-{order_id}"' in queue.text
        htmx = {"hx-request": "true"}
        refused = await admin.post(
            f"/orders/{order_id}/reject", data=form(admin, reason=" ", level="1"), headers=htmx
        )
        assert refused.status_code == 422
        assert "Give a reason" in refused.text and await status_of(order_id) == "pending_approval"
        rejected = await admin.post(
            f"/orders/{order_id}/reject",
            data=form(admin, reason="Over budget this quarter", revision="1", level="1"),
            headers=htmx,
        )
        assert rejected.status_code == 200
        assert "left your queue" in rejected.text
        assert '<span id="queue-count" hx-swap-oob="true">0</span>' in rejected.text
    page = await client.get(f"/orders/{order_id}")
    assert "Over budget this quarter" in page.text and "Rejected" in page.text


async def test_bad_order_input_gets_messages_and_stores_nothing(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.manager.email)
    response = await client.post(
        "/orders",
        data=form(
            client,
            kind="new",
            item="no-such-item",
            quantity="-3",
            estimated_cost="12.345",
            notes="x" * 5000,
        ),
    )
    assert response.status_code == 422
    for message in ("Choose an item", "quantity from 1", "two decimal places", "at most 2000"):
        assert message in response.text
    assert 'value="-3"' in response.text  # what was typed is kept
    api = await client.post(
        "/api/v1/orders",
        json={"type": "new", "item": "firewall", "estimated_cost": 99.5},
        headers=api_headers(client),
    )
    assert api.status_code == 422  # a float is not money
    assert [d["field"] for d in api.json()["error"]["details"]] == ["estimated_cost"]
    huge = await client.post(
        "/api/v1/orders",
        json={"type": "new", "item": "firewall", "estimated_cost": "1e30", "quantity": 10**9},
        headers=api_headers(client),
    )
    assert huge.status_code == 422
    fields = {detail["field"] for detail in huge.json()["error"]["details"]}
    assert fields == {"estimated_cost", "quantity"}
    assert await Order.count() == 0


async def test_the_api_places_edits_and_cancels_and_shows_the_timeline(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await add_policy(acme, "Over 50", "50.00")
    await add_cost_centres(acme, "NET")
    await sign_in(client, acme.manager.email)
    headers = api_headers(client)
    placed = await client.post(
        "/api/v1/orders",
        json={"type": "new", "item": "firewall", "quantity": 2, "cost_centre": "NET"},
        headers=headers,
    )
    assert placed.status_code == 201, placed.text
    body = placed.json()
    order_id = body["order"]["id"]
    assert body["order"]["estimated_cost"] == {"amount": "190.00", "currency": "GBP"}
    await evaluate_order(UUID(order_id), BASE_URL)
    edited = await client.patch(
        f"/api/v1/orders/{order_id}", json={"estimated_cost": "250.00"}, headers=headers
    )
    assert edited.status_code == 200
    assert edited.json()["order"]["status"] == "submitted"
    assert edited.json()["revision"] == 2
    cancelled = await client.post(
        f"/api/v1/orders/{order_id}/cancel", json={"reason": "Not needed"}, headers=headers
    )
    assert cancelled.status_code == 200
    detail = (await client.get(f"/api/v1/orders/{order_id}")).json()
    assert [event["kind"] for event in detail["timeline"]] == [
        "submitted",
        "evaluated",
        "edited",
        "cancelled",
    ]
    assert detail["timeline"][-1]["actor"] == "Acme manager"
    again = await client.post(f"/api/v1/orders/{order_id}/cancel", json={}, headers=headers)
    assert again.status_code == 409
    await sign_in(client, globex.admin.email)
    assert (await client.get(f"/api/v1/orders/{order_id}")).status_code == 404
    assert (await client.get(f"/orders/{order_id}")).status_code == 404
    foreign = await client.post(
        f"/api/v1/orders/{order_id}/approve", json={"level": 1}, headers=api_headers(client)
    )
    assert foreign.status_code == 404
    assert (await client.get("/api/v1/orders")).json()["items"] == []


async def test_a_change_order_must_name_a_service_the_requester_may_see(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    theirs = await add_service(globex, "Globex line", None)
    ours = await add_service(acme, "Acme line", None)
    await sign_in(client, acme.manager.email)
    change = {"type": "change", "description": "Double the bandwidth", "estimated_cost": "80"}
    refused = await client.post(
        "/api/v1/orders", json={**change, "service": str(theirs)}, headers=api_headers(client)
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {"field": "service", "message": "Choose a service."}
    ]
    placed = await client.post(
        "/api/v1/orders", json={**change, "service": str(ours)}, headers=api_headers(client)
    )
    assert placed.status_code == 201
    assert placed.json()["service_id"] == str(ours)


async def session_headers(client: AsyncTestClient[Litestar], member: Member) -> dict[str, str]:
    """One client, many people: each request carries its own session cookie and CSRF token."""
    client.cookies.clear()
    await sign_in(client, member.email)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    headers = {"cookie": cookie, "x-csrftoken": client.cookies["csrftoken"]}
    client.cookies.clear()
    return headers


async def test_twenty_concurrent_api_decisions_make_one_decision_and_one_transition(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_policy(acme, "Over 50", "50.00")
    approvers = [acme.admin, *[await add_person(acme, f"Admin {n}") for n in range(3)]]
    order_id = await place_and_evaluate(acme.manager, "100.00")
    sessions = [await session_headers(client, approver) for approver in approvers]

    async def attempt(index: int) -> int:
        verb = "reject" if index % 4 == 0 else "approve"
        response = await client.post(
            f"/api/v1/orders/{order_id}/{verb}",
            json={"reason": "No budget", "revision": 1, "level": 1},
            headers=sessions[index % len(sessions)],
        )
        return response.status_code

    statuses = await asyncio.gather(*(attempt(index) for index in range(20)))
    assert sorted(statuses) == [200] + [409] * 19, statuses
    decisions = await OrderDecision.select(OrderDecision.approve)
    assert len(decisions) == 1
    final = "approved" if decisions[0]["approve"] else "rejected"
    assert await status_of(order_id) == final
    kinds = await event_kinds(order_id)
    assert kinds[:2] == ["submitted", "evaluated"]
    assert kinds.count("approved") + kinds.count("rejected") == 1


async def test_bulk_approve_gives_a_result_per_order(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await add_policy(acme, "Over 50", "50.00")
    await add_policy(globex, "Over 50", "50.00")
    second = await add_person(acme, "Second Admin")
    own = await place_and_evaluate(acme.admin, "100.00")
    others = [await place_and_evaluate(acme.manager, "100.00") for _ in range(3)]
    foreign = await place_and_evaluate(globex.manager, "100.00")
    await sign_in(client, acme.admin.email)
    response = await client.post(
        "/api/v1/approvals/approve",
        json={"orders": [{"order_id": str(i), "level": 1} for i in [*others, own, foreign]]},
        headers=api_headers(client),
    )
    assert response.status_code == 200
    results = {result["order_id"]: result for result in response.json()["results"]}
    assert [results[str(i)]["status"] for i in others] == ["approved"] * 3
    assert results[str(own)]["ok"] is False and "own order" in results[str(own)]["message"]
    assert results[str(foreign)]["ok"] is False
    assert results[str(foreign)]["message"] == "No such order."
    assert await status_of(foreign) == "pending_approval"
    page = await client.post("/approvals/approve", data=form(client, orders=[f"{own}:1"]))
    assert page.status_code == 200 and "own order" in page.text
    await sign_in(client, second.email)
    queue = (await client.get("/api/v1/approvals")).json()
    assert [item["order"]["id"] for item in queue["items"]] == [str(own)]


async def test_queue_filters(client: AsyncTestClient[Litestar], acme: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00")
    await add_cost_centres(acme, "OPS", "IT")
    cheap = await place_and_evaluate(acme.manager, "60.00", cost_centre="OPS")
    dear = await place_and_evaluate(acme.manager, "6000.00", cost_centre="IT")
    await sign_in(client, acme.admin.email)

    async def ids(query: str) -> list[str]:
        response = await client.get(f"/api/v1/approvals?{query}")
        assert response.status_code == 200, response.text
        return [item["order"]["id"] for item in response.json()["items"]]

    assert await ids("") == [str(cheap), str(dear)]
    assert await ids("min_amount=100") == [str(dear)]
    assert await ids("max_amount=100") == [str(cheap)]
    assert await ids("cost_centre=OPS") == [str(cheap)]
    assert await ids(f"requester={acme.manager.id}") == [str(cheap), str(dear)]
    assert await ids(f"requester={acme.admin.id}") == []
    assert await ids("older_than_days=1") == []
    bad = await client.get("/api/v1/approvals?min_amount=lots&older_than_days=-1")
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {
        "min_amount",
        "older_than_days",
    }
    page = await client.get("/approvals?cost_centre=IT")
    assert f"queue-{dear}" in page.text and f"queue-{cheap}" not in page.text


async def test_policies_in_the_settings_pages_and_the_api(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    await sign_in(client, acme.admin.email)
    bad = await client.post(
        "/settings/approval-policies",
        data=form(client, name="", threshold="-5", required_approvals="0", level="99"),
    )
    assert bad.status_code == 422
    assert await ApprovalPolicy.count() == 0
    saved = await client.post(
        "/settings/approval-policies",
        data=form(
            client,
            name="Finance check",
            active="on",
            threshold="50",
            approver_users=[str(finance.id)],
            required_approvals="1",
            level="1",
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    await add_policy(acme, "Big spend", "1000.00", level=2, required=2)
    preview = await client.get("/settings/approval-policies/preview?cost=1500&kind=new")
    assert preview.status_code == 200
    assert "Finance check" in preview.text and "Big spend" in preview.text
    assert "Acme Finance" in preview.text
    exactly = await client.post(
        "/api/v1/approval-policies/preview",
        json={"estimated_cost": "1000.00"},
        headers=api_headers(client),
    )
    assert [step["policy"] for step in exactly.json()] == ["Finance check"]
    duplicate = await client.post(
        "/api/v1/approval-policies",
        json={"name": "Big spend", "threshold": "5"},
        headers=api_headers(client),
    )
    assert duplicate.status_code == 409
    policies = (await client.get("/api/v1/approval-policies")).json()
    policy_id = next(p["id"] for p in policies if p["name"] == "Finance check")
    changed = await client.patch(
        f"/api/v1/approval-policies/{policy_id}",
        json={"active": False},
        headers=api_headers(client),
    )
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert changed.json()["approver_users"] == [str(finance.id)]
    timing = await client.post(
        "/settings/approval-policies/timing",
        data=form(client, reminder_hours="48", escalation_hours="24"),
    )
    assert timing.status_code == 422 and "later than the reminder" in timing.text
    await sign_in(client, globex.admin.email)
    assert (await client.get(f"/api/v1/approval-policies/{policy_id}")).status_code == 404
    assert (await client.get(f"/settings/approval-policies/{policy_id}")).status_code == 404
    assert (await client.get("/api/v1/approval-policies")).json() == []


async def test_a_change_is_ordered_from_the_service_page_even_beyond_the_first_choices(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await Service.insert(
        *(
            Service(organisation=acme.id, name=f"Aardvark {n:03}", kind="Voice", monthly_cost=1)
            for n in range(200)
        )
    )
    last = await add_service(acme, "Zulu line", acme.user.id)
    await sign_in(client, acme.manager.email)
    page = await client.get(f"/services/{last}")
    assert f'href="/orders/new?service={last}"' in page.text
    form = await client.get(f"/orders/new?service={last}")
    assert f'<option value="{last}" selected>' in form.text
    await sign_in(client, acme.user.email)  # the user tier places no orders
    own = await client.get(f"/services/{last}")
    assert own.status_code == 200 and "Order a change" not in own.text


async def test_a_draft_is_edited_in_the_form_submitted_and_found_among_mine(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.manager.email)
    placed = await client.post(
        "/orders",
        data=form(client, kind="new", item="firewall", quantity="1", action="draft"),
        follow_redirects=False,
    )
    order_id = UUID(placed.headers["location"].split("/")[2].split("?")[0])
    assert await status_of(order_id) == "draft"
    edit = await client.get(f"/orders/{order_id}/edit")
    # Derived values come back empty, so a new quantity derives them afresh.
    assert 'id="estimated_cost" name="estimated_cost" inputmode="decimal" value=""' in edit.text
    assert 'id="description" name="description" maxlength="500" value=""' in edit.text
    saved = await client.post(
        f"/orders/{order_id}/edit",
        data=form(client, kind="new", item="leased-line-10g", quantity="3"),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    row = await order_row(order_id)
    assert (row["description"], row["estimated_cost"]) == ("Leased line 10 Gbps", 3750)
    page = await client.get(f"/orders/{order_id}")
    assert "<dt>Item</dt><dd>Leased line 10 Gbps</dd>" in page.text
    submitted = await client.post(
        f"/orders/{order_id}/submit", data=form(client), follow_redirects=False
    )
    assert submitted.status_code == 303 and await status_of(order_id) == "submitted"
    await place_and_evaluate(acme.admin, "12.00")
    mine = await client.get("/orders?mine=1")
    everyone = await client.get("/orders")
    assert f"/orders/{order_id}" in mine.text and mine.text.count('href="/orders/') - 1 == 1
    assert everyone.text.count('<td><a href="/orders/') == 2


async def test_a_low_typed_estimate_cannot_slip_a_catalogue_order_under_a_policy(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_policy(acme, "Over 500", "500.00")
    await sign_in(client, acme.manager.email)
    order = {"type": "new", "item": "leased-line-10g", "quantity": 1, "estimated_cost": "120"}
    refused = await client.post("/api/v1/orders", json=order, headers=api_headers(client))
    assert refused.status_code == 422
    [detail] = refused.json()["error"]["details"]
    assert detail["field"] == "estimated_cost"
    assert detail["message"].startswith("At least 1,250.00 for 1 x Leased line 10 Gbps")
    page = await client.post(
        "/orders",
        data=form(client, kind="new", item="leased-line-10g", quantity="1", estimated_cost="120"),
    )
    assert page.status_code == 422
    assert 'id="estimated_cost-error"' in page.text and "At least 1,250.00" in page.text
    assert await Order.count() == 0
    more = await client.post(
        "/api/v1/orders", json={**order, "estimated_cost": "1400.00"}, headers=api_headers(client)
    )
    assert more.status_code == 201
    order_id = UUID(more.json()["order"]["id"])
    await evaluate_order(order_id, BASE_URL)
    assert await status_of(order_id) == "pending_approval"


async def test_an_unknown_status_filter_is_refused_as_the_status_field(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.manager.email)
    refused = await client.get("/api/v1/orders", params={"status": "bogus"})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {"field": "status", "message": "Unknown status 'bogus'."}
    ]
    stale = await client.get("/api/v1/orders", params={"after": "not-a-cursor"})
    assert stale.status_code == 422
    assert [d["field"] for d in stale.json()["error"]["details"]] == ["after"]


async def test_the_dashboard_says_how_many_more_wait_than_it_lists(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_policy(acme, "Over 50", "50.00")
    for _ in range(4):
        await place_and_evaluate(acme.manager, "100.00")
    await sign_in(client, acme.admin.email)
    dashboard = await client.get("/")
    assert 'id="widget-count">4<' in dashboard.text
    assert dashboard.text.count('<li><a href="/orders/') == 3
    assert "and 1 more in your queue" in dashboard.text
