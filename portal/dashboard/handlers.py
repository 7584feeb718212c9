"""The dashboard and the principal's own account page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from portal.pages import page
from portal.permissions.guards import signed_in
from portal.permissions.model import AREA_MAX_LEVEL, Area


@get("/", opt=signed_in(), include_in_schema=False)
async def dashboard(request: Request[Any, Any, Any]) -> Template:
    return page(request, "dashboard/index.html")


@get("/account", opt=signed_in(), include_in_schema=False)
async def account(request: Request[Any, Any, Any]) -> Template:
    return page(request, "dashboard/account.html", areas=list(Area), area_max=AREA_MAX_LEVEL)


ROUTES = [dashboard, account]
