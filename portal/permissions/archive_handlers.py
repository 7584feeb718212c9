"""Settings → Roles → a role: archiving it and restoring it (roles:full)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from portal.activity.log import Actor
from portal.permissions.archive import RoleArchiveError, archive_role, restore_role
from portal.permissions.handlers import RoleForm, render_role_page
from portal.permissions.principal import Principal
from portal.permissions.queries import role_of
from portal.permissions.requirements import ROLES_FULL


@post("/{role_id:uuid}/archive", opt=ROLES_FULL)
async def archive_role_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    role_id: FromPath[UUID],
) -> Response[Any]:
    return await _act(request, principal, actor, role_id, "archived")


@post("/{role_id:uuid}/restore", opt=ROLES_FULL)
async def restore_role_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    role_id: FromPath[UUID],
) -> Response[Any]:
    return await _act(request, principal, actor, role_id, "restored")


async def _act(
    request: Request[Any, Any, Any],
    principal: Principal,
    actor: Actor,
    role_id: UUID,
    done: str,
) -> Response[Any]:
    try:
        await (archive_role if done == "archived" else restore_role)(actor, role_id)
    except RoleArchiveError as refused:
        role = await role_of(principal.organisation_id, role_id)
        return await render_role_page(
            request, principal, RoleForm.of(role), role=role, problem=refused.message
        )
    return Redirect(f"/settings/roles/{role_id}?notice={done}", status_code=303)


PAGES = Router(
    "/settings/roles",
    route_handlers=[archive_role_submit, restore_role_submit],
    include_in_schema=False,
)
ROUTERS = [PAGES]
