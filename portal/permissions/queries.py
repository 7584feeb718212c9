"""Reading policies and roles for pages and the API, always within one organisation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from portal.errors import NotFound
from portal.permissions.model import Area, Grants, Level
from portal.permissions.resolve import role_levels
from portal.permissions.tables import PermissionPolicy, PolicyGrant, Role, RolePolicy, UserRole


@dataclass(frozen=True, slots=True)
class PolicyView:
    id: UUID
    name: str
    description: str
    grants: dict[Area, Level]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RoleView:
    id: UUID
    name: str
    description: str
    policies: tuple[PolicyView, ...]
    created_at: datetime
    archived: bool = False

    @property
    def policy_ids(self) -> list[UUID]:
        return [policy.id for policy in self.policies]

    @property
    def levels(self) -> dict[Area, Level]:
        """The role's effective permissions: each area at the highest level of its policies."""
        return role_levels(policy.grants for policy in self.policies)


async def policies_of(
    organisation_id: UUID, only: Iterable[UUID] | None = None
) -> list[PolicyView]:
    """The organisation's policies by name, or only those of them among ``only``."""
    policy_conditions: list[Any] = [PermissionPolicy.organisation == organisation_id]
    grant_conditions: list[Any] = [PolicyGrant.policy.organisation == organisation_id]
    if only is not None:
        ids = list(only)
        if not ids:
            return []
        policy_conditions.append(PermissionPolicy.id.is_in(ids))
        grant_conditions.append(PolicyGrant.policy.is_in(ids))
    rows = (
        await PermissionPolicy.select(*_POLICY_COLUMNS)
        .where(*policy_conditions)
        .order_by(PermissionPolicy.name)
    )
    grants = await _grants_where(*grant_conditions)
    return [_policy(row, grants) for row in rows]


async def policy_of(organisation_id: UUID, policy_id: UUID) -> PolicyView:
    """One policy of the organisation; another organisation's id is NotFound, as a missing one."""
    row = (
        await PermissionPolicy.select(*_POLICY_COLUMNS)
        .where(
            (PermissionPolicy.id == policy_id) & (PermissionPolicy.organisation == organisation_id)
        )
        .first()
    )
    if row is None:
        raise NotFound("policy")
    return _policy(row, await _grants_where(PolicyGrant.policy == policy_id))


async def levels_of_policies(
    organisation_id: UUID, policy_ids: Iterable[UUID]
) -> dict[Area, Level]:
    """What a role made of these policies would grant; ids of other organisations add nothing."""
    ids = list(policy_ids)
    if not ids:
        return role_levels(())
    grants = await _grants_where(
        PolicyGrant.policy.is_in(ids) & (PolicyGrant.policy.organisation == organisation_id)
    )
    return role_levels(grants.values())


async def roles_of(
    organisation_id: UUID, policies: list[PolicyView] | None = None
) -> list[RoleView]:
    """The organisation's custom roles by name; pass its policies if already loaded."""
    rows = (
        await Role.select(*_ROLE_COLUMNS)
        .where(Role.organisation == organisation_id)
        .order_by(Role.name)
    )
    links = await RolePolicy.select(RolePolicy.role, RolePolicy.policy).where(
        RolePolicy.role.organisation == organisation_id
    )
    if policies is None:
        policies = await policies_of(organisation_id)
    return _roles(rows, links, policies)


async def role_of(organisation_id: UUID, role_id: UUID) -> RoleView:
    """One custom role of the organisation; another organisation's id is NotFound."""
    row = (
        await Role.select(*_ROLE_COLUMNS)
        .where((Role.id == role_id) & (Role.organisation == organisation_id))
        .first()
    )
    if row is None:
        raise NotFound("role")
    links = await RolePolicy.select(RolePolicy.role, RolePolicy.policy).where(
        RolePolicy.role == role_id
    )
    policies = await policies_of(organisation_id, only={link["policy"] for link in links})
    return _roles([row], links, policies)[0]


