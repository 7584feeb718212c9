"""JSON API for account access assistance: an admin sends a user an access email."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from portal.activity.log import Actor
from portal.context import base_url
from portal.permissions.principal import Principal
from portal.permissions.requirements import USERS_FULL
from portal.recovery.service import send_access_email
from portal.users.api import TAGS


class AccessEmailOut(msgspec.Struct):
    user_id: UUID
    link_expires_at: datetime


@post(
    "/{user_id:uuid}/access-email",
    opt=USERS_FULL,
    summary="Email the user a single-use link to set a new password (older links stop working)",
    status_code=202,
)
async def send_access_email_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> AccessEmailOut:
    sent = await send_access_email(actor, user_id, base_url(request))
    return AccessEmailOut(user_id, sent.expires_at)


API = Router(
    "/api/v1/users",
    route_handlers=[send_access_email_api],
    tags=TAGS,
)
ROUTERS = [API]
