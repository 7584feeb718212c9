"""Orders pages: the list, placing and editing an order, its page with the timeline, and the
approver's decision buttons (full page or, from the queue, an htmx row swap)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.costcentres.queries import list_centres, name_of, offered_centres
from portal.errors import NotFound, Refusal
from portal.forms import parse_uuid
from portal.orders.catalogue import CATALOGUE
from portal.orders.queries import BadListQuery, list_orders, order_detail
from portal.orders.service import OrderError, cancel_order, edit_order, place_order, submit_order
from portal.orders.states import STATUS_LABELS, STATUSES
from portal.orders.validation import check_order
from portal.pages import page
from portal.permissions.guards import signed_in
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal
from portal.permissions.requirements import ORDERS_FULL, ORDERS_READ
from portal.services.queries import get_service, list_services

SERVICE_CHOICES = 200
FORM_FIELDS = (
    "kind",
    "item",
    "service",
    "description",
    "quantity",
    "estimated_cost",
    "cost_centre",
    "notes",
)
NOTICES = {
    "submitted": "Order submitted. It is checked against the approval policies now.",
    "drafted": "Draft saved. Submit it when you are ready.",
    "edited": "Changes saved.",
    "reset": "Changes saved. The approvals were reset and the order is evaluated again.",
    "cancelled": "Order cancelled.",
    "approve": "Your approval is recorded.",
    "reject": "The order is rejected; the requester sees your reason.",
}


@get("/", opt=ORDERS_READ)
async def orders_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    status = request.query_params.get("status") or ""
    mine = request.query_params.get("mine") == "1"
    problem = None
    orders = None
    try:
        orders = await list_orders(principal, status, mine, request.query_params.get("after"))
    except BadListQuery as error:
        problem = error.problem
    return page(
        request,
        "orders/index.html",
        status_code=400 if problem else 200,
        orders=orders,
        problem=problem,
        status=status,
        mine=mine,
        statuses=[(value, STATUS_LABELS[value]) for value in STATUSES],
        can_order=principal.may(Area.ORDERS, Level.FULL),
    )


async def _form(
    request: Request[Any, Any, Any],
    principal: Principal,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    order_id: UUID | None = None,
    status_code: int = 200,
    kept_centre: str = "",
) -> Template:
    """The order form; `kept_centre`: the cost centre the order already names, offered even
    once archived."""
    services = (await list_services(principal, limit=SERVICE_CHOICES)).rows
    chosen = parse_uuid(values.get("service"))
    if chosen and all(service.id != chosen for service in services):
        # Beyond the first choices (ordered from the service's own page): offer it as well.
        service = await get_service(principal, chosen)
        services = [service, *services] if service else services
    return page(
        request,
        "orders/form.html",
        status_code=status_code,
        values=values,
        errors=errors or {},
        catalogue=list(CATALOGUE.values()),
        services=services,
        cost_centres=offered_centres(await list_centres(principal.organisation_id), [kept_centre]),
        order_id=order_id,
    )


@get("/new", opt=ORDERS_FULL)
async def new_order_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    values: dict[str, Any] = {"kind": "new", "quantity": "1"}
    service = request.query_params.get("service")
    if service:
        values |= {"kind": "change", "service": service}
    return await _form(request, principal, values)


async def _form_values(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()
    return {name: str(form.get(name) or "") for name in (*FORM_FIELDS, "action")}


@post("/", opt=ORDERS_FULL)
async def place_order_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    values = await _form_values(request)
    draft, errors = check_order(values)
    try:
        if draft is None:
            raise OrderError(422, "Some fields need another look.", errors)
        submit = values["action"] != "draft"
        order_id = await place_order(principal, actor, draft, submit)
    except OrderError as error:
        return await _form(request, principal, values, error.errors, status_code=422)
    done = "submitted" if submit else "drafted"
    return Redirect(f"/orders/{order_id}?done={done}", status_code=303)


async def _detail_or_404(principal: Principal, order_id: UUID) -> Any:
    detail = await order_detail(principal, order_id)
    if detail is None:
        raise NotFound("order")
    return detail


@get("/{order_id:uuid}", opt=signed_in())
async def order_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    order_id: FromPath[UUID],
) -> Template:
    return await render_order_page(request, principal, order_id)


async def render_order_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    order_id: UUID,
    problem: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    detail = await _detail_or_404(principal, order_id)
    return page(
        request,
        "orders/detail.html",
        status_code=status_code,
        order=detail,
        cost_centre_name=await name_of(principal.organisation_id, detail.row.cost_centre),
        may_change=detail.is_requester and principal.may(Area.ORDERS, Level.FULL),
        notice=NOTICES.get(request.query_params.get("done") or ""),
        problem=problem,
        errors=errors or {},
    )


@get("/{order_id:uuid}/timeline", opt=signed_in())
async def order_timeline_fragment(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    order_id: FromPath[UUID],
) -> Template:
    detail = await _detail_or_404(principal, order_id)
    return Template("orders/_timeline.html", context={"order": detail})


@get("/{order_id:uuid}/edit", opt=ORDERS_FULL)
async def edit_order_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    order_id: FromPath[UUID],
) -> Template:
    detail = await _detail_or_404(principal, order_id)
    if not detail.is_requester or not detail.undecided:
        raise Refusal("This order cannot be edited.", status=404)
    item = CATALOGUE.get(detail.item)
    # What the form derived when left empty is shown empty again, so that a changed item or
    # quantity derives it afresh instead of keeping the old item's name or price.
    derived_cost = item is not None and detail.row.estimated_cost == item.unit_price * (
        detail.row.quantity
    )
    values = {
        "kind": detail.row.kind,
        "item": detail.item,
        "service": str(detail.service_id or ""),
        "description": ""
        if item and detail.row.description == item.name
        else detail.row.description,
        "quantity": str(detail.row.quantity),
        "estimated_cost": "" if derived_cost else f"{detail.row.estimated_cost:.2f}",
        "cost_centre": detail.row.cost_centre,
        "notes": detail.notes,
    }
    return await _form(
        request, principal, values, order_id=order_id, kept_centre=detail.row.cost_centre
    )


@post("/{order_id:uuid}/edit", opt=ORDERS_FULL)
async def edit_order_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
) -> Response[Any]:
    detail = await _detail_or_404(principal, order_id)
    values = await _form_values(request)
    draft, errors = check_order(values)
    try:
        if draft is None:
            raise OrderError(422, "Some fields need another look.", errors)
        reset = await edit_order(principal, actor, order_id, draft)
    except OrderError as error:
        if error.status == 404:
            raise
        if error.status != 422:
            return await render_order_page(
                request, principal, order_id, error.message, status_code=409
            )
        kept = detail.row.cost_centre
        return await _form(request, principal, values, error.errors, order_id, 422, kept)
    return Redirect(f"/orders/{order_id}?done={'reset' if reset else 'edited'}", status_code=303)


@post("/{order_id:uuid}/submit", opt=ORDERS_FULL)
async def submit_order_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
) -> Response[Any]:
    return await _requester_action(request, principal, actor, order_id, "submitted")


@post("/{order_id:uuid}/cancel", opt=ORDERS_FULL)
async def cancel_order_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
) -> Response[Any]:
    return await _requester_action(request, principal, actor, order_id, "cancelled")


async def _requester_action(
    request: Request[Any, Any, Any], principal: Principal, actor: Actor, order_id: UUID, done: str
) -> Response[Any]:
    try:
        if done == "cancelled":
            form = await request.form()
            await cancel_order(actor, order_id, str(form.get("reason") or ""))
        else:
            await submit_order(actor, order_id)
    except OrderError as error:
        if error.status == 404:
            raise
        return await render_order_page(
            request, principal, order_id, error.message, error.errors, error.status
        )
    return Redirect(f"/orders/{order_id}?done={done}", status_code=303)


PAGES = Router(
    "/orders",
    route_handlers=[
        orders_page,
        new_order_page,
        place_order_submit,
        order_page,
        order_timeline_fragment,
        edit_order_page,
        edit_order_submit,
        submit_order_submit,
        cancel_order_submit,
    ],
    include_in_schema=False,
)
ROUTERS = [PAGES]
