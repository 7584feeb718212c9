"""Roles, policies and overrides stored in the database decide access on the next request."""

from __future__ import annotations

from uuid import uuid4

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.errors import NotFound
from portal.permissions.model import Area, Level, OverrideKind
from portal.permissions.queries import NOT_ASSIGNABLE
from portal.permissions.service import (
    PermissionChangeError,
    create_policy,
    create_role,
    update_policy,
)
from portal.permissions.tables import PermissionPolicy, UserRole
from portal.users.service import ChangeError, UserChanges, change_user
from portal.users.tables import UserOverride
from tests.conftest import BASE_URL, Tenant, sign_in


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
    policy = await create_policy(acme.admin.actor, "Auditors", {"activity_log": "read"})
    role = await create_role(acme.admin.actor, "Auditor", [policy])
    await change_user(
        acme.admin.actor, acme.user.id, UserChanges(role_ids=[role]), base_url=BASE_URL
    )
    assert (await _levels(client))["activity_log"] == "read"
    assert (await client.get("/settings/activity")).status_code == 200
    assert (await client.get("/api/v1/me")).json()["roles"] == ["Auditor"]

    await update_policy(
        acme.admin.actor, policy, name="Auditors", description="", grants={"users": "read"}
    )
    levels = await _levels(client)
    assert levels["activity_log"] == "none"
    assert levels["users"] == "read"
    assert (await client.get("/settings/activity")).status_code == 403


async def test_a_restriction_wins_over_the_tier_and_any_role(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    # The admin tier and a role both grant the activity log in full; the restriction caps it.
    policy = await create_policy(acme.admin.actor, "Log keepers", {"activity_log": "full"})
    role = await create_role(acme.admin.actor, "Log keeper", [policy])
    restricted = {Area.ACTIVITY_LOG: (OverrideKind.RESTRICT, Level.NONE)}
    await change_user(
        acme.admin.actor,
        acme.admin.id,
        UserChanges(role_ids=[role], overrides=restricted),
        base_url=BASE_URL,
    )
    await sign_in(client, acme.admin.email)
    assert (await client.get("/api/v1/me")).json()["roles"] == ["Log keeper"]
    assert (await _levels(client))["activity_log"] == "none"
    assert (await client.get("/settings/activity")).status_code == 403
    await change_user(
        acme.admin.actor,
        acme.admin.id,
        UserChanges(overrides={Area.ACTIVITY_LOG: None}),
        base_url=BASE_URL,
    )
    assert (await _levels(client))["activity_log"] == "full"
    assert (await client.get("/settings/activity")).status_code == 200


async def test_another_tenants_ids_are_not_found(acme: Tenant, globex: Tenant) -> None:
    globex_policy = await create_policy(globex.admin.actor, "Theirs", {"users": "read"})
    with pytest.raises(NotFound):
        await create_role(acme.admin.actor, "Stolen", [globex_policy])
    globex_role = await create_role(globex.admin.actor, "Theirs", [globex_policy])
    # Another organisation's role is refused exactly as a role that does not exist.
    refusals = []
    for role in (globex_role, uuid4()):
        with pytest.raises(ChangeError) as refused:
            await change_user(
                acme.admin.actor, acme.user.id, UserChanges(role_ids=[role]), base_url=BASE_URL
            )
        refusals.append(refused.value.errors)
    assert refusals[0] == refusals[1] == {"roles": NOT_ASSIGNABLE}
    assert await UserRole.count() == 0
    with pytest.raises(NotFound):
        await change_user(
            acme.admin.actor, globex.user.id, UserChanges(role_ids=[globex_role]), base_url=BASE_URL
        )
    with pytest.raises(NotFound):
        await update_policy(
            acme.admin.actor, globex_policy, name="Theirs", description="", grants={"users": "full"}
        )
    with pytest.raises(NotFound):
        await change_user(
            acme.admin.actor,
            globex.user.id,
            UserChanges(overrides={Area.USERS: (OverrideKind.GRANT, Level.FULL)}),
            base_url=BASE_URL,
        )
    assert await UserRole.count() == 0 and await UserOverride.count() == 0


async def test_bad_grants_are_refused_and_change_nothing(acme: Tenant) -> None:
    bad = [
        {"no_such_area": "read"},
        {"orders": "approve"},
        {"users": "everything"},
        {f"area{i}": "read" for i in range(101)},
    ]
    for grants in bad:
        with pytest.raises(PermissionChangeError):
            await create_policy(acme.admin.actor, "Bad", grants)
    with pytest.raises(PermissionChangeError):
        await create_policy(acme.admin.actor, "x" * 10_000, {})
    assert await PermissionPolicy.count() == 0
    await create_policy(acme.admin.actor, "Good", {"approvals": "approve"})
    with pytest.raises(PermissionChangeError, match="already exists"):
        await create_policy(acme.admin.actor, " Good ", {})


async def test_roles_page_shows_tiers_and_only_this_organisations_roles(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Auditors", {"activity_log": "read"})
    await create_role(acme.admin.actor, "Auditor", [policy])
    other = await create_policy(globex.admin.actor, "Globex secret", {"users": "read"})
    await create_role(globex.admin.actor, "Globex role", [other])
    await sign_in(client, acme.admin.email)
    page = await client.get("/settings/roles")
    assert page.status_code == 200
    assert "Auditor" in page.text and "activity log: read" in page.text
    assert "Globex" not in page.text
    assert "Built-in permission levels" in page.text