async def roles_using(organisation_id: UUID, policy_id: UUID) -> list[dict[str, Any]]:
    """The id and name of each role of the organisation that uses a policy."""
    rows: list[dict[str, Any]] = (
        await RolePolicy.select(
            RolePolicy.role.id.as_alias("id"), RolePolicy.role.name.as_alias("name")
        )
        .where((RolePolicy.policy == policy_id) & (RolePolicy.role.organisation == organisation_id))
        .order_by(RolePolicy.role.name)
    )
    return rows


_POLICY_COLUMNS = (
    PermissionPolicy.id,
    PermissionPolicy.name,
    PermissionPolicy.description,
    PermissionPolicy.created_at,
)
_ROLE_COLUMNS = (Role.id, Role.name, Role.description, Role.created_at, Role.archived)


async def _grants_where(*conditions: Any) -> dict[UUID, dict[Area, Level]]:
    rows = await PolicyGrant.select(PolicyGrant.policy, PolicyGrant.area, PolicyGrant.level).where(
        *conditions
    )
    grants: dict[UUID, dict[Area, Level]] = {}
    for row in rows:
        grants.setdefault(row["policy"], {})[Area(row["area"])] = Level.parse(row["level"])
    return grants


def _policy(row: dict[str, Any], grants: dict[UUID, dict[Area, Level]]) -> PolicyView:
    return PolicyView(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        grants=_in_area_order(grants.get(row["id"], {})),
        created_at=row["created_at"],
    )


def _in_area_order(grants: Grants) -> dict[Area, Level]:
    return {area: grants[area] for area in Area if area in grants}


def _roles(
    rows: list[dict[str, Any]], links: list[dict[str, Any]], policies: list[PolicyView]
) -> list[RoleView]:
    linked: dict[UUID, set[UUID]] = {}
    for link in links:
        linked.setdefault(link["role"], set()).add(link["policy"])
    return [
        RoleView(
            id=row["id"],
            name=row["name"],
            description=row["description"],
            # Only this organisation's policies count, even if a bad write ever linked another.
            policies=tuple(p for p in policies if p.id in linked.get(row["id"], set())),
            created_at=row["created_at"],
            archived=row["archived"],
        )
        for row in rows
    ]


async def role_names(
    organisation_id: UUID, *, assignable_only: bool = False
) -> list[dict[str, Any]]:
    """The organisation's custom roles as choices (id, name), by name; assignable_only leaves
    out the archived roles, which are never given to anyone."""
    condition: Any = Role.organisation == organisation_id
    if assignable_only:
        condition &= Role.archived.eq(False)
    rows: list[dict[str, Any]] = (
        await Role.select(Role.id, Role.name).where(condition).order_by(Role.name)
    )
    return rows


# The one answer for a role that cannot be given: another tenant's, missing, or archived.
NOT_ASSIGNABLE = "Choose roles of this organisation that are not archived."


async def all_assignable(organisation_id: UUID, role_ids: Iterable[UUID]) -> bool:
    """Whether every one of these roles is the organisation's and not archived."""
    ids = list(set(role_ids))
    if not ids:
        return True
    found: int = await Role.count().where(
        Role.id.is_in(ids) & (Role.organisation == organisation_id) & Role.archived.eq(False)
    )
    return found == len(ids)


async def role_members(organisation_id: UUID, role_id: UUID) -> list[dict[str, Any]]:
    """The users who hold a role (id, full name, email, status), by name."""
    rows: list[dict[str, Any]] = (
        await UserRole.select(
            UserRole.user.id.as_alias("id"),
            UserRole.user.full_name.as_alias("full_name"),
            UserRole.user.email.as_alias("email"),
            UserRole.user.status.as_alias("status"),
        )
        .where((UserRole.role == role_id) & (UserRole.user.organisation == organisation_id))
        .order_by(UserRole.user.full_name)
    )
    return rows
