"""Services as CSV, scoped like the list; and reassigning a deactivated user's services."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.permissions.principal import load_principal
from portal.services.export import HEADER
from portal.services.queries import all_visible, list_services
from portal.services.tables import Service
from tests.conftest import Tenant, sign_in
from tests.integration.test_services import add_service, post_form


async def export(client: AsyncTestClient[Litestar], url: str = "/services/export.csv") -> Any:
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="services-')
    return response


def names(body: str) -> list[str]:
    return [row["name"] for row in csv.DictReader(io.StringIO(body))]


async def test_a_user_exports_only_assigned_services_and_an_admin_all_of_the_organisation(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await add_service(acme, "Leeds broadband", acme.user.id)
    await add_service(acme, "Leeds firewall", acme.manager.id)
    await add_service(acme, "Spare line", None)
    await add_service(globex, "Globex line", globex.user.id)
    await sign_in(client, acme.user.email)
    assert names((await export(client)).text) == ["Leeds broadband"]
    await sign_in(client, acme.admin.email)
    body = (await export(client)).text
    assert next(csv.reader(io.StringIO(body))) == list(HEADER)
    assert names(body) == ["Leeds broadband", "Leeds firewall", "Spare line"]
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["monthly_cost"] == "189.50" and row["currency"] == "GBP"
    assert row["contact_name"] == "Acme user" and row["contact_email"] == acme.user.email


async def test_the_search_applies_and_another_tenants_services_never_appear(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await add_service(acme, "Alpha", None)
    await add_service(acme, "Beta", None)
    await add_service(globex, "Alpha elsewhere", None)
    await sign_in(client, globex.admin.email)
    await sign_in(client, acme.admin.email)
    assert names((await export(client, "/services/export.csv?q=alp")).text) == ["Alpha"]
    assert names((await export(client, "/api/v1/services/export?q=alp")).text) == ["Alpha"]
    listing = await client.get("/services?q=alp")
    assert 'href="/services/export.csv?q=alp"' in listing.text


async def test_cells_a_spreadsheet_would_run_as_formulas_are_escaped(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    formula = await add_service(acme, '=HYPERLINK("http://evil.example","x")', None)
    await Service.update(
        {Service.site: "+44 Leeds", Service.cost_centre: "-IT", Service.usage: "@SUM(A1)"}
    ).where(Service.id == formula)
    tabbed = await add_service(acme, "\tTabbed", None)
    await sign_in(client, acme.admin.email)
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO((await export(client)).text))}
    assert rows[str(tabbed)]["name"] == "'\tTabbed"
    escaped = rows[str(formula)]
    assert escaped["name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert (escaped["site"], escaped["cost_centre"], escaped["usage"]) == (
        "'+44 Leeds",
        "'-IT",
        "'@SUM(A1)",
    )
    assert escaped["monthly_cost"] == "189.50"


async def test_the_api_export_is_the_page_export(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_service(acme, "Leeds broadband", acme.user.id)
    await add_service(acme, "York broadband", acme.manager.id)
    for member in (acme.admin, acme.user):
        await sign_in(client, member.email)
        page = (await export(client, "/services/export.csv?q=broadband")).text
        api = (await export(client, "/api/v1/services/export?q=broadband")).text
        assert page == api and len(names(page)) == (2 if member is acme.admin else 1)


async def test_rows_are_read_once_each_in_list_order_across_chunks_and_pages(acme: Tenant) -> None:
    for name in ("E", "C", "A", "D", "B", "C"):
        await add_service(acme, name, None)
    admin = await load_principal(acme.admin.id)
    assert admin is not None
    rows = [row async for row in all_visible(admin, chunk=2)]
    assert [row.name for row in rows] == ["A", "B", "C", "C", "D", "E"]
    assert len({row.id for row in rows}) == 6
    first = await list_services(admin, limit=4)
    second = await list_services(admin, after=first.next_cursor, limit=4)
    assert [row.name for row in second.rows] == ["D", "E"] and second.next_cursor is None


async def reassign_page(client: AsyncTestClient[Litestar], user_id: UUID) -> Any:
    return await client.get(f"/settings/users/{user_id}/services")


async def test_deactivating_a_contact_leads_to_reassigning_all_their_services(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    ids = [await add_service(acme, name, acme.user.id) for name in ("One", "Two", "Three")]
    await sign_in(client, acme.admin.email)
    await client.get(f"/settings/users/{acme.user.id}")
    done = await post_form(client, f"/settings/users/{acme.user.id}/deactivate", reason="left")
    assert done.headers["location"] == f"/settings/users/{acme.user.id}/services?done=deactivated"
    page = await client.get(done.headers["location"])
    assert "User deactivated." in page.text and "3 services left to reassign." in page.text
    assert page.text.count('name="services"') == 3 and page.text.count(" checked ") == 3
    assert "Acme user</option>" not in page.text
    user_page = await client.get(f"/settings/users/{acme.user.id}")
    assert "3 services still have Acme user as their contact" in user_page.text
    assert f'href="/settings/users/{acme.user.id}/services">Reassign' in user_page.text
    back = f"/settings/users/{acme.user.id}/services"
    first = await post_form(
        client, "/services/assign", services=[str(ids[0])], contact=str(acme.manager.id), back=back
    )
    assert first.headers["location"] == f"{back}?done=assigned"
    assert "2 services left to reassign." in (await client.get(first.headers["location"])).text
    rest = await post_form(
        client,
        "/services/assign",
        services=[str(i) for i in ids[1:]],
        contact=str(acme.admin.id),
        back=back,
    )
    page = await client.get(rest.headers["location"])
    assert "Contact assigned." in page.text and "No services left to reassign." in page.text
    assert await Service.count().where(Service.contact == acme.user.id) == 0
    assert "services-left" not in (await client.get(f"/settings/users/{acme.user.id}")).text


async def test_a_refused_reassignment_shows_the_reassign_page_again(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_service(acme, "One", acme.user.id)
    await sign_in(client, acme.admin.email)
    await reassign_page(client, acme.user.id)
    back = f"/settings/users/{acme.user.id}/services"
    refused = await post_form(client, "/services/assign", contact=str(acme.admin.id), back=back)
    assert refused.status_code == 422
    assert "Reassign services of Acme user" in refused.text
    assert "1 service left to reassign." in refused.text


async def test_deactivating_a_user_without_services_goes_back_to_their_page(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_service(acme, "Managed", acme.manager.id)
    await sign_in(client, acme.admin.email)
    await client.get(f"/settings/users/{acme.user.id}")
    done = await post_form(client, f"/settings/users/{acme.user.id}/deactivate")
    assert done.headers["location"] == f"/settings/users/{acme.user.id}?done=deactivated"


async def test_another_tenants_user_is_404_and_only_admins_may_reassign(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await add_service(globex, "Globex line", globex.user.id)
    await sign_in(client, acme.admin.email)
    assert (await reassign_page(client, globex.user.id)).status_code == 404
    assert (await reassign_page(client, acme.user.id)).status_code == 200
    for member in (acme.manager, acme.user):
        await sign_in(client, member.email)
        assert (await reassign_page(client, acme.user.id)).status_code == 403
