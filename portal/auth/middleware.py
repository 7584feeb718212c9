"""Resolves the principal of every HTTP request from its session cookie, and lets it reach
the route only if the route's access rule allows (portal/permissions/guards.py).

The session, its user and their organisation are read in one query on every request, so
sign-out, deactivation, a tier change or ended sessions take effect on the very next request,
not at the next sign-in.
"""

from __future__ import annotations

import time

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.auth.sessions import SessionStore
from portal.permissions.guards import authorize

SESSION_KEY = "portal.session"  # the request's SessionRecord, in scope["state"]


class PrincipalMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    # Static files and liveness need no principal, and must not cost a session lookup.
    should_bypass_for_scope = staticmethod(
        lambda scope: scope["path"].startswith("/static/") or scope["path"] == "/health"
    )

    def __init__(self, sessions: SessionStore, cookie: str) -> None:
        self.sessions = sessions
        self.cookie = cookie

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = None
        token = ASGIConnection(scope).cookies.get(self.cookie)
        found = await self.sessions.load(token) if token else None
        if found is not None:
            record, principal = found
            now = time.time()
            if principal is None or record.expired(
                now, principal.idle_timeout_seconds, principal.absolute_timeout_seconds
            ):
                await self.sessions.destroy(record.id)
            else:
                if record.renewal_due(now):
                    await self.sessions.renew(record, now)
                scope["user"] = principal
                scope["state"][SESSION_KEY] = record
        authorize(scope["route_handler"], scope["user"])
        await next_app(scope, receive, send)
