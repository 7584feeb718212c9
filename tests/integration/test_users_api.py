from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.mail.tables import OutboundEmail
from portal.users.tables import User
from tests.conftest import Tenant, sign_in


def csrf(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def api_post(client: AsyncTestClient[Litestar], url: str, body: Any) -> Any:
    return await client.post(url, json=body, headers=csrf(client))


async def test_invite_resend_cancel_through_the_api(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    created = await api_post(
        client,
        "/api/v1/users/invitations",
        {"full_name": "Ada Lovelace", "email": "ada@acme.example", "tier": "user"},
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["user_id"]
    assert created.json()["invitation_sent"] is True
    one = (await client.get(f"/api/v1/users/{user_id}")).json()
    assert one["status"] == "invited_pending" and one["email"] == "ada@acme.example"
    resent = await api_post(client, f"/api/v1/users/{user_id}/invitation", None)
    assert resent.status_code == 202
    assert await OutboundEmail.count() == 2
    cancelled = await client.delete(f"/api/v1/users/{user_id}/invitation", headers=csrf(client))
    assert cancelled.status_code == 204
    assert (await client.get(f"/api/v1/users/{user_id}")).json()["status"] == "inactive"


async def test_validation_errors_have_the_structured_shape_and_change_nothing(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    before = await User.count()
    invalid = await api_post(
        client,
        "/api/v1/users/invitations",
        {"full_name": "", "email": globex.admin.email, "tier": "emperor"},
    )
    assert invalid.status_code == 422
    error = invalid.json()["error"]
    assert error["code"] == "validation_failed"
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"full_name", "tier"}  # the email check waits for valid fields
    wrong_types = await api_post(
        client, "/api/v1/users/invitations", {"full_name": 7, "email": [], "tier": None}
    )
    # Strict types: a wrong type is refused with its field, never converted.
    assert wrong_types.status_code == 422
    assert wrong_types.json()["error"]["code"] == "validation_failed"
    assert wrong_types.json()["error"]["details"] == [
        {"field": "full_name", "message": "Expected `str`, got `int`"}
    ]
    unknown_field = await api_post(
        client,
        "/api/v1/users/invitations",
        {"full_name": "A", "email": "a@acme.example", "tier": "user", "is_owner": True},
    )
    assert unknown_field.status_code == 422
    assert unknown_field.json()["error"]["details"][0]["field"] == "is_owner"
    taken = await api_post(
        client,
        "/api/v1/users/invitations",
        {"full_name": "A", "email": globex.admin.email.upper(), "tier": "user"},
    )
    assert taken.status_code == 422
    assert taken.json()["error"]["details"] == [
        {"field": "email", "message": "This email is already in use."}
    ]
    assert await User.count() == before


async def test_rules_conflicts_and_other_tenants(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    last_admin = await api_post(client, f"/api/v1/users/{acme.admin.id}/deactivate", {})
    assert last_admin.status_code == 409
    assert last_admin.json()["error"]["code"] == "conflict"
    for url in (
        f"/api/v1/users/{globex.user.id}/deactivate",
        f"/api/v1/users/{globex.user.id}/reactivate",
        f"/api/v1/users/{globex.user.id}/invitation",
    ):
        assert (await api_post(client, url, {})).status_code == 404, url
    assert (await client.get(f"/api/v1/users/{globex.user.id}")).status_code == 404
    deactivated = await api_post(
        client, f"/api/v1/users/{acme.user.id}/deactivate", {"reason": "moved team"}
    )
    assert deactivated.status_code == 200 and deactivated.json()["status"] == "inactive"
    again = await api_post(client, f"/api/v1/users/{acme.user.id}/reactivate", {})
    assert again.json()["status"] == "active"


async def test_list_pages_and_filters(client: AsyncTestClient[Litestar], acme: Tenant) -> None:
    await sign_in(client, acme.admin.email)
    first = (await client.get("/api/v1/users?limit=2&sort=email")).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = (
        await client.get(f"/api/v1/users?limit=2&sort=email&after={first['next_cursor']}")
    ).json()
    emails = [u["email"] for u in first["items"] + second["items"]]
    assert emails == sorted(emails) and len(set(emails)) == 3
    assert second["next_cursor"] is None
    for bad in ("limit=0", "limit=10000", "status=asleep", "after=%21%21", "limit=abc"):
        response = await client.get(f"/api/v1/users?{bad}")
        assert response.status_code in (400, 422), bad
        assert "error" in response.json()


async def test_patch_edits_a_user_and_refuses_bad_fields(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    url = f"/api/v1/users/{acme.user.id}"
    done = await client.patch(
        url,
        json={"display_name": "Uma", "overrides": {"orders": "grant:full"}, "reason": "cover"},
        headers=csrf(client),
    )
    assert done.status_code == 200, done.text
    assert done.json()["tier"] == "user"
    bad = await client.patch(
        url,
        json={"time_zone": "Nowhere/Else", "overrides": {"sorcery": "grant:full"}},
        headers=csrf(client),
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert "overrides.sorcery" in fields
    owner = await client.patch(
        f"/api/v1/users/{acme.admin.id}", json={"tier": "user"}, headers=csrf(client)
    )
    assert owner.status_code == 409
    foreign = await client.patch(
        f"/api/v1/users/{globex.user.id}", json={"tier": "admin"}, headers=csrf(client)
    )
    assert foreign.status_code == 404
    assert (await User.select(User.tier).where(User.id == globex.user.id).first()) == {
        "tier": "user"
    }
