"""JSON API for services: the same scoped queries as the pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from portal.activity.log import Actor
from portal.errors import InputError, NotFound
from portal.permissions.principal import Principal
from portal.permissions.requirements import SERVICES_FULL, SERVICES_READ
from portal.services.export import services_csv
from portal.services.queries import ServiceRow, get_service, list_services
from portal.services.service import assign_contact

TAGS = ["services"]


class MoneyOut(msgspec.Struct):
    # A decimal string, never a float: "189.50".
    amount: str
    currency: str


class ServiceOut(msgspec.Struct):
    id: UUID
    name: str
    type: str
    site: str
    cost_centre: str
    monthly_cost: MoneyOut
    status: str
    usage: str
    contact_id: UUID | None
    contact_name: str | None


class ServicePageOut(msgspec.Struct):
    items: list[ServiceOut]
    total: int
    next_cursor: str | None


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    services: list[UUID]
    contact: UUID


class AssignedOut(msgspec.Struct):
    assigned: int


def _out(row: ServiceRow) -> ServiceOut:
    return ServiceOut(
        id=row.id,
        name=row.name,
        type=row.kind,
        site=row.site,
        cost_centre=row.cost_centre,
        monthly_cost=MoneyOut(row.monthly_cost_text, row.currency),
        status=row.status,
        usage=row.usage,
        contact_id=row.contact_id,
        contact_name=row.contact_name,
    )


@get("/", opt=SERVICES_READ, summary="Services this principal may see")
async def list_services_api(
    principal: NamedDependency[Principal],
    q: FromQuery[str] = "",
    after: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
) -> ServicePageOut:
    if not 1 <= limit <= 200:
        raise InputError({"limit": "Use a limit from 1 to 200."})
    page = await list_services(principal, q[:200], after, limit)
    return ServicePageOut([_out(row) for row in page.rows], page.total, page.next_cursor)


@get(
    "/export",
    opt=SERVICES_READ,
    summary="Services this principal may see, as CSV",
    media_type="text/csv",
)
async def export_services_api(
    principal: NamedDependency[Principal], q: FromQuery[str] = ""
) -> Stream:
    return services_csv(principal, q)


@get("/{service_id:uuid}", opt=SERVICES_READ, summary="One service")
async def get_service_api(
    principal: NamedDependency[Principal], service_id: FromPath[UUID]
) -> ServiceOut:
    service = await get_service(principal, service_id)
    if service is None:
        raise NotFound("service")
    return _out(service)


@post(
    "/assign",
    opt=SERVICES_FULL,
    summary="Make one user the contact of one or more services",
    status_code=200,
)
async def assign_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    data: JSONBody[AssignIn],
) -> AssignedOut:
    count = await assign_contact(principal, actor, data.services, data.contact)
    return AssignedOut(count)


API = Router(
    "/api/v1/services",
    route_handlers=[list_services_api, export_services_api, get_service_api, assign_api],
    tags=TAGS,
)
ROUTERS = [API]
