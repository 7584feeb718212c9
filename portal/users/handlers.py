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
from portal.forms import parse_uuids
from portal.invitations.service import (
    InvitationError,
    Invitee,
    cancel_invitation,
    invite,
    send_invitation,
)
from portal.pages import page
from portal.pagination import BadListQuery
from portal.permissions.model import Area, Level, Tier
from portal.permissions.principal import Principal, load_principal
from portal.permissions.queries import role_names
from portal.permissions.requirements import USERS_FULL, USERS_READ
from portal.services.queries import contact_services_count, list_services
from portal.users.queries import (
    STATUS_LABELS,
    list_users,
    parse_user_query,
    user_detail,
    user_row,
)
from portal.users.service import (
    LifecycleError,
    deactivate,
    other_active_admins,
    reactivate,
    why_not_deactivate,
)

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
# The user's page lists at most this many of the services they are the contact of.
SERVICES_SHOWN = 50


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
        except BadListQuery as error:
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
    roles = await role_names(principal.organisation_id, assignable_only=True)
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
    user = await user_detail(principal.organisation_id, user_id)
    row = await user_row(principal.organisation_id, user_id)
    status = row.status if row else None
    holder = await load_principal(user_id) if user["status"] == "active" else None
    deactivation_refused = why_not_deactivate(
        is_owner=user["is_owner"],
        by_themselves=user_id == principal.user_id,
        active_admin=user["status"] == "active" and user["tier"] == "admin",
        other_active_admins=await other_active_admins(principal.organisation_id, user_id),
    )
    can_reassign = principal.may(Area.SERVICES, Level.FULL)
    services_left = (
        await contact_services_count(principal, user_id)
        if can_reassign and user["status"] == "inactive"
        else 0
    )
    # Only services the viewer may see, in the viewer's own scope.
    services = (
        await list_services(principal, limit=SERVICES_SHOWN, contact_id=user_id)
        if principal.may(Area.SERVICES, Level.READ)
        else None
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
        can_see_activity=principal.may(Area.ACTIVITY_LOG, Level.READ),
        services_left=services_left,
        services=services,
        deactivation_refused=deactivation_refused,
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
    ],
    include_in_schema=False,
)
ROUTERS = [PAGES]
