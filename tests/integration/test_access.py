"""Deny by default, proven on the app as registered: every route declares its access rule,
public routes are an explicit list, and each tier gets the expected status on every route."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.permissions.guards import access_of
from tests.conftest import BASE_URL, Tenant, sign_in

PUBLIC_ROUTES = {
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/static/{file_path:path}"),
    ("GET", "/schema"),
    ("GET", "/schema/openapi.json"),
    ("GET", "/schema/{path:str}"),
    ("GET", "/invitations/{token:str}"),
    ("POST", "/invitations/{token:str}"),
    ("GET", "/forgot-password"),
    ("POST", "/forgot-password"),
    ("GET", "/reset-password/{token:str}"),
    ("POST", "/reset-password/{token:str}"),
    # The embedded mail catcher: loopback clients only (tests/integration/test_mail_catcher.py).
    ("GET", "/dev/outbox"),
    ("GET", "/favicon.ico"),
}

# Expected status per route for: anonymous, admin, manager, user.
EXPECTED: dict[tuple[str, str], tuple[int, int, int, int]] = {
    ("GET", "/"): (303, 200, 200, 200),
    ("GET", "/account"): (303, 200, 200, 200),
    ("GET", "/settings/roles"): (303, 200, 403, 403),
    ("GET", "/settings/activity"): (303, 200, 403, 403),
    ("GET", "/settings/activity/export.csv"): (303, 200, 403, 403),
    ("GET", "/settings/activity/export.jsonl"): (303, 200, 403, 403),
    # A random id: nobody of this organisation (404), never a page about someone else's.
    ("GET", "/settings/activity/users/{user_id:uuid}"): (303, 404, 403, 403),
    ("GET", "/settings/policies/new"): (303, 200, 403, 403),
    # The probe form has no name: the admin gets the form back with the message (422).
    ("POST", "/settings/policies"): (303, 422, 403, 403),
    # An unknown id: 404 for the admin; the guard refuses the others before any lookup.
    ("GET", "/settings/policies/{policy_id:uuid}"): (303, 404, 403, 403),
    ("POST", "/settings/policies/{policy_id:uuid}"): (303, 404, 403, 403),
    ("GET", "/settings/roles/new"): (303, 200, 403, 403),
    ("POST", "/settings/roles"): (303, 422, 403, 403),
    ("GET", "/settings/roles/preview"): (303, 200, 403, 403),
    ("GET", "/settings/roles/{role_id:uuid}"): (303, 404, 403, 403),
    ("POST", "/settings/roles/{role_id:uuid}"): (303, 404, 403, 403),
    ("POST", "/settings/roles/{role_id:uuid}/archive"): (303, 404, 403, 403),
    ("POST", "/settings/roles/{role_id:uuid}/restore"): (303, 404, 403, 403),
    ("GET", "/api/v1/policies"): (401, 200, 403, 403),
    # The probe sends a form, not JSON: the admin's body is malformed (400) before any lookup.
    ("POST", "/api/v1/policies"): (401, 415, 403, 403),
    ("GET", "/api/v1/policies/{policy_id:uuid}"): (401, 404, 403, 403),
    ("PUT", "/api/v1/policies/{policy_id:uuid}"): (401, 415, 403, 403),
    ("GET", "/api/v1/roles"): (401, 200, 403, 403),
    ("POST", "/api/v1/roles"): (401, 415, 403, 403),
    ("GET", "/api/v1/roles/{role_id:uuid}"): (401, 404, 403, 403),
    ("PUT", "/api/v1/roles/{role_id:uuid}"): (401, 415, 403, 403),
    ("POST", "/api/v1/roles/{role_id:uuid}/archive"): (401, 404, 403, 403),
    ("POST", "/api/v1/roles/{role_id:uuid}/restore"): (401, 404, 403, 403),
    ("GET", "/api/v1/me"): (401, 200, 200, 200),
    ("GET", "/settings/users"): (303, 200, 403, 403),
    ("GET", "/settings/users/invite"): (303, 200, 403, 403),
    # The admin's probe lacks required fields: 422.
    ("POST", "/settings/users/invite"): (303, 422, 403, 403),
    ("GET", "/settings/users/{user_id:uuid}"): (303, 404, 403, 403),
    ("POST", "/settings/users/{user_id:uuid}/send-invitation"): (303, 404, 403, 403),
    ("POST", "/settings/users/{user_id:uuid}/cancel-invitation"): (303, 404, 403, 403),
    ("POST", "/settings/users/{user_id:uuid}/deactivate"): (303, 404, 403, 403),
    ("POST", "/settings/users/{user_id:uuid}/reactivate"): (303, 404, 403, 403),
    ("GET", "/settings/users/{user_id:uuid}/edit"): (303, 404, 403, 403),
    ("POST", "/settings/users/{user_id:uuid}/edit"): (303, 404, 403, 403),
    ("GET", "/invitations/{token:str}"): (404, 404, 404, 404),
    ("POST", "/invitations/{token:str}"): (404, 404, 404, 404),
    # The mail catcher answers loopback clients only (the test client is none).
    ("GET", "/dev/outbox"): (404, 404, 404, 404),
    ("GET", "/favicon.ico"): (200, 200, 200, 200),
    ("GET", "/services"): (303, 200, 200, 200),
    ("GET", "/services/{service_id:uuid}"): (303, 404, 404, 404),
    ("GET", "/services/export.csv"): (303, 200, 200, 200),
    # Reassigning a user's services: an unknown user id is 404 for the admin.
    ("GET", "/settings/users/{user_id:uuid}/services"): (303, 404, 403, 403),
    ("POST", "/services/assign"): (303, 422, 403, 403),
    ("GET", "/api/v1/services"): (401, 200, 200, 200),
    ("GET", "/api/v1/services/{service_id:uuid}"): (401, 404, 404, 404),
    ("GET", "/api/v1/services/export"): (401, 200, 200, 200),
    ("POST", "/api/v1/services/assign"): (401, 415, 403, 403),
    # Account access assistance: an unknown user id is 404 for the admin (page and API).
    ("POST", "/settings/users/{user_id:uuid}/access-email"): (303, 404, 403, 403),
    ("POST", "/api/v1/users/{user_id:uuid}/access-email"): (401, 404, 403, 403),
    # The same answer for every address, whoever asks.
    ("GET", "/forgot-password"): (200, 200, 200, 200),
    ("POST", "/forgot-password"): (200, 200, 200, 200),
    ("GET", "/reset-password/{token:str}"): (404, 404, 404, 404),
    ("POST", "/reset-password/{token:str}"): (404, 404, 404, 404),
    ("GET", "/api/v1/users"): (401, 200, 403, 403),
    ("GET", "/api/v1/users/{user_id:uuid}"): (401, 404, 403, 403),
    ("PATCH", "/api/v1/users/{user_id:uuid}"): (401, 415, 403, 403),
    # The probe posts a form, not JSON: the admin's request is malformed (400).
    ("POST", "/api/v1/users/invitations"): (401, 415, 403, 403),
    ("POST", "/api/v1/users/{user_id:uuid}/invitation"): (401, 404, 403, 403),
    ("DELETE", "/api/v1/users/{user_id:uuid}/invitation"): (401, 404, 403, 403),
    ("POST", "/api/v1/users/{user_id:uuid}/deactivate"): (401, 415, 403, 403),
    ("POST", "/api/v1/users/{user_id:uuid}/reactivate"): (401, 415, 403, 403),
    # Bulk invitations: the admin's probe has no file (422) or is not JSON (400); an unknown
    # batch id is 404 for the admin.
    ("GET", "/settings/users/import"): (303, 200, 403, 403),
    ("POST", "/settings/users/import"): (303, 422, 403, 403),
    ("GET", "/settings/users/import/{batch_id:uuid}"): (303, 404, 403, 403),
    ("GET", "/settings/users/import/{batch_id:uuid}/progress"): (303, 404, 403, 403),
    ("POST", "/api/v1/users/invitations/bulk"): (401, 415, 403, 403),
    ("GET", "/api/v1/users/invitations/bulk/{batch_id:uuid}"): (401, 404, 403, 403),
    # Orders: orders:read for the list, orders:full to place and change; an order's page and
    # the decisions are for anyone signed in, answered 404 unless the order is theirs to see.
    ("GET", "/orders"): (303, 200, 200, 403),
    ("GET", "/orders/new"): (303, 200, 200, 403),
    ("POST", "/orders"): (303, 422, 422, 403),
    ("GET", "/orders/{order_id:uuid}"): (303, 404, 404, 404),
    ("GET", "/orders/{order_id:uuid}/timeline"): (303, 404, 404, 404),
    ("GET", "/orders/{order_id:uuid}/edit"): (303, 404, 404, 403),
    ("POST", "/orders/{order_id:uuid}/edit"): (303, 404, 404, 403),
    ("POST", "/orders/{order_id:uuid}/submit"): (303, 404, 404, 403),
    ("POST", "/orders/{order_id:uuid}/cancel"): (303, 404, 404, 403),
    ("POST", "/orders/{order_id:uuid}/approve"): (303, 404, 404, 404),
    ("POST", "/orders/{order_id:uuid}/reject"): (303, 404, 404, 404),
    ("GET", "/approvals"): (303, 200, 200, 200),
    ("POST", "/approvals/approve"): (303, 422, 422, 422),
    ("GET", "/settings/approval-policies"): (303, 200, 403, 403),
    ("GET", "/settings/approval-policies/new"): (303, 200, 403, 403),
    ("POST", "/settings/approval-policies"): (303, 422, 403, 403),
    # The probe gives no amount: the admin's preview says so (422).
    ("GET", "/settings/approval-policies/preview"): (303, 422, 403, 403),
    ("GET", "/settings/approval-policies/{policy_id:uuid}"): (303, 404, 403, 403),
    ("POST", "/settings/approval-policies/{policy_id:uuid}"): (303, 404, 403, 403),
    ("POST", "/settings/approval-policies/timing"): (303, 422, 403, 403),
    ("POST", "/settings/approval-policies/levels"): (303, 303, 403, 403),
    ("GET", "/api/v1/orders"): (401, 200, 200, 403),
    ("POST", "/api/v1/orders"): (401, 415, 415, 403),
    ("GET", "/api/v1/orders/{order_id:uuid}"): (401, 404, 404, 404),
    ("PATCH", "/api/v1/orders/{order_id:uuid}"): (401, 415, 415, 403),
    ("POST", "/api/v1/orders/{order_id:uuid}/submit"): (401, 404, 404, 403),
    ("POST", "/api/v1/orders/{order_id:uuid}/cancel"): (401, 415, 415, 403),
    ("POST", "/api/v1/orders/{order_id:uuid}/approve"): (401, 415, 415, 415),
    ("POST", "/api/v1/orders/{order_id:uuid}/reject"): (401, 415, 415, 415),
    ("GET", "/api/v1/approvals"): (401, 200, 200, 200),
    ("POST", "/api/v1/approvals/approve"): (401, 415, 415, 415),
    ("GET", "/api/v1/approval-policies"): (401, 200, 403, 403),
    ("POST", "/api/v1/approval-policies"): (401, 415, 403, 403),
    ("GET", "/api/v1/approval-policies/{policy_id:uuid}"): (401, 404, 403, 403),
    ("PATCH", "/api/v1/approval-policies/{policy_id:uuid}"): (401, 415, 403, 403),
    ("POST", "/api/v1/approval-policies/preview"): (401, 415, 403, 403),
    # Cost centres: everyone reads the list, admins change it; the admin's probe form has no
    # code (422), an unknown id is 404 for the admin, and the API takes JSON only (415).
    ("GET", "/settings/cost-centres"): (303, 200, 200, 200),
    ("POST", "/settings/cost-centres"): (303, 422, 403, 403),
    ("POST", "/settings/cost-centres/{centre_id:uuid}"): (303, 404, 403, 403),
    ("POST", "/settings/cost-centres/{centre_id:uuid}/archive"): (303, 404, 403, 403),
    ("POST", "/settings/cost-centres/{centre_id:uuid}/restore"): (303, 404, 403, 403),
    ("GET", "/api/v1/cost-centres"): (401, 200, 200, 200),
    ("POST", "/api/v1/cost-centres"): (401, 415, 403, 403),
    ("PATCH", "/api/v1/cost-centres/{centre_id:uuid}"): (401, 415, 403, 403),
    ("POST", "/sign-out"): (303, 303, 303, 303),
    ("GET", "/sign-in"): (200, 303, 303, 303),
    ("POST", "/sign-in"): (401, 401, 401, 401),
    ("GET", "/health"): (200, 200, 200, 200),
    ("GET", "/ready"): (200, 200, 200, 200),
    ("GET", "/static/{file_path:path}"): (200, 200, 200, 200),
    ("GET", "/schema"): (200, 200, 200, 200),
    ("GET", "/schema/openapi.json"): (200, 200, 200, 200),
    ("GET", "/schema/{path:str}"): (404, 404, 404, 404),
}
UNKNOWN_ID = "7c0c8a8e-8f4e-4b8e-9d3c-2f6f4a0b1c2d"
CONCRETE_PATH = {
    "/static/{file_path:path}": "/static/portal.css",
    "/schema/{path:str}": "/schema/no-such-render-plugin",
    "/invitations/{token:str}": "/invitations/no-such-token",
    "/reset-password/{token:str}": "/reset-password/no-such-token",
    "/settings/policies/{policy_id:uuid}": f"/settings/policies/{UNKNOWN_ID}",
    "/settings/roles/{role_id:uuid}": f"/settings/roles/{UNKNOWN_ID}",
    "/api/v1/policies/{policy_id:uuid}": f"/api/v1/policies/{UNKNOWN_ID}",
    "/api/v1/roles/{role_id:uuid}": f"/api/v1/roles/{UNKNOWN_ID}",
    "/settings/users/import/{batch_id:uuid}": f"/settings/users/import/{UNKNOWN_ID}",
    "/settings/users/import/{batch_id:uuid}/progress": (
        f"/settings/users/import/{UNKNOWN_ID}/progress"
    ),
    "/api/v1/users/invitations/bulk/{batch_id:uuid}": (
        f"/api/v1/users/invitations/bulk/{UNKNOWN_ID}"
    ),
}


def concrete(path: str) -> str:
    path = CONCRETE_PATH.get(path, path)
    for name in ("user_id", "service_id", "order_id", "policy_id", "role_id", "centre_id"):
        path = path.replace(f"{{{name}:uuid}}", UNKNOWN_ID)
    return path


def registered_routes(app: Litestar) -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((str(method), route.path, handler))
    return found


def test_every_route_declares_an_access_rule(app: Litestar) -> None:
    routes = registered_routes(app)
    assert len(routes) >= len(EXPECTED)
    undeclared = [(m, p) for m, p, handler in routes if access_of(handler) is None]
    assert undeclared == [], f"routes without an access rule: {undeclared}"
    public = {(m, p) for m, p, handler in routes if access_of(handler).public}  # type: ignore[union-attr]
    assert public == PUBLIC_ROUTES


def test_the_status_matrix_covers_every_route(app: Litestar) -> None:
    assert {(m, p) for m, p, _ in registered_routes(app)} == set(EXPECTED)


async def test_a_route_without_a_rule_is_refused_to_everybody(acme: Tenant, app: Litestar) -> None:
    from litestar import get

    @get("/undeclared")
    async def undeclared() -> str:
        return "should never be served"

    app.register(undeclared)
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        await sign_in(client, acme.admin.email)
        response = await client.get("/undeclared")
        assert response.status_code == 403
        assert "should never be served" not in response.text


async def _status(client: AsyncTestClient[Litestar], method: str, path: str) -> int:
    url = concrete(path)
    headers = {}
    data = None
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        token = client.cookies.get("csrftoken")
        if token:
            headers["x-csrftoken"] = token
        # A form body: pages read it, the API answers 415 (it takes JSON only).
        data = {"email": "someone@example.com", "password": "wrong password!!"}
    response = await client.request(method, url, headers=headers, data=data, follow_redirects=False)
    return response.status_code


@pytest.mark.parametrize("who", ["anonymous", "admin", "manager", "user"])
async def test_each_tier_gets_the_expected_status_on_every_route(
    who: str, app: Litestar, acme: Tenant
) -> None:
    column = ["anonymous", "admin", "manager", "user"].index(who)
    observed = {}
    # One signed-in client for every route; sign-out goes last, since it ends the session.
    routes = sorted(EXPECTED, key=lambda route: route == ("POST", "/sign-out"))
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        if who != "anonymous":
            await sign_in(client, getattr(acme, who).email)
        for method, path in routes:
            statuses = EXPECTED[(method, path)]
            observed[(method, path)] = (await _status(client, method, path), statuses[column])
    wrong = {route: pair for route, pair in observed.items() if pair[0] != pair[1]}
    assert wrong == {}, f"(observed, expected) for {who}: {wrong}"


async def test_a_state_change_without_the_csrf_token_is_refused(
    app: Litestar, acme: Tenant
) -> None:
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        await sign_in(client, acme.admin.email)
        for method, path in EXPECTED:
            if method in ("POST", "PUT", "DELETE", "PATCH") and path not in ("/sign-in",):
                response = await client.request(method, concrete(path), follow_redirects=False)
                assert response.status_code == 403, (method, path)


async def test_another_organisation_sees_nothing_of_acme(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    await sign_in(client, globex.admin.email)
    me = (await client.get("/api/v1/me")).json()
    assert me["organisation"] == {"id": str(globex.id), "name": "Globex"}
    page = await client.get("/settings/activity")
    assert page.status_code == 200
    assert acme.admin.email not in page.text and "Acme Admin" not in page.text
    acme_events = await ActivityEvent.count().where(ActivityEvent.organisation == acme.id)
    assert acme_events > 0  # there was something to leak
