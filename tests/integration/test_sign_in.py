from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.users.tables import User
from tests.conftest import Tenant, sign_in


async def test_admin_signs_in_and_reaches_the_dashboard(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    response = await sign_in(client, acme.admin.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    dashboard = await client.get("/")
    assert dashboard.status_code == 200
    assert "Welcome, Acme Admin" in dashboard.text


async def test_email_is_matched_case_insensitively(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    response = await sign_in(client, "  " + acme.manager.email.upper() + " ")
    assert response.status_code == 303


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    wrong = await sign_in(client, acme.admin.email, "not the password at all")
    unknown = await sign_in(client, "nobody@acme.example", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    message = "That email and password do not match an active account."
    assert message in wrong.text and message in unknown.text
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_every_attempt_is_recorded_with_reason_ip_and_agent(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    client.headers["user-agent"] = "pytest-agent/1.0"
    await sign_in(client, acme.admin.email, "wrong password here!!")
    await sign_in(client, "ghost@nowhere.example", "wrong password here!!")
    await sign_in(client, acme.admin.email)
    events = (
        await ActivityEvent.select(
            ActivityEvent.action,
            ActivityEvent.reason,
            ActivityEvent.user_agent,
            ActivityEvent.ip,
            ActivityEvent.organisation,
        )
        .order_by(ActivityEvent.occurred_at)
        .where(ActivityEvent.action.like("auth.%"))
    )
    assert [(e["action"], e["reason"]) for e in events] == [
        ("auth.sign_in_failed", "wrong_password"),
        ("auth.sign_in_failed", "unknown_email"),
        ("auth.signed_in", ""),
    ]
    assert all(e["user_agent"] == "pytest-agent/1.0" and e["ip"] for e in events)
    assert events[1]["organisation"] is None
    assert events[2]["organisation"] == acme.id


async def test_session_id_is_rotated_at_sign_in(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.user.email)
    first = client.cookies.get("portal_session")
    await sign_in(client, acme.user.email)
    second = client.cookies.get("portal_session")
    assert first and second and first != second
    # The old token is dead, not merely replaced in this browser.
    stale = AsyncTestClient(client.app, base_url=str(client.base_url))
    async with stale:
        stale.cookies.set("portal_session", first)
        assert (await stale.get("/api/v1/me")).status_code == 401


async def test_session_cookie_is_http_only_and_same_site(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    response = await sign_in(client, acme.user.email)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    token = client.cookies.get("portal_session")
    assert token is not None and len(token) >= 43  # 256 bits, base64url


async def test_deactivated_user_is_refused_on_the_next_request(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.manager.email)
    assert (await client.get("/api/v1/me")).status_code == 200
    await User.update({User.status: "inactive"}).where(User.id == acme.manager.id)
    assert (await client.get("/api/v1/me")).status_code == 401
    again = await sign_in(client, acme.manager.email)
    assert again.status_code == 401


async def test_ending_sessions_by_epoch_signs_out_everywhere(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.user.email)
    await User.update({User.session_epoch: User.session_epoch + 1}).where(User.id == acme.user.id)
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_sign_out_ends_the_session(client: AsyncTestClient[Litestar], acme: Tenant) -> None:
    await sign_in(client, acme.user.email)
    token = client.cookies.get("portal_session")
    response = await client.post(
        "/sign-out", headers={"x-csrftoken": client.cookies["csrftoken"]}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?signed_out=1"
    said = await client.get(response.headers["location"])
    assert '<p class="notice" role="status" id="signed-out">You are signed out.</p>' in said.text
    client.cookies.set("portal_session", token or "")
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_sign_in_without_csrf_token_is_refused(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await client.get("/sign-in")
    response = await client.post(
        "/sign-in", data={"email": acme.admin.email, "password": "correct horse battery staple 42"}
    )
    assert response.status_code == 403
    assert client.cookies.get("portal_session") is None


async def test_next_parameter_cannot_redirect_off_site(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await client.get("/sign-in")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await client.post(
            "/sign-in",
            data={
                "email": acme.admin.email,
                "password": "correct horse battery staple 42",
                "next": target,
                "_csrf_token": client.cookies["csrftoken"],
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


async def test_huge_and_missing_fields_get_a_clear_message(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await client.get("/sign-in")
    token = client.cookies["csrftoken"]
    missing = await client.post("/sign-in", data={"_csrf_token": token})
    assert missing.status_code == 401
    assert "Enter your email and your password." in missing.text
    huge = await client.post(
        "/sign-in",
        data={
            "email": "a" * 10_000 + "@x.example",
            "password": "p" * 100_000,
            "_csrf_token": token,
        },
    )
    assert huge.status_code == 401
    assert "do not match an active account" in huge.text
