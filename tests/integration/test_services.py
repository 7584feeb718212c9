"""Services are scoped in the queries: a user sees only their assigned services everywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.permissions.model import Area, Level, OverrideKind
from portal.services.tables import Service
from portal.users.service import UserChanges, change_user
from tests.conftest import BASE_URL, Tenant, sign_in


async def add_service(tenant: Tenant, name: str, contact: UUID | None) -> UUID:
    service = Service(
        organisation=tenant.id,
        name=name,
        kind="Broadband",
        site="Leeds",
        cost_centre="IT-100",
        monthly_cost=Decimal("189.50"),
        contact=contact,
    )
    await service.save()
    service_id: UUID = service.id
    return service_id


async def post_form(client: AsyncTestClient[Litestar], url: str, **fields: Any) -> Any:
    return await client.post(
        url, data={**fields, "_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False
    )


async def test_a_user_sees_only_assigned_services_in_list_search_count_and_detail(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    mine = await add_service(acme, "Leeds broadband", acme.user.id)
    theirs = await add_service(acme, "Leeds firewall", acme.manager.id)
    nobodys = await add_service(acme, "Leeds spare line", None)
    await sign_in(client, acme.user.email)
    listing = await client.get("/services")
    assert listing.status_code == 200
    assert "Leeds broadband" in listing.text
    assert "Leeds firewall" not in listing.text and "Leeds spare line" not in listing.text
    assert "1 service<" in listing.text
    search = await client.get("/services?q=leeds")
    assert "Leeds firewall" not in search.text and "1 service<" in search.text
    assert (await client.get(f"/services/{mine}")).status_code == 200
    for hidden in (theirs, nobodys):
        assert (await client.get(f"/services/{hidden}")).status_code == 404


async def test_admins_see_all_and_assign_one_or_many(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    first = await add_service(acme, "Alpha", None)
    second = await add_service(acme, "Beta", None)
    await sign_in(client, acme.admin.email)
    listing = await client.get("/services")
    assert "Alpha" in listing.text and "Beta" in listing.text and "2 services" in listing.text
    done = await post_form(
        client, "/services/assign", services=[str(first), str(second)], contact=str(acme.user.id)
    )
    assert done.status_code == 303
    contacts = {r["contact"] for r in await Service.select(Service.contact)}
    assert contacts == {acme.user.id}
    single = await post_form(
        client,
        "/services/assign",
        services=str(first),
        contact=str(acme.manager.id),
        back=f"/services/{first}",
    )
    assert single.headers["location"] == f"/services/{first}?done=assigned"
    page = await client.get(f"/services/{first}")
    assert "Acme manager" in page.text


async def test_other_tenants_services_and_users_are_refused_and_nothing_changes(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    ours = await add_service(acme, "Ours", None)
    foreign = await add_service(globex, "Theirs", None)
    await sign_in(client, acme.admin.email)
    assert (await client.get(f"/services/{foreign}")).status_code == 404
    assert "Theirs" not in (await client.get("/services")).text
    for services, contact in (
        ([str(ours), str(foreign)], str(acme.user.id)),
        ([str(ours)], str(globex.user.id)),
        ([str(ours)], "not-a-uuid"),
        ([], str(acme.user.id)),
    ):
        refused = await post_form(client, "/services/assign", services=services, contact=contact)
        assert refused.status_code == 422
    assert {r["contact"] for r in await Service.select(Service.contact)} == {None}


async def test_managers_see_all_but_cannot_assign(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_service(acme, "Alpha", acme.user.id)
    await sign_in(client, acme.manager.email)
    listing = await client.get("/services")
    assert "Alpha" in listing.text and 'name="contact"' not in listing.text
    refused = await post_form(client, "/services/assign", services="x", contact="y")
    assert refused.status_code == 403


async def test_the_api_applies_the_same_scope_and_money_is_a_decimal_string(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    mine = await add_service(acme, "Leeds broadband", acme.user.id)
    theirs = await add_service(acme, "Leeds firewall", acme.manager.id)
    foreign = await add_service(globex, "Globex line", globex.user.id)
    await sign_in(client, acme.user.email)
    listing = (await client.get("/api/v1/services?q=leeds")).json()
    assert listing["total"] == 1 and [s["id"] for s in listing["items"]] == [str(mine)]
    assert listing["items"][0]["monthly_cost"] == {"amount": "189.50", "currency": "GBP"}
    for hidden in (theirs, foreign):
        assert (await client.get(f"/api/v1/services/{hidden}")).status_code == 404
    refused = await client.post(
        "/api/v1/services/assign",
        json={"services": [str(mine)], "contact": str(acme.user.id)},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )
    assert refused.status_code == 403
    await sign_in(client, acme.admin.email)
    headers = {"x-csrftoken": client.cookies["csrftoken"]}
    foreign_ids = await client.post(
        "/api/v1/services/assign",
        json={"services": [str(theirs), str(foreign)], "contact": str(acme.user.id)},
        headers=headers,
    )
    assert foreign_ids.status_code == 422
    assert foreign_ids.json()["error"]["details"][0]["field"] == "services"
    done = await client.post(
        "/api/v1/services/assign",
        json={"services": [str(theirs)], "contact": str(acme.user.id)},
        headers=headers,
    )
    assert done.json() == {"assigned": 1}
    assert (await client.get("/api/v1/services?limit=0")).status_code == 422


async def test_assigning_stays_within_the_scope_of_who_assigns(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    # A user-tier principal granted services:full still sees only their assigned services,
    # and may assign only those.
    granted = {Area.SERVICES: (OverrideKind.GRANT, Level.FULL)}
    await change_user(
        acme.admin.actor, acme.user.id, UserChanges(overrides=granted), base_url=BASE_URL
    )
    mine = await add_service(acme, "Mine", acme.user.id)
    unseen = await add_service(acme, "Unseen", acme.manager.id)
    await sign_in(client, acme.user.email)
    refused = await post_form(
        client, "/services/assign", services=[str(unseen)], contact=str(acme.user.id)
    )
    assert refused.status_code == 422
    row = await Service.select(Service.contact).where(Service.id == unseen).first()
    assert row == {"contact": acme.manager.id}
    allowed = await post_form(
        client, "/services/assign", services=[str(mine)], contact=str(acme.manager.id)
    )
    assert allowed.status_code == 303
