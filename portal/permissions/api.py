"""JSON API for roles and permission policies: roles:read to read, roles:full to change.

PUT replaces the whole record (name, description, grants or policies), as a form save does.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Router, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from portal.activity.log import Actor
from portal.errors import InputError, NotFound
from portal.permissions.archive import archive_role, restore_role
from portal.permissions.principal import Principal
from portal.permissions.queries import (
    PolicyView,
    RoleView,
    policies_of,
    policy_of,
    role_of,
    roles_of,
)
from portal.permissions.requirements import ROLES_FULL, ROLES_READ
from portal.permissions.service import (
    create_policy,
    create_role,
    update_policy,
    update_role,
)

TAGS = ["roles"]


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    # Area → level, e.g. {"orders": "full", "approvals": "approve"}; "none" grants nothing.
    grants: dict[str, str]
    description: str = ""


class PolicyOut(msgspec.Struct):
    id: UUID
    name: str
    description: str
    grants: dict[str, str]
    created_at: datetime


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    policy_ids: list[UUID]
    description: str = ""


class RoleOut(msgspec.Struct):
    id: UUID
    name: str
    description: str
    policy_ids: list[UUID]
    # The role's effective permissions: every area at the highest level of its policies.
    permissions: dict[str, str]
    created_at: datetime
    # An archived role is kept but can no longer be given to anyone.
    archived: bool


@get("/", opt=ROLES_READ, summary="The organisation's policies")
async def list_policies(principal: NamedDependency[Principal]) -> list[PolicyOut]:
    return [_policy_out(policy) for policy in await policies_of(principal.organisation_id)]


@post("/", opt=ROLES_FULL, summary="Create a permission policy")
async def create_policy_api(
    principal: NamedDependency[Principal], actor: NamedDependency[Actor], data: JSONBody[PolicyIn]
) -> PolicyOut:
    policy_id = await create_policy(actor, data.name, data.grants, description=data.description)
    return _policy_out(await policy_of(principal.organisation_id, policy_id))


@get("/{policy_id:uuid}", opt=ROLES_READ, summary="One policy")
async def get_policy(principal: NamedDependency[Principal], policy_id: FromPath[UUID]) -> PolicyOut:
    return _policy_out(await policy_of(principal.organisation_id, policy_id))


@put(
    "/{policy_id:uuid}",
    opt=ROLES_FULL,
    summary="Replace a policy; its holders get the new access on their next request",
)
async def replace_policy(
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    policy_id: FromPath[UUID],
    data: JSONBody[PolicyIn],
) -> PolicyOut:
    # Looked up first: another organisation's id is a 404 whatever the body says.
    await policy_of(principal.organisation_id, policy_id)
    await update_policy(
        actor, policy_id, name=data.name, description=data.description, grants=data.grants
    )
    return _policy_out(await policy_of(principal.organisation_id, policy_id))


@get("/", opt=ROLES_READ, summary="The organisation's custom roles")
async def list_roles(principal: NamedDependency[Principal]) -> list[RoleOut]:
    return [_role_out(role) for role in await roles_of(principal.organisation_id)]


@post("/", opt=ROLES_FULL, summary="Create a custom role from policies")
async def create_role_api(
    principal: NamedDependency[Principal], actor: NamedDependency[Actor], data: JSONBody[RoleIn]
) -> RoleOut:
    try:
        role_id = await create_role(actor, data.name, data.policy_ids, description=data.description)
    except NotFound:
        raise InputError(_NO_SUCH_POLICY) from None
    return _role_out(await role_of(principal.organisation_id, role_id))


@get("/{role_id:uuid}", opt=ROLES_READ, summary="One custom role")
async def get_role(principal: NamedDependency[Principal], role_id: FromPath[UUID]) -> RoleOut:
    return _role_out(await role_of(principal.organisation_id, role_id))


@put(
    "/{role_id:uuid}",
    opt=ROLES_FULL,
    summary="Replace a role; its holders get the new access on their next request",
)
async def replace_role(
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    role_id: FromPath[UUID],
    data: JSONBody[RoleIn],
) -> RoleOut:
    await role_of(principal.organisation_id, role_id)
    try:
        await update_role(
            actor, role_id, name=data.name, description=data.description, policy_ids=data.policy_ids
        )
    except NotFound as missing:
        if missing.what != "policy":
            raise
        raise InputError(_NO_SUCH_POLICY) from None
    return _role_out(await role_of(principal.organisation_id, role_id))


@post(
    "/{role_id:uuid}/archive",
    opt=ROLES_FULL,
    status_code=200,
    summary="Archive a role that nobody holds; it is kept, and no longer given (409 otherwise)",
)
async def archive_role_api(
    principal: NamedDependency[Principal], actor: NamedDependency[Actor], role_id: FromPath[UUID]
) -> RoleOut:
    await archive_role(actor, role_id)
    return _role_out(await role_of(principal.organisation_id, role_id))


@post(
    "/{role_id:uuid}/restore",
    opt=ROLES_FULL,
    status_code=200,
    summary="Restore an archived role, so that it can be given again",
)
async def restore_role_api(
    principal: NamedDependency[Principal], actor: NamedDependency[Actor], role_id: FromPath[UUID]
) -> RoleOut:
    await restore_role(actor, role_id)
    return _role_out(await role_of(principal.organisation_id, role_id))


# A policy id of another organisation gets exactly the answer of one that never existed.
_NO_SUCH_POLICY = {"policy_ids": "One of the policy ids does not exist."}


def _policy_out(policy: PolicyView) -> PolicyOut:
    return PolicyOut(
        id=policy.id,
        name=policy.name,
        description=policy.description,
        grants={area.value: level.label for area, level in policy.grants.items()},
        created_at=policy.created_at,
    )


def _role_out(role: RoleView) -> RoleOut:
    return RoleOut(
        id=role.id,
        name=role.name,
        description=role.description,
        policy_ids=role.policy_ids,
        permissions={area.value: level.label for area, level in role.levels.items()},
        created_at=role.created_at,
        archived=role.archived,
    )


POLICIES_API = Router(
    "/api/v1/policies",
    route_handlers=[list_policies, create_policy_api, get_policy, replace_policy],
    tags=TAGS,
)
ROLES_API = Router(
    "/api/v1/roles",
    route_handlers=[
        list_roles,
        create_role_api,
        get_role,
        replace_role,
        archive_role_api,
        restore_role_api,
    ],
    tags=TAGS,
)
ROUTERS = [POLICIES_API, ROLES_API]
