"""Rendering full pages with what every page needs: the principal and their navigation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template

from portal.permissions.guards import access_of, may, principal_of
from portal.permissions.principal import Principal


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    handler: HTTPRouteHandler
    # Shown only to whom this says; the route's own rule applies in any case.
    shown_to: Callable[[Principal], bool] | None = None
    # Where its router put the handler: filled in once the app is built (see `with_paths`).
    href: str = ""


def with_paths(app: Litestar, items: Sequence[NavItem]) -> tuple[NavItem, ...]:
    """The items with the paths the app registered their handlers at (the lexically first of
    a handler's paths)."""
    return tuple(replace(item, href=_first_path(app, item.handler)) for item in items)


def _first_path(app: Litestar, handler: HTTPRouteHandler) -> str:
    index = app.get_handler_index_by_name(str(handler))
    if index is None:
        raise LookupError(f"{handler} is not registered in the app")
    return index["paths"][0]


def visible_navigation(principal: Principal, items: Sequence[NavItem]) -> list[NavItem]:
    """Only what the principal may open, decided by the same rule the guard applies."""
    visible = []
    for item in items:
        access = access_of(item.handler)
        if access is None or not may(principal, access):
            continue
        if item.shown_to is None or item.shown_to(principal):
            visible.append(item)
    return visible


def page(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    principal = principal_of(request)
    navigation: Sequence[NavItem] = request.app.state.get("navigation", ())
    return Template(
        template_name=template,
        context={
            "principal": principal,
            "navigation": visible_navigation(principal, navigation) if principal else [],
            "current_path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
