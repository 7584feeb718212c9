"""My Services: the list (scoped) and its CSV export, a service's page, assigning contacts,
and reassigning a user's services (after their deactivation)."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from portal.activity.log import Actor
from portal.costcentres.queries import name_of
from portal.errors import NotFound
from portal.forms import parse_uuids
from portal.pages import page
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal
from portal.permissions.requirements import SERVICES_FULL, SERVICES_READ
from portal.services.export import services_csv
from portal.services.queries import BadListQuery, get_service, list_services
from portal.services.service import AssignmentError, assign_contact
from portal.users.handlers import NOTICES
from portal.users.queries import people, person

# At most this many per reassignment form: the assign form reads up to 200 ids.
REASSIGN_BATCH = 100
REASSIGN_PATH = re.compile(
    r"/settings/users/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/services"
)


@get("/", opt=SERVICES_READ)
async def services_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    return await _services_page(request, principal)


async def _services_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    errors: dict[str, str] | None = None,
) -> Template:
    search = (request.query_params.get("q") or "")[:200]
    problem = None
    services = None
    try:
        services = await list_services(principal, search, request.query_params.get("after"))
    except BadListQuery as error:
        problem = error.problem
    can_assign = principal.may(Area.SERVICES, Level.FULL)
    return page(
        request,
        "services/index.html",
        status_code=422 if errors else (400 if problem else 200),
        services=services,
        search=search,
        problem=problem,
        errors=errors or {},
        can_assign=can_assign,
        contacts=await people(principal.organisation_id) if can_assign else [],
        notice="Contact assigned." if request.query_params.get("done") == "assigned" else None,
    )


@get("/export.csv", opt=SERVICES_READ)
async def services_export(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Stream:
    return services_csv(principal, request.query_params.get("q") or "")


@get("/{service_id:uuid}", opt=SERVICES_READ)
async def service_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    service_id: FromPath[UUID],
) -> Template:
    service = await get_service(principal, service_id)
    if service is None:
        raise NotFound("service")
    can_assign = principal.may(Area.SERVICES, Level.FULL)
    return page(
        request,
        "services/detail.html",
        service=service,
        cost_centre_name=await name_of(principal.organisation_id, service.cost_centre),
        can_assign=can_assign,
        can_order=principal.may(Area.ORDERS, Level.FULL),
        contacts=await people(principal.organisation_id) if can_assign else [],
    )


@post("/assign", opt=SERVICES_FULL)
async def assign_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    form = await request.form()
    service_ids, bad = parse_uuids(form.getall("services", []))
    contact_ids, bad_contact = parse_uuids([form.get("contact") or ""])
    back = str(form.get("back") or "/services")
    reassigning = REASSIGN_PATH.fullmatch(back)
    try:
        if bad or bad_contact or not contact_ids:
            raise AssignmentError({"contact": "Choose services and a user from the lists."})
        await assign_contact(principal, actor, service_ids, contact_ids[0])
    except AssignmentError as error:
        if reassigning:
            return await _reassign_page(request, principal, UUID(reassigning[1]), error.errors)
        return await _services_page(request, principal, error.errors)
    safe = reassigning or (back.startswith("/services") and "//" not in back)
    target = back if safe else "/services"
    return Redirect(f"{target}{'&' if '?' in target else '?'}done=assigned", status_code=303)


@get("/{user_id:uuid}/services", opt=SERVICES_FULL)
async def reassign_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], user_id: FromPath[UUID]
) -> Template:
    return await _reassign_page(request, principal, user_id)


async def _reassign_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    user_id: UUID,
    errors: dict[str, str] | None = None,
) -> Template:
    """The services whose contact is this user, all selected, for one bulk assignment."""
    user = await person(principal.organisation_id, user_id)
    done = request.query_params.get("done", "")
    return page(
        request,
        "services/reassign.html",
        status_code=422 if errors else 200,
        user=user,
        services=await list_services(principal, limit=REASSIGN_BATCH, contact_id=user_id),
        contacts=await people(principal.organisation_id),
        errors=errors or {},
        notice="Contact assigned." if done == "assigned" else NOTICES.get(done),
    )


PAGES = Router(
    "/services",
    route_handlers=[services_page, services_export, service_page, assign_submit],
    include_in_schema=False,
)
HANDOVER_PAGES = Router(
    "/settings/users",
    route_handlers=[reassign_page],
    include_in_schema=False,
)
ROUTERS = [PAGES, HANDOVER_PAGES]
