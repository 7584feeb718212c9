"""JSON API for cost centres: the list integrations choose codes from, and the admins' changes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from portal.activity.log import Actor
from portal.costcentres.queries import CentreRow, get_centre, list_centres
from portal.costcentres.rules import check_centre
from portal.costcentres.service import create_centre, rename_centre, set_archived
from portal.errors import InputError, NotFound
from portal.permissions.principal import Principal
from portal.permissions.requirements import COST_CENTRES_FULL, COST_CENTRES_READ


class CostCentreOut(msgspec.Struct):
    id: UUID
    code: str
    name: str
    archived: bool


class CostCentreIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str


class CostCentreChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    archived: bool | msgspec.UnsetType = msgspec.UNSET


def _out(row: CentreRow) -> CostCentreOut:
    return CostCentreOut(row.id, row.code, row.name, row.archived)


async def _one(principal: Principal, centre_id: UUID) -> CostCentreOut:
    row = await get_centre(principal.organisation_id, centre_id)
    if row is None:
        raise NotFound("cost centre")
    return _out(row)


@get("/", opt=COST_CENTRES_READ, summary="The organisation's cost centres, active ones first")
async def list_cost_centres_api(principal: NamedDependency[Principal]) -> list[CostCentreOut]:
    return [_out(row) for row in await list_centres(principal.organisation_id)]


@post("/", opt=COST_CENTRES_FULL, summary="Add a cost centre", status_code=201)
async def create_cost_centre_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    data: JSONBody[CostCentreIn],
) -> CostCentreOut:
    centre, errors = check_centre({"code": data.code, "name": data.name})
    if centre is None:
        raise InputError(errors)
    return await _one(principal, await create_centre(actor, centre))


@patch(
    "/{centre_id:uuid}",
    opt=COST_CENTRES_FULL,
    summary="Rename, archive or restore a cost centre (its code never changes)",
)
async def change_cost_centre_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    centre_id: FromPath[UUID],
    data: JSONBody[CostCentreChangeIn],
) -> CostCentreOut:
    await _one(principal, centre_id)
    if isinstance(data.name, str):
        centre, errors = check_centre({"name": data.name}, renaming=True)
        if centre is None:
            raise InputError(errors)
        await rename_centre(actor, centre_id, centre.name)
    if isinstance(data.archived, bool):
        await set_archived(actor, centre_id, data.archived)
    return await _one(principal, centre_id)


API = Router(
    "/api/v1/cost-centres",
    route_handlers=[list_cost_centres_api, create_cost_centre_api, change_cost_centre_api],
    tags=["cost centres"],
)
ROUTERS = [API]
