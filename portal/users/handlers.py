"""Settings → Users: the list, inviting colleagues, and each user's page with its actions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.context import base_url
from portal.errors import NotFound
from portal.forms import parse_uuids
from portal.invitations.service import (
    InvitationError,
    Invitee,
    cancel_invitation,
    invite,
    send_invitation,
)
from portal.pages import page
from portal.pagination import BadCursor
from portal.permissions.model import AREA_MAX_LEVEL, Area, Level, OverrideKind, Tier
from portal.permissions.principal import Principal, load_principal
from portal.permissions.requirements import USERS_FULL, USERS_READ
from portal.permissions.tables import Role, UserRole
from portal.services.queries import contact_services_count
from portal.users.queries import STATUS_LABELS, Sort, StatusFilter, UserQuery, list_users, user_row
from portal.users.service import (
    ChangeError,
    LifecycleError,
    UserChanges,
    change_user,
    deactivate,
    reactivate,
)
from portal.users.tables import User, UserOverride

NOTICES = {
    "invited": "Invitation sent.",
    "invited_later": "User added. Send the invitation from their page when you are ready.",
    "sent": "A new invitation link was sent; the previous link no longer works.",
    "cancelled": "Invitation cancelled.",
    "deactivated": "User deactivated. Their sessions and API access end on their next request.",
    "reactivated": "User reactivated.",
    "changed": "Changes saved. They apply from the user's next request.",
    "access_email_sent": "Access email sent. Its link works once, for one hour; "
    "any earlier link no longer works.",
}


@get("/", opt=USERS_READ)
async def users_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
) -> Template:
    query, problem = parse_user_query(request.query_params)
    users = None
    if problem is None:
        try:
            users = await list_users(principal.organisation_id, query)
        except BadCursor as error:
            problem = error.problem
    return page(
        request,
        "users/index.html",
        status_code=200 if problem is None else 400,
        users=users,
        query=query,
        problem=problem,
        statuses=STATUS_LABELS,
        tiers=[tier.value for tier in Tier],
        notice=NOTICES.get(request.query_params.get("done", "")),
        can_change=principal.may(Area.USERS, Level.FULL),
    )


def parse_user_query(params: Any) -> tuple[UserQuery, str | None]:
    """The list's query from the address bar; unknown values are reported, not guessed."""
    status_raw = params.get("status") or None
    tier = params.get("tier") or None
    sort_raw = params.get("sort") or Sort.NAME.value
    problem = None
    status = None
    if status_raw is not None:
        try:
            status = StatusFilter(status_raw)
        except ValueError:
            problem = f"Unknown status filter {status_raw[:40]!r}."
    if tier is not None and tier not in {t.value for t in Tier}:
        problem, tier = f"Unknown permission level {tier[:40]!r}.", None
    try:
        sort = Sort(sort_raw)
    except ValueError:
        problem, sort = f"Unknown sort order {sort_raw[:40]!r}.", Sort.NAME
    query = UserQuery(
        search=(params.get("q") or "")[:200],
        status=status,
        tier=tier,
        sort=sort,
        after=params.get("after") or None,
    )
    return query, problem


@get("/invite", opt=USERS_FULL)
async def invite_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    return await _invite_form(request, principal, values={"send_now": "on", "tier": "user"})


@post("/invite", opt=USERS_FULL)
async def invite_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    form = await request.form()
    values = {key: str(form.get(key) or "") for key in ("full_name", "email", "tier", "send_now")}
    role_ids, bad_role = parse_uuids(form.getall("roles", []))
    if bad_role:
        return await _invite_form(
            request, principal, values, {"roles": "Choose roles from the list."}
        )
    invitee = Invitee(
        full_name=values["full_name"],
        email=values["email"],
        tier=values["tier"],
        role_ids=role_ids,
        send_now=values["send_now"] == "on",
    )
    try:
        await invite(actor, invitee, base_url(request))
    except InvitationError as error:
        return await _invite_form(request, principal, values, error.errors, role_ids)
    done = "invited" if invitee.send_now else "invited_later"
    return Redirect(f"/settings/users?done={done}", status_code=303)


