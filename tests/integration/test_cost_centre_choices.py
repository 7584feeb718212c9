"""Orders, approval policies and services name cost centres from the organisation's list, over
HTTP: the API takes a code and refuses an unknown, archived or other tenant's one by the field;
what already named an archived cost centre keeps it; the migration builds each organisation's
list from the free text used before. Also: the order form's fields by kind."""

from __future__ import annotations

import importlib
import json
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.approvals.tables import ApprovalPolicy
from portal.costcentres.rules import ARCHIVED_MESSAGE, UNKNOWN_MESSAGE
from portal.costcentres.tables import CostCentre
from portal.orders.tables import Order
from portal.services.tables import Service
from tests.conftest import Tenant, csrf_header, sign_in, with_csrf
from tests.integration.orders_support import (
    add_cost_centres,
    order_row,
    place,
    place_and_evaluate,
    status_of,
)
from tests.integration.test_services import add_service

MIGRATION = "migrations.portal_2026_12_03t10_30_10_000000"


@pytest.fixture
async def listed(acme: Tenant, globex: Tenant) -> None:
    await add_cost_centres(acme, "CC-100", "OPS-200")
    await add_cost_centres(acme, "MKT-500", archived=True)
    await add_cost_centres(globex, "GLX-1")


async def archive(tenant: Tenant, code: str) -> None:
    await CostCentre.update({CostCentre.archived: True}).where(
        (CostCentre.organisation == tenant.id) & (CostCentre.code == code)
    )


def order_id_of(response: Any) -> UUID:
    return UUID(response.headers["location"].split("/")[2].split("?")[0])


async def test_the_order_form_offers_the_active_cost_centres_and_refuses_others(
    client: AsyncTestClient[Litestar], acme: Tenant, listed: None
) -> None:
    await sign_in(client, acme.manager.email)
    form = (await client.get("/orders/new")).text
    assert '<option value="CC-100">CC-100 · CC-100 centre</option>' in form
    assert "OPS-200" in form and "MKT-500" not in form and "GLX-1" not in form
    for code, message in (("MKT-500", ARCHIVED_MESSAGE), ("GLX-1", UNKNOWN_MESSAGE)):
        refused = await client.post(
            "/orders",
            data=with_csrf(client, kind="new", item="firewall", quantity="1", cost_centre=code),
        )
        assert refused.status_code == 422
        assert 'id="cost_centre-error">' in refused.text and message in refused.text
    assert await Order.count() == 0
    placed = await client.post(
        "/orders",
        data=with_csrf(client, kind="new", item="firewall", quantity="1", cost_centre="OPS-200"),
        follow_redirects=False,
    )
    assert placed.status_code == 303
    order_id = order_id_of(placed)
    assert (await order_row(order_id))["cost_centre"] == "OPS-200"
    page = await client.get(f"/orders/{order_id}")
    assert "OPS-200 · OPS-200 centre" in page.text


@pytest.mark.parametrize(
    "code", ["CC-999", "MKT-500", "GLX-1", "C" * 10_000, "CC-100\x00", "CC\u202e-100"]
)
async def test_the_api_refuses_a_cost_centre_not_in_the_active_list(
    client: AsyncTestClient[Litestar], acme: Tenant, listed: None, code: str
) -> None:
    await sign_in(client, acme.manager.email)
    refused = await client.post(
        "/api/v1/orders",
        json={"type": "new", "item": "firewall", "cost_centre": code},
        headers=csrf_header(client),
    )
    assert refused.status_code == 422, refused.text
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["cost_centre"]
    assert await Order.count() == 0


