"""Roles, policies and overrides stored in the database decide access on the next request."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.errors import NotFound
from portal.permissions.model import Area, Level, OverrideKind
from portal.permissions.service import (
    PermissionChangeError,
    assign_role,
    create_policy,
    create_role,
    set_override,
    set_policy_grants,
)
from portal.permissions.tables import PermissionPolicy
from tests.conftest import Tenant, sign_in


async def _levels(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    response = await client.get("/api/v1/me")
    assert response.status_code == 200
    levels: dict[str, str] = response.json()["permissions"]
    return levels


async def test_a_role_raises_access_and_a_policy_edit_reaches_holders_next_request(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.user.email)
    assert (await _levels(client))["activity_log"] == "none"
    policy = await create_policy(acme.id, acme.admin.id, "Auditors", {"activity_log": "read"})
    role = await create_role(acme.id, acme.admin.id, "Auditor", [policy])
    await assign_role(acme.id, acme.admin.id, acme.user.id, role)
    assert (await _levels(client))["activity_log"] == "read"
    assert (await client.get("/settings/activity")).status_code == 200
    assert (await client.get("/api/v1/me")).json()["roles"] == ["Auditor"]

    await set_policy_grants(acme.id, acme.admin.id, policy, {"users": "read"})
    levels = await _levels(client)
    assert levels["activity_log"] == "none"
    assert levels["users"] == "read"
    assert (await client.get("/settings/activity")).status_code == 403


async def test_a_restriction_wins_over_the_tier_and_any_role(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    await set_override(
        acme.id, acme.admin.id, acme.admin.id, Area.ACTIVITY_LOG, OverrideKind.RESTRICT, Level.NONE
    )
    await set_override(
        acme.id, acme.admin.id, acme.admin.id, Area.ACTIVITY_LOG, OverrideKind.GRANT, Level.FULL
    )
    assert (await _levels(client))["activity_log"] == "none"
    assert (await client.get("/settings/activity")).status_code == 403
    await set_override(
        acme.id, acme.admin.id, acme.admin.id, Area.ACTIVITY_LOG, OverrideKind.RESTRICT, None
    )
    assert (await client.get("/settings/activity")).status_code == 200


async def test_another_tenants_ids_are_not_found(acme: Tenant, globex: Tenant) -> None:
    globex_policy = await create_policy(globex.id, globex.admin.id, "Theirs", {"users": "read"})
    with pytest.raises(NotFound):
        await create_role(acme.id, acme.admin.id, "Stolen", [globex_policy])
    globex_role = await create_role(globex.id, globex.admin.id, "Theirs", [globex_policy])
    with pytest.raises(NotFound):
        await assign_role(acme.id, acme.admin.id, acme.user.id, globex_role)
    with pytest.raises(NotFound):
        await assign_role(acme.id, acme.admin.id, globex.user.id, globex_role)
    with pytest.raises(NotFound):
        await set_policy_grants(acme.id, acme.admin.id, globex_policy, {"users": "full"})
    with pytest.raises(NotFound):
        await set_override(
            acme.id, acme.admin.id, globex.user.id, Area.USERS, OverrideKind.GRANT, Level.FULL
        )


async def test_bad_grants_are_refused_and_change_nothing(acme: Tenant) -> None:
    bad = [
        {"no_such_area": "read"},
        {"orders": "approve"},
        {"users": "everything"},
        {f"area{i}": "read" for i in range(101)},
    ]
    for grants in bad:
        with pytest.raises(PermissionChangeError):
            await create_policy(acme.id, acme.admin.id, "Bad", grants)
    with pytest.raises(PermissionChangeError):
        await create_policy(acme.id, acme.admin.id, "x" * 10_000, {})
    assert await PermissionPolicy.count() == 0
    await create_policy(acme.id, acme.admin.id, "Good", {"approvals": "approve"})
    with pytest.raises(PermissionChangeError, match="already exists"):
        await create_policy(acme.id, acme.admin.id, " Good ", {})


async def test_roles_page_shows_tiers_and_only_this_organisations_roles(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    policy = await create_policy(acme.id, acme.admin.id, "Auditors", {"activity_log": "read"})
    await create_role(acme.id, acme.admin.id, "Auditor", [policy])
    other = await create_policy(globex.id, globex.admin.id, "Globex secret", {"users": "read"})
    await create_role(globex.id, globex.admin.id, "Globex role", [other])
    await sign_in(client, acme.admin.email)
    page = await client.get("/settings/roles")
    assert page.status_code == 200
    assert "Auditor" in page.text and "activity log: read" in page.text
    assert "Globex" not in page.text
    assert "Built-in permission levels" in page.text
