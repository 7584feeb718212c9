"""Settings → Roles: the built-in tiers and the organisation's custom roles, read-only here."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.pages import page
from portal.permissions.guards import requires
from portal.permissions.model import TIER_GRANTS, TIER_SCOPE, Area, Level, Tier
from portal.permissions.principal import Principal
from portal.permissions.tables import PermissionPolicy, PolicyGrant, Role, RolePolicy


@get("/settings/roles", opt=requires(Area.ROLES, Level.READ), include_in_schema=False)
async def roles_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    roles = (
        await Role.select(Role.id, Role.name, Role.description)
        .where(Role.organisation == principal.organisation_id)
        .order_by(Role.name)
    )
    links = await RolePolicy.select(
        RolePolicy.role, RolePolicy.policy.name.as_alias("policy_name")
    ).where(RolePolicy.role.organisation == principal.organisation_id)
    policies_by_role: dict[Any, list[str]] = {}
    for link in links:
        policies_by_role.setdefault(link["role"], []).append(link["policy_name"])
    policies = (
        await PermissionPolicy.select(PermissionPolicy.id, PermissionPolicy.name)
        .where(PermissionPolicy.organisation == principal.organisation_id)
        .order_by(PermissionPolicy.name)
    )
    grants = await PolicyGrant.select(
        PolicyGrant.policy, PolicyGrant.area, PolicyGrant.level
    ).where(PolicyGrant.policy.organisation == principal.organisation_id)
    grants_by_policy: dict[Any, dict[str, str]] = {}
    for grant in grants:
        grants_by_policy.setdefault(grant["policy"], {})[grant["area"]] = grant["level"]
    return page(
        request,
        "permissions/roles.html",
        areas=list(Area),
        tiers=[(tier, TIER_GRANTS[tier], TIER_SCOPE[tier]) for tier in Tier],
        roles=roles,
        policies_by_role=policies_by_role,
        policies=policies,
        grants_by_policy=grants_by_policy,
    )


ROUTES = [roles_page]
