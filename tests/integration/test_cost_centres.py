"""Settings → Cost centres and its API over HTTP: admins add, rename, archive and restore,
everyone else reads; bad input changes nothing; another tenant's cost centre is unknown; every
change is in the activity log with before and after."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.costcentres.tables import CostCentre
from tests.conftest import Tenant, csrf_header, sign_in, with_csrf
from tests.integration.orders_support import add_cost_centres


async def centres(tenant: Tenant) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await CostCentre.select(
            CostCentre.id, CostCentre.code, CostCentre.name, CostCentre.archived
        )
        .where(CostCentre.organisation == tenant.id)
        .order_by(CostCentre.code)
    )
    return rows


async def logged(tenant: Tenant) -> list[tuple[str, Any, Any]]:
    rows = (
        await ActivityEvent.select(ActivityEvent.action, ActivityEvent.data)
        .where(
            (ActivityEvent.organisation == tenant.id) & ActivityEvent.action.like("cost_centre.%")
        )
        .order_by(ActivityEvent.occurred_at)
        .order_by(ActivityEvent.id)
    )
    found = []
    for row in rows:
        data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        found.append((row["action"], data["before"], data["after"]))
    return found


async def test_an_admin_adds_renames_archives_and_restores_and_each_is_logged(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    page = await client.get("/settings/cost-centres")
    assert page.status_code == 200 and "No cost centres yet" in page.text
    added = await client.post(
        "/settings/cost-centres",
        data=with_csrf(client, code="CC-100", name="Finance"),
        follow_redirects=False,
    )
    assert added.status_code == 303
    [centre] = await centres(acme)
    assert (centre["code"], centre["name"], centre["archived"]) == ("CC-100", "Finance", False)
    path = f"/settings/cost-centres/{centre['id']}"
    renamed = await client.post(path, data=with_csrf(client, name="Finance and legal"))
    assert renamed.status_code == 200 and "Cost centre renamed." in renamed.text
    archived = await client.post(f"{path}/archive", data=with_csrf(client))
    assert "Cost centre archived" in archived.text and "Restore" in archived.text
    again = await client.post(f"{path}/archive", data=with_csrf(client))
    assert "Nothing changed." in again.text
    restored = await client.post(f"{path}/restore", data=with_csrf(client))
    assert "Cost centre restored." in restored.text
    assert [(row["code"], row["name"], row["archived"]) for row in await centres(acme)] == [
        ("CC-100", "Finance and legal", False)
    ]
    first = {"code": "CC-100", "name": "Finance", "archived": False}
    renamed_to = first | {"name": "Finance and legal"}
    assert await logged(acme) == [
        ("cost_centre.created", None, first),
        ("cost_centre.changed", first, renamed_to),
        ("cost_centre.archived", renamed_to, renamed_to | {"archived": True}),
        ("cost_centre.restored", renamed_to | {"archived": True}, renamed_to),
    ]
    log = await client.get("/settings/activity")
    assert "Cost centre archived" in log.text and "Cost centre restored" in log.text


async def test_others_read_the_list_but_cannot_change_it(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_cost_centres(acme, "CC-100")
    [centre] = await centres(acme)
    for member in (acme.manager, acme.user):
        await sign_in(client, member.email)
        page = await client.get("/settings/cost-centres")
        assert page.status_code == 200 and "CC-100" in page.text
        assert "Add a cost centre" not in page.text and "Archive" not in page.text
        assert "/settings/cost-centres" not in (await client.get("/")).text  # not in the menu
        listed = await client.get("/api/v1/cost-centres")
        assert [row["code"] for row in listed.json()] == ["CC-100"]
        refused = await client.post(
            f"/settings/cost-centres/{centre['id']}/archive", data=with_csrf(client)
        )
        assert refused.status_code == 403
        api = await client.patch(
            f"/api/v1/cost-centres/{centre['id']}",
            json={"archived": True},
            headers=csrf_header(client),
        )
        assert api.status_code == 403
    assert (await centres(acme))[0]["archived"] is False
    await sign_in(client, acme.admin.email)
    assert 'href="/settings/cost-centres"' in (await client.get("/")).text


@pytest.mark.parametrize(
    ("code", "name", "field", "message"),
    [
        ("", "Finance", "code", "Give the cost centre a code"),
        ("CC 100", "Finance", "code", "letters and digits"),
        ("C" * 10_000, "Finance", "code", "at most 20"),
        ("CC-1\x00", "Finance", "code", "letters and digits"),
        ("CC-1", "", "name", "Give the cost centre a name"),
        ("CC-1", "n" * 10_000, "name", "at most 100"),
        ("CC-1", "Fin\u202eance", "name", "control characters"),
        ("cc-100", "Finance again", "code", "Another cost centre has that code"),
    ],
)
async def test_bad_input_gets_a_message_by_the_field_and_changes_nothing(
    client: AsyncTestClient[Litestar], acme: Tenant, code: str, name: str, field: str, message: str
) -> None:
    await add_cost_centres(acme, "CC-100")
    before = await centres(acme)
    await sign_in(client, acme.admin.email)
    page = await client.post("/settings/cost-centres", data=with_csrf(client, code=code, name=name))
    assert page.status_code in (409, 422)
    assert f'id="{field}-error">' in page.text and message in page.text
    if len(code) < 100 and "\x00" not in code:
        assert f'value="{code}"' in page.text  # what was typed is kept
    api = await client.post(
        "/api/v1/cost-centres", json={"code": code, "name": name}, headers=csrf_header(client)
    )
    assert api.status_code in (409, 422)
    assert [detail["field"] for detail in api.json()["error"]["details"]] == [field]
    assert await centres(acme) == before
    assert len(await logged(acme)) == 1  # only the set-up's creation


async def test_a_bad_new_name_is_refused_and_the_name_stays(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_cost_centres(acme, "CC-100")
    [centre] = await centres(acme)
    await sign_in(client, acme.admin.email)
    page = await client.post(
        f"/settings/cost-centres/{centre['id']}", data=with_csrf(client, name="x\x1b[31m")
    )
    assert page.status_code == 422
    assert f'id="name-{centre["id"]}-error"' in page.text and "control characters" in page.text
    api = await client.patch(
        f"/api/v1/cost-centres/{centre['id']}", json={"name": " "}, headers=csrf_header(client)
    )
    assert api.status_code == 422
    assert [d["field"] for d in api.json()["error"]["details"]] == ["name"]
    assert await centres(acme) == [centre]


async def test_another_tenants_cost_centre_is_unknown(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await add_cost_centres(globex, "GLX-1")
    [theirs] = await centres(globex)
    await sign_in(client, acme.admin.email)
    assert "GLX-1" not in (await client.get("/settings/cost-centres")).text
    assert (await client.get("/api/v1/cost-centres")).json() == []
    base = f"/settings/cost-centres/{theirs['id']}"
    for path, fields in ((base, {"name": "Mine now"}), (f"{base}/archive", {})):
        response = await client.post(path, data=with_csrf(client, **fields))
        assert response.status_code == 404
    api = await client.patch(
        f"/api/v1/cost-centres/{theirs['id']}",
        json={"name": "Mine now", "archived": True},
        headers=csrf_header(client),
    )
    assert api.status_code == 404
    assert await centres(globex) == [theirs]
    assert await logged(acme) == []


async def test_the_api_adds_renames_and_archives(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    headers = csrf_header(client)
    created = await client.post(
        "/api/v1/cost-centres", json={"code": "OPS-200", "name": "Operations"}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["code"], body["name"], body["archived"]) == ("OPS-200", "Operations", False)
    changed = await client.patch(
        f"/api/v1/cost-centres/{body['id']}",
        json={"name": "Field operations", "archived": True},
        headers=headers,
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["archived"]) == ("Field operations", True)
    unknown = await client.post(
        "/api/v1/cost-centres", json={"code": "X-1", "name": "N", "budget": 5}, headers=headers
    )
    assert unknown.status_code == 422  # no such field
    assert [row["code"] for row in await centres(acme)] == ["OPS-200"]
    assert [action for action, _, _ in await logged(acme)] == [
        "cost_centre.created",
        "cost_centre.changed",
        "cost_centre.archived",
    ]
    assert UUID(body["id"])
