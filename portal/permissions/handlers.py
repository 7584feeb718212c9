"""Settings → Roles: the built-in tiers, and the organisation's permission policies and custom
roles, which admins with roles:full create and edit here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.errors import NotFound, Refusal
from portal.pages import page
from portal.permissions.archive import why_not_archive
from portal.permissions.model import (
    AREA_MAX_LEVEL,
    MAX_POLICIES_PER_ROLE,
    TIER_GRANTS,
    TIER_SCOPE,
    Area,
    Level,
    Tier,
)
from portal.permissions.principal import Principal
from portal.permissions.queries import (
    PolicyView,
    RoleView,
    levels_of_policies,
    policies_of,
    policy_of,
    role_members,
    role_of,
    roles_of,
    roles_using,
)
from portal.permissions.requirements import ROLES_FULL, ROLES_READ
from portal.permissions.resolve import role_levels
from portal.permissions.service import (
    PermissionChangeError,
    create_policy,
    create_role,
    update_policy,
    update_role,
)

POLICY_NOTICES = {
    "created": "Policy created.",
    "saved": "Policy saved. Everyone holding a role that uses it has the new access from "
    "their next request.",
}
ROLE_NOTICES = {
    "created": "Role created.",
    "saved": "Role saved. Everyone holding it has the new access from their next request.",
    "archived": "Role archived. It is no longer offered when giving roles.",
    "restored": "Role restored. It can be given again.",
}
# One select per area, offering only the levels that area knows.
AREA_CHOICES = [(area, [lv for lv in Level if lv <= AREA_MAX_LEVEL[area]]) for area in Area]


@dataclass(frozen=True, slots=True)
class PolicyForm:
    """A policy form's values, as stored or exactly as the user sent them."""

    name: str = ""
    description: str = ""
    levels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: PolicyView) -> PolicyForm:
        return cls(
            policy.name,
            policy.description,
            {area.value: level.label for area, level in policy.grants.items()},
        )

    @classmethod
    def sent(cls, form: FormMultiDict) -> PolicyForm:
        levels = {area.value: _text(form, f"grants.{area.value}") or "none" for area in Area}
        return cls(_text(form, "name"), _text(form, "description"), levels)


@dataclass(frozen=True, slots=True)
class RoleForm:
    name: str = ""
    description: str = ""
    policy_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, role: RoleView) -> RoleForm:
        return cls(role.name, role.description, tuple(str(p) for p in role.policy_ids))

    @classmethod
    def sent(cls, form: FormMultiDict) -> RoleForm:
        chosen = tuple(str(value) for value in form.getall("policy_ids", []))
        return cls(_text(form, "name"), _text(form, "description"), chosen)


@get("/", opt=ROLES_READ)
async def roles_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    policies = await policies_of(principal.organisation_id)
    return page(
        request,
        "permissions/roles.html",
        areas=list(Area),
        tiers=[(tier, TIER_GRANTS[tier], TIER_SCOPE[tier]) for tier in Tier],
        roles=await roles_of(principal.organisation_id, policies),
        policies=policies,
        can_change=_can_change(principal),
    )


@get("/new", opt=ROLES_FULL)
async def new_policy_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    return _policy_page(request, principal, PolicyForm())


@post("/", opt=ROLES_FULL)
async def create_policy_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    sent = PolicyForm.sent(await request.form())
    try:
        policy_id = await create_policy(actor, sent.name, sent.levels, description=sent.description)
    except PermissionChangeError as error:
        return _policy_page(request, principal, sent, errors=error.errors)
    return Redirect(f"/settings/policies/{policy_id}?notice=created", status_code=303)


@get("/{policy_id:uuid}", opt=ROLES_READ)
async def policy_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    policy_id: FromPath[UUID],
    notice: FromQuery[str | None] = None,
) -> Template:
    policy = await policy_of(principal.organisation_id, policy_id)
    return _policy_page(
        request,
        principal,
        PolicyForm.of(policy),
        policy=policy,
        used_by=await roles_using(principal.organisation_id, policy_id),
        notice=POLICY_NOTICES.get(notice or ""),
    )


@post("/{policy_id:uuid}", opt=ROLES_FULL)
async def save_policy_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    policy_id: FromPath[UUID],
) -> Response[Any]:
    # Looked up before the form is judged: another organisation's id is a 404, never a 422.
    policy = await policy_of(principal.organisation_id, policy_id)
    sent = PolicyForm.sent(await request.form())
    try:
        await update_policy(
            actor, policy_id, name=sent.name, description=sent.description, grants=sent.levels
        )
    except PermissionChangeError as error:
        return _policy_page(
            request,
            principal,
            sent,
            errors=error.errors,
            policy=policy,
            used_by=await roles_using(principal.organisation_id, policy_id),
        )
    return Redirect(f"/settings/policies/{policy_id}?notice=saved", status_code=303)


@get("/new", opt=ROLES_FULL)
async def new_role_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    return await render_role_page(request, principal, RoleForm())


