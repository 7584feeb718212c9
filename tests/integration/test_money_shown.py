"""Money reads one way on every page and in every email: the organisation's (or the order's)
currency, then the amount with separators and two places (portal/money.py)."""

from __future__ import annotations

from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.approvals.engine import evaluate_order
from portal.mail.tables import OutboundEmail
from portal.organisations.tables import Organisation
from tests.conftest import BASE_URL, Tenant, sign_in, with_csrf
from tests.integration.orders_support import add_cost_centres, add_policy


async def test_the_policy_list_shows_thresholds_in_the_organisations_currency(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await Organisation.update({Organisation.currency: "EUR"}).where(Organisation.id == acme.id)
    await add_policy(acme, "Over 500", "500")
    await add_policy(acme, "Big spend", "12500.5", level=2)
    await sign_in(client, acme.admin.email)
    page = await client.get("/settings/approval-policies")
    assert page.status_code == 200
    assert "<td>EUR 500.00</td>" in page.text
    assert "<td>EUR 12,500.50</td>" in page.text


async def test_an_edited_orders_timeline_and_emails_show_formatted_amounts(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_policy(acme, "Over 500", "500.00")
    await add_cost_centres(acme, "IT-1")
    await sign_in(client, acme.manager.email)
    fields = {"kind": "new", "item": "leased-line-10g", "quantity": "1", "cost_centre": "IT-1"}
    placed = await client.post(
        "/orders", data=with_csrf(client, **fields, estimated_cost="6200"), follow_redirects=False
    )
    assert placed.status_code == 303
    order_id = UUID(placed.headers["location"].split("/")[2].split("?")[0])
    await evaluate_order(order_id, BASE_URL)
    notice = await OutboundEmail.select(OutboundEmail.text_body).first()
    assert notice is not None and "Estimated cost: GBP 6,200.00\n" in notice["text_body"]
    edited = await client.post(
        f"/orders/{order_id}/edit",
        data=with_csrf(client, **fields, estimated_cost="5800"),
        follow_redirects=False,
    )
    assert edited.status_code == 303
    page = await client.get(f"/orders/{order_id}")
    assert "quantity 1, GBP 6,200.00." in page.text
    assert "estimated cost: GBP 6,200.00 → GBP 5,800.00." in page.text
    assert "<dt>Estimated cost</dt><dd>GBP 5,800.00</dd>" in page.text
    listed = await client.get("/orders")
    assert "<td>GBP 5,800.00</td>" in listed.text