async def _invite_form(
    request: Request[Any, Any, Any],
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    chosen_roles: list[UUID] | None = None,
) -> Template:
    roles = (
        await Role.select(Role.id, Role.name)
        .where(Role.organisation == principal.organisation_id)
        .order_by(Role.name)
    )
    return page(
        request,
        "users/invite.html",
        status_code=422 if errors else 200,
        values=values,
        errors=errors or {},
        roles=roles,
        chosen_roles=set(chosen_roles or []),
        tiers=[tier.value for tier in Tier],
    )


@get("/{user_id:uuid}", opt=USERS_READ)
async def user_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], user_id: FromPath[UUID]
) -> Template:
    return await render_user_page(request, principal, user_id)


async def render_user_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    user_id: UUID,
    problem: str | None = None,
) -> Template:
    user = (
        await User.select(
            User.id,
            User.full_name,
            User.display_name,
            User.email,
            User.tier,
            User.status,
            User.kind,
            User.is_owner,
            User.created_at,
            User.last_sign_in_at,
        )
        .where((User.id == user_id) & (User.organisation == principal.organisation_id))
        .first()
    )
    if user is None:
        raise NotFound("user")
    row = await user_row(principal.organisation_id, user_id)
    status = row.status if row else None
    holder = await load_principal(user_id) if user["status"] == "active" else None
    can_reassign = principal.may(Area.SERVICES, Level.FULL)
    services_left = (
        await contact_services_count(principal, user_id)
        if can_reassign and user["status"] == "inactive"
        else 0
    )
    return page(
        request,
        "users/detail.html",
        status_code=422 if problem else 200,
        user=user,
        status=status,
        status_label=STATUS_LABELS.get(status) if status else user["status"],
        roles=row.roles if row else (),
        levels=holder.levels if holder else None,
        areas=list(Area),
        problem=problem,
        notice=NOTICES.get(request.query_params.get("done", "")),
        can_change=principal.may(Area.USERS, Level.FULL),
        services_left=services_left,
    )


async def _act(
    request: Request[Any, Any, Any], principal: Principal, actor: Actor, user_id: UUID, action: str
) -> Response[Any]:
    form = await request.form()
    reason = str(form.get("reason") or "")
    try:
        if action == "sent":
            await send_invitation(actor, user_id, base_url(request))
        elif action == "cancelled":
            await cancel_invitation(actor, user_id)
        elif action == "deactivated":
            await deactivate(actor, user_id, base_url(request), reason)
        else:
            await reactivate(actor, user_id, base_url(request), reason)
    except (InvitationError, LifecycleError) as error:
        message = (
            " ".join(error.errors.values()) if isinstance(error, InvitationError) else error.message
        )
        return await render_user_page(request, principal, user_id, problem=message)
    if (
        action == "deactivated"
        and principal.may(Area.SERVICES, Level.FULL)
        and await contact_services_count(principal, user_id)
    ):
        # Their services need another contact: go straight to reassigning them.
        return Redirect(f"/settings/users/{user_id}/services?done={action}", status_code=303)
    return Redirect(f"/settings/users/{user_id}?done={action}", status_code=303)


@post("/{user_id:uuid}/send-invitation", opt=USERS_FULL)
async def send_invitation_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> Response[Any]:
    return await _act(request, principal, actor, user_id, "sent")


@post("/{user_id:uuid}/cancel-invitation", opt=USERS_FULL)
async def cancel_invitation_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> Response[Any]:
    return await _act(request, principal, actor, user_id, "cancelled")


@post("/{user_id:uuid}/deactivate", opt=USERS_FULL)
async def deactivate_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> Response[Any]:
    return await _act(request, principal, actor, user_id, "deactivated")


@post("/{user_id:uuid}/reactivate", opt=USERS_FULL)
async def reactivate_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> Response[Any]:
    return await _act(request, principal, actor, user_id, "reactivated")


def override_choices(area: Area) -> list[tuple[str, str]]:
    """(value, label) pairs of the override select for one area."""
    top = AREA_MAX_LEVEL[area]
    levels = [level for level in Level if level <= top]
    grants = [(f"grant:{lv.label}", f"Raise to {lv.label}") for lv in levels if lv > Level.NONE]
    caps = [(f"restrict:{lv.label}", f"Cap at {lv.label}") for lv in levels if lv < top]
    return [("", "No override"), *grants, *caps]


