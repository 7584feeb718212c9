"""What a handler knows of its request beyond its parameters: who acts and from where (the
`actor` dependency, beside `principal`), the portal's public address, and a notice left for
the page after a redirect."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from portal.activity.log import Actor, RequestOrigin
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


def _session_token(request: Request[Any, Any, Any]) -> str:
    return request.cookies.get(request.app.state.session_cookie) or ""


async def leave_notice(request: Request[Any, Any, Any], notice: Any) -> None:
    """Something (JSON) for the next page of this session to show once: post, redirect, get."""
    await request.app.state.sessions.leave_notice(_session_token(request), notice)


async def take_notice(request: Request[Any, Any, Any]) -> Any:
    notice: Any = await request.app.state.sessions.take_notice(_session_token(request))
    return notice
