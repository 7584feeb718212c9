"""Rule 7 of issue 9: an admin who changed their own permission level through the API was
signed out by their own request. A new level ends the user's *other* sessions; the session
that made the change continues under a new id (DESIGN: rotated at every privilege change)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import BASE_URL, Tenant, csrf_header, sign_in, with_csrf

Client = AsyncTestClient[Any]


async def test_changing_your_own_level_keeps_this_session_and_ends_the_others(
    app: Litestar, client: Client, acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    async with AsyncTestClient(app, base_url=BASE_URL) as elsewhere:
        await sign_in(elsewhere, acme.admin.email)
        promoted = await client.patch(
            f"/api/v1/users/{acme.manager.id}", json={"tier": "admin"}, headers=csrf_header(client)
        )
        assert promoted.status_code == 200
        before = client.cookies.get("portal_session")
        own = await client.patch(
            f"/api/v1/users/{acme.admin.id}",
            json={"tier": "manager", "reason": "handing over"},
            headers=csrf_header(client),
        )
        assert own.status_code == 200 and own.json()["tier"] == "manager"
        assert client.cookies.get("portal_session") not in (None, before)
        me = await client.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["tier"] == "manager"
        assert (await elsewhere.get("/api/v1/me")).status_code == 401


async def test_changing_someone_elses_level_ends_their_sessions_not_yours(
    app: Litestar, client: Client, acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    async with AsyncTestClient(app, base_url=BASE_URL) as manager:
        await sign_in(manager, acme.manager.email)
        assert (await manager.get("/api/v1/me")).status_code == 200
        before = client.cookies.get("portal_session")
        changed = await client.patch(
            f"/api/v1/users/{acme.manager.id}", json={"tier": "user"}, headers=csrf_header(client)
        )
        assert changed.status_code == 200
        assert client.cookies.get("portal_session") == before
        assert (await client.get("/api/v1/me")).status_code == 200
        assert (await manager.get("/api/v1/me")).status_code == 401


async def test_the_edit_page_keeps_the_admin_signed_in_after_their_own_change(
    client: Client, acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    await client.patch(
        f"/api/v1/users/{acme.manager.id}", json={"tier": "admin"}, headers=csrf_header(client)
    )
    form = await client.get(f"/settings/users/{acme.admin.id}/edit")
    assert form.status_code == 200
    saved = await client.post(
        f"/settings/users/{acme.admin.id}/edit",
        data=with_csrf(
            client, full_name="Acme Admin", tier="manager", locale="en-GB", time_zone="UTC"
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert (await client.get("/api/v1/me")).json()["tier"] == "manager"