def parse_override(area: Area, raw: str) -> tuple[OverrideKind, Level] | None:
    """ "grant:read" -> (GRANT, READ); "" -> None; anything else is refused."""
    if not raw:
        return None
    if raw not in {value for value, _ in override_choices(area)}:
        raise ChangeError({f"override_{area.value}": "Choose an option from the list."})
    kind, level = raw.split(":", 1)
    return OverrideKind(kind), Level.parse(level)


EDIT_FIELDS = ("full_name", "display_name", "locale", "time_zone", "tier", "reason", "detail")


@get("/{user_id:uuid}/edit", opt=USERS_FULL)
async def edit_user_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], user_id: FromPath[UUID]
) -> Template:
    user = (
        await User.select(User.full_name, User.display_name, User.locale, User.time_zone, User.tier)
        .where((User.id == user_id) & (User.organisation == principal.organisation_id))
        .first()
    )
    if user is None:
        raise NotFound("user")
    held_roles = {
        r["role"] for r in await UserRole.select(UserRole.role).where(UserRole.user == user_id)
    }
    overrides = {
        o["area"]: f"{o['kind']}:{o['level']}"
        for o in await UserOverride.select(
            UserOverride.area, UserOverride.kind, UserOverride.level
        ).where(UserOverride.user == user_id)
    }
    values = {k: (user.get(k) or "") for k in EDIT_FIELDS}
    return await _edit_form(request, principal, user_id, values, held_roles, overrides)


@post("/{user_id:uuid}/edit", opt=USERS_FULL)
async def edit_user_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> Response[Any]:
    if not await User.exists().where(
        (User.id == user_id) & (User.organisation == principal.organisation_id)
    ):
        raise NotFound("user")
    form = await request.form()
    values = {key: str(form.get(key) or "") for key in EDIT_FIELDS}
    role_ids, bad_role = parse_uuids(form.getall("roles", []))
    raw_overrides = {area.value: str(form.get(f"override_{area.value}") or "") for area in Area}
    try:
        if bad_role:
            raise ChangeError({"roles": "Choose roles from the list."})
        changes = UserChanges(
            full_name=values["full_name"],
            display_name=values["display_name"],
            locale=values["locale"],
            time_zone=values["time_zone"],
            tier=values["tier"],
            role_ids=role_ids,
            overrides={area: parse_override(area, raw_overrides[area.value]) for area in Area},
        )
        await change_user(actor, user_id, changes, values["reason"], values["detail"])
    except ChangeError as error:
        return await _edit_form(
            request, principal, user_id, values, set(role_ids), raw_overrides, error.errors
        )
    except LifecycleError as error:
        return await _edit_form(
            request,
            principal,
            user_id,
            values,
            set(role_ids),
            raw_overrides,
            {"tier": error.message},
        )
    return Redirect(f"/settings/users/{user_id}?done=changed", status_code=303)


async def _edit_form(
    request: Request[Any, Any, Any],
    principal: Principal,
    user_id: UUID,
    values: dict[str, str],
    chosen_roles: set[UUID],
    overrides: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Template:
    roles = (
        await Role.select(Role.id, Role.name)
        .where(Role.organisation == principal.organisation_id)
        .order_by(Role.name)
    )
    return page(
        request,
        "users/edit.html",
        status_code=422 if errors else 200,
        user_id=user_id,
        values=values,
        errors=errors or {},
        roles=roles,
        chosen_roles=chosen_roles,
        overrides=overrides,
        areas=[(area, override_choices(area)) for area in Area],
        tiers=[tier.value for tier in Tier],
    )


PAGES = Router(
    "/settings/users",
    route_handlers=[
        users_page,
        invite_page,
        invite_submit,
        user_page,
        send_invitation_submit,
        cancel_invitation_submit,
        deactivate_submit,
        reactivate_submit,
        edit_user_page,
        edit_user_submit,
    ],
    include_in_schema=False,
)
ROUTERS = [PAGES]
