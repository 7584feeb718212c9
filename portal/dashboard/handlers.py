"""The dashboard and the principal's own account page."""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.response import File, Template

from portal.approvals.handlers import queue_page
from portal.approvals.queue import queue_of
from portal.dashboard.queries import dashboard_figures
from portal.orders.handlers import orders_page
from portal.pages import NavItem, page
from portal.permissions.guards import public, signed_in
from portal.permissions.model import AREA_MAX_LEVEL, Area, Level
from portal.permissions.principal import Principal
from portal.services.handlers import services_page
from portal.settings import PROJECT_ROOT

WIDGET_ITEMS = 3
TILE_FIGURES = {
    str(queue_page): "approvals",
    str(orders_page): "orders",
    str(services_page): "services",
}
FAVICON = PROJECT_ROOT / "static" / "favicon.svg"


@get("/", opt=signed_in())
async def dashboard(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    # Anyone a policy names may have orders waiting, whatever their permission level.
    queue = await queue_of(principal, limit=WIDGET_ITEMS)
    show_queue = queue.total > 0 or principal.may(Area.APPROVALS, Level.APPROVE)
    return page(
        request,
        "dashboard/index.html",
        queue=queue if show_queue else None,
        figures=await dashboard_figures(principal),
        tile_kinds=tile_kinds(request.app.state.navigation),
    )


@cache
def tile_kinds(navigation: tuple[NavItem, ...]) -> dict[str, str]:
    """Which tile shows which figures, by the address the app gave its page (once per app:
    naming a handler costs more than the rest of the page's own code)."""
    return {
        item.href: TILE_FIGURES[str(item.handler)]
        for item in navigation
        if str(item.handler) in TILE_FIGURES
    }


@get("/favicon.ico", opt=public(), cache=24 * 3600)
async def favicon() -> File:
    """Browsers ask for /favicon.ico whatever the page says: the same icon, not a 404."""
    return File(FAVICON, media_type="image/svg+xml", content_disposition_type="inline")


@get("/account", opt=signed_in())
async def account(request: Request[Any, Any, Any]) -> Template:
    return page(request, "dashboard/account.html", areas=list(Area), area_max=AREA_MAX_LEVEL)


PAGES = Router(
    "/",
    route_handlers=[dashboard, favicon, account],
    include_in_schema=False,
)
ROUTERS = [PAGES]
