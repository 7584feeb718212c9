"""Deny by default: every route declares who may reach it, and one guard enforces it.

A handler's ``opt`` carries exactly one of ``public()``, ``signed_in()`` or
``requires(area, level)``; a route with none of them is refused to everybody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal

ACCESS_KEY = "access"


@dataclass(frozen=True, slots=True)
class Access:
    """Who may reach a route: nobody signed in needed, any principal, or an area level."""

    public: bool = False
    area: Area | None = None
    level: Level = Level.NONE


def public() -> dict[str, Any]:
    return {ACCESS_KEY: Access(public=True)}


def signed_in() -> dict[str, Any]:
    return {ACCESS_KEY: Access()}


def requires(area: Area, level: Level) -> dict[str, Any]:
    return {ACCESS_KEY: Access(area=area, level=level)}


def access_of(handler: BaseRouteHandler) -> Access | None:
    access = handler.opt.get(ACCESS_KEY)
    return access if isinstance(access, Access) else None


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    principal = connection.scope.get("user")
    return principal if isinstance(principal, Principal) else None


def may(principal: Principal, access: Access) -> bool:
    """The one decision: may this principal use a route with this requirement."""
    if access.public:
        return True
    if access.area is None:
        return True
    return principal.may(access.area, access.level)


def authorize(handler: BaseRouteHandler, principal: Principal | None) -> None:
    """The one check, made by the principal middleware once the route is known (a Litestar
    guard would copy the handler on every request)."""
    access = access_of(handler)
    if access is None:
        raise PermissionDeniedException("This route declares no access rule, so nobody may use it.")
    if access.public:
        return
    if principal is None:
        raise NotAuthorizedException("Sign in to continue.")
    if not may(principal, access):
        raise PermissionDeniedException("You do not have permission to do this.")


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency for handlers behind signed_in() or requires(): the guard has checked it."""
    principal = principal_of(request)
    if principal is None:
        raise NotAuthorizedException("Sign in to continue.")
    return principal
