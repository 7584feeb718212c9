"""What a handler knows of its request beyond its parameters: who acts and from where (the
`actor` dependency, beside `principal`), the portal's public address, and a notice left for
the page after a redirect."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from portal.activity.log import Actor, RequestOrigin
from portal.auth.middleware import SESSION_KEY
from portal.permissions.principal import Principal


def request_origin(request: Request[Any, Any, Any]) -> RequestOrigin:
    host = request.client.host if request.client else ""
    return RequestOrigin(ip=host, user_agent=request.headers.get("user-agent", ""))


def current_actor(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Actor:
    """The signed-in principal as the services log them: who, in which organisation, from where."""
    return Actor(principal.user_id, principal.organisation_id, request_origin(request))


def base_url(request: Request[Any, Any, Any]) -> str:
    """The public address links in emails start with (BASE_URL, read once at start)."""
    url: str = request.app.state.settings.base_url
    return url


async def leave_notice(request: Request[Any, Any, Any], notice: Any) -> None:
    """Something (JSON) for the next page of this session to show once: post, redirect, get."""
    record = request.scope["state"].get(SESSION_KEY)
    if record is not None:
        await request.app.state.sessions.leave_notice(record.id, notice)


async def take_notice(request: Request[Any, Any, Any]) -> Any:
    """The notice left for this session, gone once taken; None if there is none. It came with
    the session's own row: only a page that has one writes."""
    record = request.scope["state"].get(SESSION_KEY)
    if record is None or not record.notice:
        return None
    await request.app.state.sessions.clear_notice(record.id)
    return json.loads(record.notice)
