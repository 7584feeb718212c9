"""The roles and policies JSON API: shapes, access, tenancy and every kind of bad input."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.permissions.service import create_policy, create_role
from portal.permissions.tables import PermissionPolicy, PolicyGrant, Role, RolePolicy
from portal.users.service import UserChanges, change_user
from tests.conftest import BASE_URL, Tenant, sign_in


def csrf(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def send(client: AsyncTestClient[Litestar], method: str, url: str, body: Any) -> Any:
    return await client.request(method, url, json=body, headers=csrf(client))


async def snapshot() -> tuple[Any, ...]:
    """Everything a refused change must leave as it was."""
    return (
        sorted(str(r) for r in await PermissionPolicy.select().order_by(PermissionPolicy.id)),
        sorted(
            str(r)
            for r in await PolicyGrant.select(
                PolicyGrant.policy, PolicyGrant.area, PolicyGrant.level
            )
        ),
        sorted(str(r) for r in await Role.select()),
        sorted(str(r) for r in await RolePolicy.select(RolePolicy.role, RolePolicy.policy)),
        await ActivityEvent.count().where(
            ActivityEvent.action.like("policy.%") | ActivityEvent.action.like("role.%")
        ),
    )


async def test_admin_creates_reads_and_replaces_policies(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    created = await send(
        client,
        "POST",
        "/api/v1/policies",
        {
            "name": "Approvers",
            "description": "Clear the queue",
            "grants": {"approvals": "approve", "orders": "read", "users": "none"},
        },
    )
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["name"] == "Approvers" and policy["description"] == "Clear the queue"
    # "none" grants nothing, so it is not stored.
    assert policy["grants"] == {"approvals": "approve", "orders": "read"}
    assert (await client.get(f"/api/v1/policies/{policy['id']}")).json() == policy
    assert (await client.get("/api/v1/policies")).json() == [policy]

    replaced = await send(
        client,
        "PUT",
        f"/api/v1/policies/{policy['id']}",
        {"name": "Order readers", "grants": {"orders": "full"}},
    )
    assert replaced.status_code == 200, replaced.text
    # PUT replaces the whole policy: the description left out becomes empty.
    assert replaced.json() | {"created_at": None} == {
        "id": policy["id"],
        "name": "Order readers",
        "description": "",
        "grants": {"orders": "full"},
        "created_at": None,
    }
    actions = [
        e["action"]
        for e in await ActivityEvent.select(ActivityEvent.action)
        .where(ActivityEvent.action.like("policy.%"))
        .order_by(ActivityEvent.occurred_at)
    ]
    assert actions == ["policy.created", "policy.changed"]


async def test_admin_creates_reads_and_replaces_roles_with_their_effective_permissions(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    readers = await create_policy(acme.admin.actor, "Readers", {"orders": "read", "users": "read"})
    buyers = await create_policy(acme.admin.actor, "Buyers", {"orders": "full"})
    await sign_in(client, acme.admin.email)
    created = await send(
        client,
        "POST",
        "/api/v1/roles",
        {"name": "Purchaser", "policy_ids": [str(readers), str(buyers), str(buyers)]},
    )
    assert created.status_code == 201, created.text
    role = created.json()
    assert role["name"] == "Purchaser" and role["description"] == ""
    assert sorted(role["policy_ids"]) == sorted([str(readers), str(buyers)])
    assert role["permissions"]["orders"] == "full"
    assert role["permissions"]["users"] == "read"
    assert role["permissions"]["billing"] == "none"
    assert (await client.get(f"/api/v1/roles/{role['id']}")).json() == role
    assert (await client.get("/api/v1/roles")).json() == [role]

    replaced = await send(
        client,
        "PUT",
        f"/api/v1/roles/{role['id']}",
        {"name": "Reader", "description": "Reads orders", "policy_ids": [str(readers)]},
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["name"], body["description"], body["policy_ids"]) == (
        "Reader",
        "Reads orders",
        [str(readers)],
    )
    assert body["permissions"]["orders"] == "read"


async def _me(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    response = await client.get("/api/v1/me")
    assert response.status_code == 200
    me: dict[str, Any] = response.json()
    return me


async def test_a_holder_gains_and_loses_access_on_the_next_request_after_an_edit(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Auditors", {})
    role = await create_role(acme.admin.actor, "Auditor", [policy])
    await change_user(
        acme.admin.actor, acme.user.id, UserChanges(role_ids=[role]), base_url=BASE_URL
    )
    await sign_in(client, acme.admin.email)
    async with AsyncTestClient(app, base_url=BASE_URL) as holder:
        await sign_in(holder, acme.user.email)
        assert (await _me(holder))["permissions"]["activity_log"] == "none"
        assert (await holder.get("/settings/activity")).status_code == 403

        granted = await send(
            client,
            "PUT",
            f"/api/v1/policies/{policy}",
            {"name": "Auditors", "grants": {"activity_log": "read"}},
        )
        assert granted.status_code == 200
        assert (await _me(holder))["permissions"]["activity_log"] == "read"
        assert (await holder.get("/settings/activity")).status_code == 200

        revoked = await send(
            client, "PUT", f"/api/v1/policies/{policy}", {"name": "Auditors", "grants": {}}
        )
        assert revoked.status_code == 200
        assert (await _me(holder))["permissions"]["activity_log"] == "none"
        assert (await holder.get("/settings/activity")).status_code == 403

        # A role edit reaches holders the same way: a new name and a new policy.
        other = await create_policy(acme.admin.actor, "Log", {"activity_log": "read"})
        renamed = await send(
            client,
            "PUT",
            f"/api/v1/roles/{role}",
            {"name": "Log reader", "policy_ids": [str(other)]},
        )
        assert renamed.status_code == 200
        me = await _me(holder)
        assert me["roles"] == ["Log reader"] and me["permissions"]["activity_log"] == "read"


@pytest.mark.parametrize("who", ["manager", "user"])
async def test_manager_and_user_get_403_on_every_call_and_nothing_changes(
    who: str, client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Auditors", {"activity_log": "read"})
    role = await create_role(acme.admin.actor, "Auditor", [policy])
    before = await snapshot()
    await sign_in(client, getattr(acme, who).email)
    calls = [
        ("GET", "/api/v1/policies", None),
        ("GET", f"/api/v1/policies/{policy}", None),
        ("POST", "/api/v1/policies", {"name": "Mine", "grants": {"users": "full"}}),
        ("PUT", f"/api/v1/policies/{policy}", {"name": "Mine", "grants": {"users": "full"}}),
        ("GET", "/api/v1/roles", None),
        ("GET", f"/api/v1/roles/{role}", None),
        ("POST", "/api/v1/roles", {"name": "Mine", "policy_ids": [str(policy)]}),
        ("PUT", f"/api/v1/roles/{role}", {"name": "Mine", "policy_ids": []}),
    ]
    for method, url, body in calls:
        response = await send(client, method, url, body)
        assert response.status_code == 403, (method, url)
        assert response.json()["error"]["code"] == "forbidden"
    assert await snapshot() == before


async def test_changes_without_the_csrf_header_are_refused(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    response = await client.post("/api/v1/policies", json={"name": "Mine", "grants": {}})
    assert response.status_code == 403
    assert await PermissionPolicy.count() == 0


async def test_another_organisations_ids_are_not_found_and_nothing_changes(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    theirs = await create_policy(globex.admin.actor, "Theirs", {"users": "read"})
    their_role = await create_role(globex.admin.actor, "Their role", [theirs])
    mine = await create_policy(acme.admin.actor, "Mine", {"orders": "read"})
    my_role = await create_role(acme.admin.actor, "My role", [mine])
    before = await snapshot()
    await sign_in(client, acme.admin.email)
    unknown = uuid4()
    calls: list[tuple[str, str, Any]] = [
        ("GET", "/api/v1/policies/{}", None),
        ("PUT", "/api/v1/policies/{}", {"name": "Stolen", "grants": {"users": "full"}}),
        ("GET", "/api/v1/roles/{}", None),
        ("PUT", "/api/v1/roles/{}", {"name": "Stolen", "policy_ids": []}),
    ]
    for method, template, body in calls:
        foreign = theirs if "policies" in template else their_role
        answers = [await send(client, method, template.format(t), body) for t in (foreign, unknown)]
        assert [a.status_code for a in answers] == [404, 404], template
        assert answers[0].json() == answers[1].json()

    # A policy of another organisation in a role's body: the answer of one that never existed.
    for body in (
        {"name": "Stolen", "policy_ids": [str(mine), str(theirs)]},
        {"name": "Stolen", "policy_ids": [str(mine), str(unknown)]},
    ):
        for method, url in (("POST", "/api/v1/roles"), ("PUT", f"/api/v1/roles/{my_role}")):
            response = await send(client, method, url, body)
            assert response.status_code == 422
            assert response.json()["error"]["details"] == [
                {"field": "policy_ids", "message": "One of the policy ids does not exist."}
            ]
    listed = (await client.get("/api/v1/policies")).json()
    assert [p["name"] for p in listed] == ["Mine"]
    assert [r["name"] for r in (await client.get("/api/v1/roles")).json()] == ["My role"]
    assert await snapshot() == before


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status and error["message"]
    return error


BAD_POLICIES: list[tuple[Any, int, str, str]] = [
    # (body, status, field, part of the message)
    ({"grants": {}}, 422, "name", "missing required field `name`"),
    ({"name": "A"}, 422, "grants", "missing required field `grants`"),
    ({"name": 5, "grants": {}}, 422, "name", "Expected `str`"),
    ({"name": "A", "grants": ["users"]}, 422, "grants", "Expected `object`"),
    ({"name": "A", "grants": {"users": 1}}, 422, "grants[...]", "Expected `str`"),
    ({"name": "A", "grants": {}, "grnats": {}}, 422, "grnats", "unknown field `grnats`"),
    ([], 422, "body", "Expected `object`"),
    ({"name": "x" * 10_000, "grants": {}}, 422, "name", "at most 100 characters"),
    ({"name": "   ", "grants": {}}, 422, "name", "Enter a name."),
    ({"name": "A", "description": "d" * 100_000, "grants": {}}, 422, "description", "at most 500"),
    ({"name": "A\x00", "grants": {}}, 422, "name", "control characters"),
    (
        {"name": "A", "grants": {"no_such_area": "read"}},
        422,
        "grants",
        "Unknown area 'no_such_area'",
    ),
    ({"name": "A", "grants": {"y" * 10_000: "read"}}, 422, "grants", "Unknown area 'yyyy"),
    ({"name": "A", "grants": {"orders": "approve"}}, 422, "grants.orders", "goes up to 'full'"),
    ({"name": "A", "grants": {"users": "write"}}, 422, "grants.users", "Unknown level 'write'"),
    (
        {"name": "A", "grants": {f"a{n}": "read" for n in range(101)}},
        422,
        "grants",
        "at most 100 grants",
    ),
]


async def test_bad_policy_bodies_get_a_clear_structured_error_and_change_nothing(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    existing = await create_policy(acme.admin.actor, "Existing", {"users": "read"})
    before = await snapshot()
    await sign_in(client, acme.admin.email)
    for url, method in (("/api/v1/policies", "POST"), (f"/api/v1/policies/{existing}", "PUT")):
        for body, status, field, message in BAD_POLICIES:
            error = _error(await send(client, method, url, body), status)
            assert error["code"] == ("bad_request" if status == 400 else "validation_failed")
            assert any(d["field"] == field and message in d["message"] for d in error["details"]), (
                body if len(str(body)) < 200 else field,
                error,
            )
    malformed = await client.post(
        "/api/v1/policies",
        content=b'{"name": ',
        headers={**csrf(client), "content-type": "application/json"},
    )
    assert _error(malformed, 400)["code"] == "bad_request"
    duplicate = await send(client, "POST", "/api/v1/policies", {"name": " Existing ", "grants": {}})
    assert _error(duplicate, 422)["details"] == [
        {
            "field": "name",
            "message": "A policy named 'Existing' already exists. Choose another name.",
        }
    ]
    assert await snapshot() == before


async def test_bad_role_bodies_get_a_clear_structured_error_and_change_nothing(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Existing", {"users": "read"})
    role = await create_role(acme.admin.actor, "Existing role", [policy])
    await create_role(acme.admin.actor, "Other role", [])
    before = await snapshot()
    await sign_in(client, acme.admin.email)
    bad: list[tuple[Any, int, str, str]] = [
        ({"name": "A"}, 422, "policy_ids", "missing required field `policy_ids`"),
        ({"name": "A", "policy_ids": ["not-a-uuid"]}, 422, "policy_ids[0]", "Invalid UUID"),
        ({"name": "A", "policy_ids": str(policy)}, 422, "policy_ids", "Expected `array`"),
        ({"name": "z" * 10_000, "policy_ids": []}, 422, "name", "at most 100 characters"),
        (
            {"name": "A", "policy_ids": [str(uuid4()) for _ in range(101)]},
            422,
            "policy_ids",
            "at most 100 policies",
        ),
        ({"name": "Other role", "policy_ids": []}, 422, "name", "already exists"),
    ]
    for url, method in (("/api/v1/roles", "POST"), (f"/api/v1/roles/{role}", "PUT")):
        for body, status, field, message in bad:
            error = _error(await send(client, method, url, body), status)
            assert any(d["field"] == field and message in d["message"] for d in error["details"]), (
                field,
                error,
            )
    assert await snapshot() == before


async def test_concurrent_creates_with_one_name_make_one_policy(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    body = {"name": "Auditors", "grants": {"activity_log": "read"}}
    answers = await asyncio.gather(
        *(send(client, "POST", "/api/v1/policies", body) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [201, 422, 422]
    for refused in (a for a in answers if a.status_code == 422):
        assert refused.json()["error"]["details"][0]["field"] == "name"
    assert await PermissionPolicy.count() == 1
    created = next(a for a in answers if a.status_code == 201).json()
    assert await PolicyGrant.count().where(PolicyGrant.policy == UUID(created["id"])) == 1
