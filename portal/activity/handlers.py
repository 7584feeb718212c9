"""Settings → Activity log: the organisation's events, filtered and searched, a page at a time
or exported whole; and the same log for one person on their page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream, Template

from portal.activity.export import export
from portal.activity.filters import KIND_LABELS, NOBODY, ActivityFilter, parse_filter
from portal.activity.labels import ACTION_LABELS
from portal.activity.log import SubjectKind
from portal.activity.queries import event_page, people_of
from portal.activity.subjects import names_of
from portal.errors import NotFound
from portal.pages import page
from portal.pagination import BadListQuery
from portal.permissions.guards import requires
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal

ACTIVITY_READ = requires(Area.ACTIVITY_LOG, Level.READ)


async def _log_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    wanted: ActivityFilter,
    errors: dict[str, str],
    **context: Any,
) -> Template:
    problem = None
    events = None
    try:
        events = await event_page(principal.organisation_id, wanted)
    except BadListQuery as error:
        problem = error.problem
    return page(
        request,
        "activity/index.html",
        status_code=400 if problem or errors else 200,
        events=events,
        problem=problem,
        errors=errors,
        wanted=wanted,
        labels=ACTION_LABELS,
        kinds=KIND_LABELS,
        nobody=NOBODY,
        people=await people_of(principal.organisation_id),
        **context,
    )


@get("/", opt=ACTIVITY_READ)
async def activity_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    wanted, errors = parse_filter(request.query_params)
    return await _log_page(request, principal, wanted, errors, base_path=request.url.path)


@get(["/export.csv", "/export.jsonl"], opt=ACTIVITY_READ)
async def activity_export(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Stream | Template:
    wanted, errors = parse_filter(request.query_params)
    if errors:
        # Never export something other than what was asked for.
        return await _log_page(request, principal, wanted, errors, base_path="/settings/activity")
    return export(principal.organisation_id, wanted, request.url.path.endswith(".csv"))


@get("/users/{user_id:uuid}", opt=ACTIVITY_READ)
async def person_activity_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    user_id: FromPath[UUID],
) -> Template:
    names = await names_of(principal.organisation_id, [(SubjectKind.USER, user_id)])
    if user_id not in names:
        raise NotFound("user")
    wanted, errors = parse_filter(request.query_params)
    return await _log_page(
        request,
        principal,
        replace(wanted, person=user_id),
        errors,
        base_path=request.url.path,
        person={"id": user_id, "name": names[user_id].label},
    )


PAGES = Router(
    "/settings/activity",
    route_handlers=[activity_page, activity_export, person_activity_page],
    include_in_schema=False,
)
ROUTERS = [PAGES]
