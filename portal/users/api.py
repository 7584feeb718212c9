"""JSON API for users: list and search, invite, send/resend and cancel invitations,
deactivate and reactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from portal.activity.log import Actor
from portal.auth.handlers import own_session_after_change
from portal.context import base_url
from portal.errors import InputError, NotFound
from portal.invitations.service import (
    Invitee,
    cancel_invitation,
    invite,
    send_invitation,
)
from portal.permissions.model import Area
from portal.permissions.principal import Principal
from portal.permissions.requirements import USERS_FULL, USERS_READ
from portal.users.overrides import parse_override
from portal.users.queries import UserQuery, UserRow, list_users, parse_user_query, user_row
from portal.users.service import (
    ChangeError,
    UserChanges,
    change_user,
    deactivate,
    reactivate,
)

TAGS = ["users"]


class UserOut(msgspec.Struct):
    id: UUID
    full_name: str
    email: str
    tier: str
    status: str
    is_owner: bool
    roles: list[str]
    last_sign_in_at: datetime | None


class UserPageOut(msgspec.Struct):
    items: list[UserOut]
    next_cursor: str | None


class InviteIn(msgspec.Struct, forbid_unknown_fields=True):
    full_name: str
    email: str
    tier: str
    roles: list[UUID] = []
    send_now: bool = True


class InvitedOut(msgspec.Struct):
    user_id: UUID
    invitation_sent: bool


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""


class UserPatchIn(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out stay as they are.

    overrides: area -> "grant:read", "restrict:none" (and so on), or null to remove one.
    """

    full_name: str | None = None
    display_name: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    tier: str | None = None
    roles: list[UUID] | None = None
    overrides: dict[str, str | None] = {}
    reason: str = ""
    detail: str = ""


def _out(row: UserRow) -> UserOut:
    return UserOut(
        id=row.id,
        full_name=row.full_name,
        email=row.email,
        tier=row.tier,
        status=row.status.value,
        is_owner=row.is_owner,
        roles=list(row.roles),
        last_sign_in_at=row.last_sign_in_at,
    )


@get("/", opt=USERS_READ, summary="List and search users")
async def list_users_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    limit: FromQuery[int] = 50,
) -> UserPageOut:
    query, problem = parse_user_query(request.query_params)
    if problem is not None:
        raise InputError({"query": problem})
    if not 1 <= limit <= 200:
        raise InputError({"limit": "Use a limit from 1 to 200."})
    page = await list_users(
        principal.organisation_id,
        UserQuery(query.search, query.status, query.tier, query.sort, query.after, limit),
    )
    return UserPageOut([_out(row) for row in page.rows], page.next_cursor)


@get("/{user_id:uuid}", opt=USERS_READ, summary="One user")
async def get_user_api(principal: NamedDependency[Principal], user_id: FromPath[UUID]) -> UserOut:
    return await _one(principal, user_id)


async def _one(principal: Principal, user_id: UUID) -> UserOut:
    row = await user_row(principal.organisation_id, user_id)
    if row is None:
        raise NotFound("user")
    return _out(row)


@post("/invitations", opt=USERS_FULL, summary="Invite a colleague", status_code=201)
async def invite_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    data: JSONBody[InviteIn],
) -> InvitedOut:
    invitee = Invitee(data.full_name, data.email, data.tier, data.roles, data.send_now)
    invited = await invite(actor, invitee, base_url(request))
    return InvitedOut(invited.user_id, bool(invited.email_ids))


@post(
    "/{user_id:uuid}/invitation",
    opt=USERS_FULL,
    summary="Send or resend the invitation (older links stop working)",
    status_code=202,
)
async def send_invitation_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> UserOut:
    await send_invitation(actor, user_id, base_url(request))
    return await _one(principal, user_id)


@delete("/{user_id:uuid}/invitation", opt=USERS_FULL, summary="Cancel the pending invitation")
async def cancel_invitation_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> None:
    await cancel_invitation(actor, user_id)


@post("/{user_id:uuid}/deactivate", opt=USERS_FULL, status_code=200)
async def deactivate_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
    data: JSONBody[ReasonIn],
) -> UserOut:
    await deactivate(actor, user_id, base_url(request), data.reason)
    return await _one(principal, user_id)


@post("/{user_id:uuid}/reactivate", opt=USERS_FULL, status_code=200)
async def reactivate_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
    data: JSONBody[ReasonIn],
) -> UserOut:
    await reactivate(actor, user_id, base_url(request), data.reason)
    return await _one(principal, user_id)


@patch(
    "/{user_id:uuid}",
    opt=USERS_FULL,
    summary="Edit a user",
    description="A new permission level ends the user's sessions. When you change your own, "
    "the response carries a new session cookie for this client and your other sessions end.",
)
async def patch_user_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
    data: JSONBody[UserPatchIn],
) -> Response[UserOut]:
    await _one(principal, user_id)  # another tenant's id: 404 before any validation
    overrides = {}
    for area_name, raw in data.overrides.items():
        try:
            area = Area(area_name)
        except ValueError:
            raise ChangeError({f"overrides.{area_name[:40]}": "Unknown area."}) from None
        overrides[area] = parse_override(area, raw or "")
    changes = UserChanges(
        full_name=data.full_name,
        display_name=data.display_name,
        locale=data.locale,
        time_zone=data.time_zone,
        tier=data.tier,
        role_ids=data.roles,
        overrides=overrides,
    )
    epoch = await change_user(
        actor, user_id, changes, data.reason, data.detail, base_url=base_url(request)
    )
    cookies = await own_session_after_change(request, principal, user_id, epoch)
    return Response(await _one(principal, user_id), cookies=cookies)


API = Router(
    "/api/v1/users",
    route_handlers=[
        list_users_api,
        get_user_api,
        invite_api,
        send_invitation_api,
        cancel_invitation_api,
        deactivate_api,
        reactivate_api,
        patch_user_api,
    ],
    tags=TAGS,
)
ROUTERS = [API]