async def test_the_api_takes_a_code_in_any_letter_case_and_stores_the_lists_spelling(
    client: AsyncTestClient[Litestar], acme: Tenant, listed: None
) -> None:
    await sign_in(client, acme.manager.email)
    placed = await client.post(
        "/api/v1/orders",
        json={"type": "new", "item": "firewall", "cost_centre": "cc-100"},
        headers=csrf_header(client),
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["order"]["cost_centre"] == "CC-100"
    none = await client.post(
        "/api/v1/orders", json={"type": "new", "item": "firewall"}, headers=csrf_header(client)
    )
    assert none.status_code == 201 and none.json()["order"]["cost_centre"] == ""


async def test_an_order_keeps_its_cost_centre_once_archived_but_cannot_move_to_one(
    client: AsyncTestClient[Litestar], acme: Tenant, listed: None
) -> None:
    order_id = await place(acme.manager, "95.00", item="firewall", cost_centre="CC-100")
    await archive(acme, "CC-100")
    await sign_in(client, acme.manager.email)
    edit = (await client.get(f"/orders/{order_id}/edit")).text
    assert '<option value="CC-100" selected>CC-100 · CC-100 centre (archived)</option>' in edit
    assert "MKT-500" not in edit
    kept = await client.post(
        f"/orders/{order_id}/edit",
        data=with_csrf(
            client, kind="new", item="firewall", quantity="1", cost_centre="CC-100", notes="Soon"
        ),
        follow_redirects=False,
    )
    assert kept.status_code == 303
    headers = csrf_header(client)
    moved = await client.patch(
        f"/api/v1/orders/{order_id}", json={"cost_centre": "MKT-500"}, headers=headers
    )
    assert moved.status_code == 422
    assert moved.json()["error"]["details"] == [
        {"field": "cost_centre", "message": ARCHIVED_MESSAGE}
    ]
    row = await order_row(order_id)
    assert (row["cost_centre"], row["notes"]) == ("CC-100", "Soon")
    other = await client.post(
        "/api/v1/orders",
        json={"type": "new", "item": "firewall", "cost_centre": "CC-100"},
        headers=headers,
    )
    assert other.status_code == 422  # a new order cannot choose the archived one


async def test_approval_policies_choose_cost_centres_from_the_list(
    client: AsyncTestClient[Litestar], acme: Tenant, listed: None
) -> None:
    await sign_in(client, acme.admin.email)
    form = (await client.get("/settings/approval-policies/new")).text
    assert '<option value="CC-100">' in form and "MKT-500" not in form and "GLX-1" not in form
    saved = await client.post(
        "/settings/approval-policies",
        data=with_csrf(
            client,
            name="Finance spend",
            active="on",
            threshold="50",
            cost_centres=["cc-100"],
            required_approvals="1",
            level="1",
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    policy = await ApprovalPolicy.select().first()
    assert policy is not None and json.loads(policy["cost_centres"]) == ["CC-100"]
    for codes in (["GLX-1"], ["MKT-500"], ["CC-100", "nope"], ["C" * 10_000]):
        refused = await client.post(
            "/api/v1/approval-policies",
            json={"name": "Other", "threshold": "5", "cost_centres": codes},
            headers=csrf_header(client),
        )
        assert refused.status_code == 422, codes
        assert [d["field"] for d in refused.json()["error"]["details"]] == ["cost_centres"]
    page = await client.post(
        "/settings/approval-policies",
        data=with_csrf(
            client,
            name="Other",
            threshold="5",
            cost_centres=["MKT-500"],
            required_approvals="1",
            level="1",
        ),
    )
    assert page.status_code == 422 and ARCHIVED_MESSAGE in page.text
    assert await ApprovalPolicy.count() == 1
    # The engine weighs the code: only the listed cost centre's orders need approval.
    elsewhere = await place_and_evaluate(acme.manager, "95.00", cost_centre="OPS-200")
    here = await place_and_evaluate(acme.manager, "95.00", cost_centre="CC-100")
    assert (await status_of(elsewhere), await status_of(here)) == ("approved", "pending_approval")
    # Archived later, the policy keeps it and can still be saved.
    await archive(acme, "CC-100")
    edit = (await client.get(f"/settings/approval-policies/{policy['id']}")).text
    assert "CC-100 · CC-100 centre (archived)</option>" in edit
    renamed = await client.patch(
        f"/api/v1/approval-policies/{policy['id']}",
        json={"name": "Finance spend (old)"},
        headers=csrf_header(client),
    )
    assert renamed.status_code == 200 and renamed.json()["cost_centres"] == ["CC-100"]


async def test_a_service_shows_its_cost_centre_by_name(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_cost_centres(acme, "IT-100")
    service_id = await add_service(acme, "Head office broadband", None)
    await sign_in(client, acme.admin.email)
    page = await client.get(f"/services/{service_id}")
    assert '<dd id="cost-centre">IT-100 · IT-100 centre</dd>' in page.text


async def test_the_migration_builds_each_organisations_list_from_the_values_in_use(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    order_id = await place(acme.manager, "95.00", item="firewall")
    await Order.update({Order.cost_centre: "Legacy ops"}).where(Order.id == order_id)
    await add_service(acme, "Broadband", None)  # names IT-100
    await add_service(globex, "Broadband", None)
    await ApprovalPolicy.insert(
        ApprovalPolicy(
            organisation=acme.id, name="Old", threshold=5, cost_centres='["it-100", "Finance"]'
        )
    )
    await CostCentre.delete(force=True)
    await importlib.import_module(MIGRATION).seed_from_existing_values()

    async def codes(tenant: Tenant) -> list[str]:
        rows = await CostCentre.select(CostCentre.code, CostCentre.name, CostCentre.archived).where(
            CostCentre.organisation == tenant.id
        )
        assert all(row["name"] == row["code"] and not row["archived"] for row in rows)
        return sorted(row["code"] for row in rows)

    assert await codes(acme) == ["Finance", "IT-100", "Legacy ops"]
    assert await codes(globex) == ["IT-100"]
    # The order that named free text now names a cost centre of the list: editing it works.
    await sign_in(client, acme.manager.email)
    edited = await client.patch(
        f"/api/v1/orders/{order_id}", json={"notes": "Still needed"}, headers=csrf_header(client)
    )
    assert edited.status_code == 200 and edited.json()["order"]["cost_centre"] == "Legacy ops"


async def test_each_kind_ignores_the_other_kinds_fields(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    ours = await add_service(acme, "Leeds broadband", acme.manager.id)
    theirs = await add_service(globex, "Their broadband", None)
    await sign_in(client, acme.manager.email)
    form = (await client.get("/orders/new")).text
    assert 'data-order-kind="new"' in form and 'data-order-kind="change"' in form
    change = await client.post(
        "/orders",
        data=with_csrf(
            client,
            kind="change",
            service=str(ours),
            description="1 Gbps",
            item="no-such-item",
            quantity="1",
            estimated_cost="50.00",
        ),
        follow_redirects=False,
    )
    assert change.status_code == 303  # the catalogue item of a change is ignored
    row = await order_row(order_id_of(change))
    assert (row["item"], row["service"], row["description"]) == ("", ours, "1 Gbps")
    new = await client.post(
        "/orders",
        data=with_csrf(client, kind="new", item="firewall", quantity="1", service=str(theirs)),
        follow_redirects=False,
    )
    assert new.status_code == 303  # the service of a new order is ignored, even another's
    row = await order_row(order_id_of(new))
    assert (row["item"], row["service"]) == ("firewall", None)
    api = await client.post(
        "/api/v1/orders",
        json={"type": "new", "item": "firewall", "service": str(theirs)},
        headers=csrf_header(client),
    )
    assert api.status_code == 201 and api.json()["service_id"] is None
    assert await Service.count().where(Service.organisation == acme.id) == 1
