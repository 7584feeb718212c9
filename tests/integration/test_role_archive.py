"""Archiving roles (never deleting them): who holds a role, refusals while someone does,
archived roles kept apart and never given, restoring, logging, and the same through the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.permissions.queries import NOT_ASSIGNABLE
from portal.permissions.service import create_policy, create_role
from portal.permissions.tables import Role, UserRole
from portal.users.service import UserChanges, change_user
from tests.conftest import BASE_URL, Tenant, csrf_header, sign_in, with_csrf
from tests.integration.test_user_edit import form as edit_form


async def auditor_role(tenant: Tenant, name: str = "Auditor") -> UUID:
    policy = await create_policy(tenant.admin.actor, f"{name} policy", {"activity_log": "read"})
    return await create_role(tenant.admin.actor, name, [policy])


async def give(tenant: Tenant, role_id: UUID, *user_ids: UUID) -> None:
    for user_id in user_ids:
        await change_user(
            tenant.admin.actor, user_id, UserChanges(role_ids=[role_id]), base_url=BASE_URL
        )


async def post(client: AsyncTestClient[Litestar], url: str, **fields: Any) -> Any:
    return await client.post(url, data=with_csrf(client, **fields), follow_redirects=False)


async def archived(role_id: UUID) -> bool:
    row = await Role.select(Role.archived).where(Role.id == role_id).first()
    assert row is not None
    return bool(row["archived"])


async def logged(action: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ActivityEvent.select(ActivityEvent.data)
        .where(ActivityEvent.action == action)
        .output(load_json=True)
    )
    return [row["data"] for row in rows]


async def test_the_role_page_lists_its_holders_and_refuses_to_archive_while_held(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    role = await auditor_role(acme)
    await give(acme, role, acme.manager.id, acme.user.id)
    await sign_in(client, acme.admin.email)
    page = (await client.get(f"/settings/roles/{role}")).text
    for member in (acme.manager, acme.user):
        assert f'<a href="/settings/users/{member.id}">' in page and member.email in page
    assert "2 people hold this role; take it from them first." in page
    assert f'action="/settings/roles/{role}/archive"' not in page
    refused = await post(client, f"/settings/roles/{role}/archive")
    assert refused.status_code == 409
    assert "2 people hold this role; take it from them first." in refused.text
    api = await client.post(f"/api/v1/roles/{role}/archive", headers=csrf_header(client))
    assert api.status_code == 409
    assert api.json()["error"]["message"] == "2 people hold this role; take it from them first."
    await change_user(acme.admin.actor, acme.user.id, UserChanges(role_ids=[]), base_url=BASE_URL)
    one = await post(client, f"/settings/roles/{role}/archive")
    assert one.status_code == 409 and "1 person holds this role" in one.text
    assert not await archived(role) and await logged("role.archived") == []


async def test_an_archived_role_is_kept_apart_never_given_and_can_be_restored(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    role = await auditor_role(acme)
    await auditor_role(acme, "Helpdesk")
    await sign_in(client, acme.admin.email)
    assert "Nobody holds this role." in (await client.get(f"/settings/roles/{role}")).text
    done = await post(client, f"/settings/roles/{role}/archive")
    assert done.status_code == 303
    assert done.headers["location"] == f"/settings/roles/{role}?notice=archived"
    assert await archived(role)
    assert await logged("role.archived") == [
        {"role": "Auditor", "before": {"archived": False}, "after": {"archived": True}}
    ]
    again = await post(client, f"/settings/roles/{role}/archive")
    assert again.status_code == 409 and "This role is already archived." in again.text
    assert len(await logged("role.archived")) == 1
    # The list shows it apart, under its own heading.
    listing = (await client.get("/settings/roles")).text
    live, _, gone = listing.partition('id="archived-roles"')
    assert f'href="/settings/roles/{role}"' in gone and f'href="/settings/roles/{role}"' not in live
    assert "Helpdesk" in live
    # Not offered when giving roles, and refused when sent anyway.
    for url in (f"/settings/users/{acme.user.id}/edit", "/settings/users/invite"):
        offered = (await client.get(url)).text
        assert "Helpdesk" in offered and str(role) not in offered, url
    given = await post(
        client,
        f"/settings/users/{acme.user.id}/edit",
        **edit_form(full_name="Acme user", tier="user", roles=str(role)),
    )
    assert given.status_code == 422 and NOT_ASSIGNABLE in given.text
    by_api = await client.patch(
        f"/api/v1/users/{acme.user.id}", json={"roles": [str(role)]}, headers=csrf_header(client)
    )
    assert by_api.status_code == 422
    invited = await post(
        client,
        "/settings/users/invite",
        full_name="New Person",
        email="new.person@acme.example",
        tier="user",
        roles=str(role),
    )
    assert invited.status_code == 422 and NOT_ASSIGNABLE in invited.text
    assert await UserRole.count().where(UserRole.role == role) == 0
    # Restored, it is offered again.
    restored = await post(client, f"/settings/roles/{role}/restore")
    assert restored.status_code == 303 and not await archived(role)
    assert await logged("role.restored") == [
        {"role": "Auditor", "before": {"archived": True}, "after": {"archived": False}}
    ]
    twice = await post(client, f"/settings/roles/{role}/restore")
    assert twice.status_code == 409 and "This role is not archived." in twice.text
    assert str(role) in (await client.get(f"/settings/users/{acme.user.id}/edit")).text
    log = (await client.get("/settings/activity")).text
    assert "Role archived" in log and "Role restored" in log


async def test_the_api_archives_and_restores_and_says_why_not(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    role = await auditor_role(acme)
    await sign_in(client, acme.admin.email)
    url = f"/api/v1/roles/{role}"
    assert (await client.get(url)).json()["archived"] is False
    done = await client.post(f"{url}/archive", headers=csrf_header(client))
    assert done.status_code == 200 and done.json()["archived"] is True
    listed = {r["id"]: r["archived"] for r in (await client.get("/api/v1/roles")).json()}
    assert listed[str(role)] is True
    again = await client.post(f"{url}/archive", headers=csrf_header(client))
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "This role is already archived."
    back = await client.post(f"{url}/restore", headers=csrf_header(client))
    assert back.status_code == 200 and back.json()["archived"] is False
    twice = await client.post(f"{url}/restore", headers=csrf_header(client))
    assert twice.status_code == 409
    assert twice.json()["error"]["message"] == "This role is not archived."


async def test_another_tenants_role_is_not_found_and_left_alone(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    theirs = await auditor_role(globex)
    await sign_in(client, acme.admin.email)
    for action in ("archive", "restore"):
        page = await post(client, f"/settings/roles/{theirs}/{action}")
        assert page.status_code == 404, action
        api = await client.post(f"/api/v1/roles/{theirs}/{action}", headers=csrf_header(client))
        assert api.status_code == 404, action
    assert not await archived(theirs)
    assert await logged("role.archived") == [] and await logged("role.restored") == []
