"""Settings → Cost centres: the organisation's list; admins add, rename, archive and restore."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.costcentres.queries import get_centre, list_centres
from portal.costcentres.rules import MAX_CODE, MAX_NAME, check_centre
from portal.costcentres.service import create_centre, rename_centre, set_archived
from portal.errors import FIELDS_MESSAGE, NotFound, Refusal
from portal.pages import page
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal
from portal.permissions.requirements import COST_CENTRES_FULL, COST_CENTRES_READ

NOTICES = {
    "created": "Cost centre added.",
    "renamed": "Cost centre renamed.",
    "archived": "Cost centre archived: new orders and policies can no longer choose it.",
    "restored": "Cost centre restored.",
    "unchanged": "Nothing changed.",
}


async def _page(
    request: Request[Any, Any, Any],
    principal: Principal,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    renaming: UUID | None = None,
    status_code: int = 200,
) -> Template:
    """The list, with the add form; `renaming` names the row whose rename `errors` are for."""
    return page(
        request,
        "costcentres/index.html",
        status_code=status_code,
        centres=await list_centres(principal.organisation_id),
        values=values or {"code": "", "name": ""},
        errors=errors or {},
        renaming=renaming,
        can_change=principal.may(Area.COST_CENTRES, Level.FULL),
        notice=NOTICES.get(request.query_params.get("done") or ""),
        max_code=MAX_CODE,
        max_name=MAX_NAME,
    )


@get("/", opt=COST_CENTRES_READ)
async def cost_centres_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    return await _page(request, principal)


async def _typed(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: str(form.get(key) or "") for key in ("code", "name")}


@post("/", opt=COST_CENTRES_FULL)
async def create_cost_centre_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    values = await _typed(request)
    centre, errors = check_centre(values)
    try:
        if centre is None:
            raise Refusal(FIELDS_MESSAGE, errors)
        await create_centre(actor, centre)
    except Refusal as error:
        if error.status == 404:
            raise
        shown = error.errors or {"code": error.message}
        return await _page(request, principal, values, shown, status_code=error.status)
    return Redirect("/settings/cost-centres?done=created", status_code=303)


@post("/{centre_id:uuid}", opt=COST_CENTRES_FULL)
async def rename_cost_centre_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    centre_id: FromPath[UUID],
) -> Response[Any]:
    if await get_centre(principal.organisation_id, centre_id) is None:
        raise NotFound("cost centre")
    values = await _typed(request)
    centre, errors = check_centre(values, renaming=True)
    if centre is None:
        return await _page(
            request, principal, {"code": "", "name": values["name"]}, errors, centre_id, 422
        )
    changed = await rename_centre(actor, centre_id, centre.name)
    done = "renamed" if changed else "unchanged"
    return Redirect(f"/settings/cost-centres?done={done}", status_code=303)


async def _archive(actor: Actor, centre_id: UUID, archived: bool) -> Response[Any]:
    changed = await set_archived(actor, centre_id, archived)
    done = ("archived" if archived else "restored") if changed else "unchanged"
    return Redirect(f"/settings/cost-centres?done={done}", status_code=303)


@post("/{centre_id:uuid}/archive", opt=COST_CENTRES_FULL)
async def archive_cost_centre_submit(
    actor: NamedDependency[Actor], centre_id: FromPath[UUID]
) -> Response[Any]:
    return await _archive(actor, centre_id, True)


@post("/{centre_id:uuid}/restore", opt=COST_CENTRES_FULL)
async def restore_cost_centre_submit(
    actor: NamedDependency[Actor], centre_id: FromPath[UUID]
) -> Response[Any]:
    return await _archive(actor, centre_id, False)


PAGES = Router(
    "/settings/cost-centres",
    route_handlers=[
        cost_centres_page,
        create_cost_centre_submit,
        rename_cost_centre_submit,
        archive_cost_centre_submit,
        restore_cost_centre_submit,
    ],
    include_in_schema=False,
)
ROUTERS = [PAGES]
