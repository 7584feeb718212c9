from __future__ import annotations

import dataclasses

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.settings import Settings
from tests.conftest import BASE_URL, Tenant, sign_in

REDIS_URL = "redis://127.0.0.1:6379/14"
NOTHING_LISTENS = "redis://127.0.0.1:1/0"


async def test_me_describes_the_principal(client: AsyncTestClient[Litestar], acme: Tenant) -> None:
    await sign_in(client, acme.manager.email)
    body = (await client.get("/api/v1/me")).json()
    assert body["email"] == acme.manager.email
    assert body["tier"] == "manager"
    assert body["is_owner"] is False
    assert body["scope"] == "organisation"
    assert body["organisation"] == {"id": str(acme.id), "name": "Acme"}
    assert body["permissions"]["orders"] == "full"
    assert body["permissions"]["users"] == "none"
    assert body["permissions"]["approvals"] == "none"
    assert body["roles"] == []


async def test_api_errors_have_one_structured_shape(client: AsyncTestClient[Litestar]) -> None:
    unauthenticated = await client.get("/api/v1/me")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {
        "error": {
            "status": 401,
            "code": "not_authenticated",
            "message": "Sign in to continue.",
            "details": [],
        }
    }
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = await client.delete("/api/v1/me")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


async def test_pages_show_friendly_errors(client: AsyncTestClient[Litestar], acme: Tenant) -> None:
    await sign_in(client, acme.user.email)
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    assert "We could not find that page" in missing.text
    assert "text/html" in missing.headers["content-type"]
    forbidden = await client.get("/settings/activity")
    assert forbidden.status_code == 403
    assert "You do not have access to this" in forbidden.text


async def test_openapi_document_lists_the_api(client: AsyncTestClient[Litestar]) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/me" in document["paths"]
    assert "/sign-in" not in document["paths"]


async def test_health_needs_no_sign_in(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers


async def test_ready_checks_the_database(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_ready_reports_redis_down(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, redis_url=NOTHING_LISTENS))
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unreachable"}


async def test_pages_forbid_framing_and_foreign_scripts(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/sign-in")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_errors_and_static_files_carry_the_security_headers_too(
    client: AsyncTestClient[Litestar],
) -> None:
    cases = (("/api/v1/me", 401), ("/static/portal.css", 200), ("/orders", 303), ("/nowhere", 404))
    for path, status in cases:
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == status, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["cache-control"], path


async def test_an_unexpected_error_is_friendly_and_leaks_nothing(
    app: Litestar, acme: Tenant
) -> None:
    from litestar import get

    from portal.permissions.guards import signed_in

    @get("/boom", opt=signed_in())
    async def boom_page() -> str:
        raise RuntimeError("secret internal detail")

    @get("/api/v1/boom", opt=signed_in())
    async def boom_api() -> str:
        raise RuntimeError("secret internal detail")

    app.register(boom_page)
    app.register(boom_api)
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        await sign_in(client, acme.user.email)
        page = await client.get("/boom")
        api = await client.get("/api/v1/boom")
    assert page.status_code == api.status_code == 500
    assert "Something went wrong on our side" in page.text
    assert api.json()["error"]["code"] == "internal_error"
    assert "secret internal detail" not in page.text + api.text


async def test_the_favicon_is_served_where_browsers_ask_for_it(
    client: AsyncTestClient[Litestar],
) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
    page = await client.get("/sign-in")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