@post("/", opt=ROLES_FULL)
async def create_role_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    sent = RoleForm.sent(await request.form())
    policy_ids = _uuids(sent.policy_ids)
    if policy_ids is None:
        return await render_role_page(request, principal, sent, errors=_NO_SUCH_POLICY)
    try:
        role_id = await create_role(actor, sent.name, policy_ids, description=sent.description)
    except NotFound:
        return await render_role_page(request, principal, sent, errors=_NO_SUCH_POLICY)
    except PermissionChangeError as error:
        return await render_role_page(request, principal, sent, errors=error.errors)
    return Redirect(f"/settings/roles/{role_id}?notice=created", status_code=303)


@get("/preview", opt=ROLES_READ)
async def role_levels_preview(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    policy_ids: FromQuery[list[UUID] | None] = None,
) -> Template:
    """The effective-permissions table for the policies ticked so far (an htmx fragment)."""
    chosen = list(dict.fromkeys(policy_ids or []))
    if len(chosen) > MAX_POLICIES_PER_ROLE:
        raise Refusal(f"A role can use at most {MAX_POLICIES_PER_ROLE} policies.", status=400)
    levels = await levels_of_policies(principal.organisation_id, chosen)
    return page(request, "permissions/_effective.html", levels=levels)


@get("/{role_id:uuid}", opt=ROLES_READ)
async def role_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    role_id: FromPath[UUID],
    notice: FromQuery[str | None] = None,
) -> Template:
    role = await role_of(principal.organisation_id, role_id)
    return await render_role_page(
        request, principal, RoleForm.of(role), role=role, notice=ROLE_NOTICES.get(notice or "")
    )


@post("/{role_id:uuid}", opt=ROLES_FULL)
async def save_role_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    role_id: FromPath[UUID],
) -> Response[Any]:
    role = await role_of(principal.organisation_id, role_id)
    sent = RoleForm.sent(await request.form())
    policy_ids = _uuids(sent.policy_ids)
    if policy_ids is None:
        return await render_role_page(request, principal, sent, errors=_NO_SUCH_POLICY, role=role)
    try:
        await update_role(
            actor, role_id, name=sent.name, description=sent.description, policy_ids=policy_ids
        )
    except NotFound as missing:
        if missing.what != "policy":
            raise
        return await render_role_page(request, principal, sent, errors=_NO_SUCH_POLICY, role=role)
    except PermissionChangeError as error:
        return await render_role_page(request, principal, sent, errors=error.errors, role=role)
    return Redirect(f"/settings/roles/{role_id}?notice=saved", status_code=303)


# A ticked policy that is not (or no longer) this organisation's: the same answer either way.
_NO_SUCH_POLICY = {"policy_ids": "One of the chosen policies does not exist. Choose again."}


def _policy_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    form: PolicyForm,
    *,
    errors: dict[str, str] | None = None,
    policy: PolicyView | None = None,
    used_by: list[dict[str, Any]] | None = None,
    notice: str | None = None,
) -> Template:
    return page(
        request,
        "permissions/policy.html",
        status_code=422 if errors else 200,
        form=form,
        errors=errors or {},
        policy=policy,
        used_by=used_by or [],
        notice=notice,
        area_choices=AREA_CHOICES,
        can_change=_can_change(principal),
    )


async def render_role_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    form: RoleForm,
    *,
    errors: dict[str, str] | None = None,
    role: RoleView | None = None,
    notice: str | None = None,
    problem: str | None = None,
) -> Template:
    """The role form (a new role when role is None), its holders and its archive action."""
    policies = await policies_of(principal.organisation_id)
    members = await role_members(principal.organisation_id, role.id) if role else []
    # The table shows what the ticked policies add up to, even on a form sent back with errors.
    ticked = [p for p in policies if str(p.id) in form.policy_ids]
    return page(
        request,
        "permissions/role.html",
        status_code=409 if problem else 422 if errors else 200,
        form=form,
        errors=errors or {},
        role=role,
        policies=policies,
        levels=role_levels(p.grants for p in ticked),
        notice=notice,
        problem=problem,
        members=members,
        can_see_users=principal.may(Area.USERS, Level.READ),
        archive_refused=(
            why_not_archive(archived=role.archived, holders=len(members)) if role else None
        ),
        can_change=_can_change(principal),
    )


def _can_change(principal: Principal) -> bool:
    return principal.may(Area.ROLES, Level.FULL)


def _text(form: FormMultiDict, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _uuids(values: tuple[str, ...]) -> list[UUID] | None:
    """The ids as UUIDs, or None when one is not a UUID at all (a tampered form)."""
    try:
        return [UUID(value) for value in values]
    except ValueError:
        return None


ROLE_PAGES = Router(
    "/settings/roles",
    route_handlers=[
        roles_page,
        new_role_page,
        create_role_page,
        role_levels_preview,
        role_page,
        save_role_page,
    ],
    include_in_schema=False,
)
POLICY_PAGES = Router(
    "/settings/policies",
    route_handlers=[new_policy_page, create_policy_page, policy_page, save_policy_page],
    include_in_schema=False,
)
ROUTERS = [ROLE_PAGES, POLICY_PAGES]
