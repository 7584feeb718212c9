"""Resolves the principal of every HTTP request from its session cookie.

The user row is read on every request, so deactivation, a tier change or ended sessions take
effect on the very next request, not at the next sign-in.
"""

from __future__ import annotations

import time

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.auth.sessions import SessionStore
from portal.permissions.principal import load_principal

SESSION_TOKEN_KEY = "portal.session_token"  # noqa: S105 - a state key, not a secret


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
        if token:
            record = await self.sessions.load(token)
            if record is not None:
                principal = await load_principal(record.user_uuid, record.epoch)
                now = time.time()
                if principal is None or record.expired(
                    now, principal.idle_timeout_seconds, principal.absolute_timeout_seconds
                ):
                    await self.sessions.destroy(token)
                else:
                    await self.sessions.renew_if_due(
                        token, record, now, principal.idle_timeout_seconds
                    )
                    scope["user"] = principal
                    scope["state"][SESSION_TOKEN_KEY] = token
        await next_app(scope, receive, send)
