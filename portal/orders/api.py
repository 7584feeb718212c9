"""JSON API for orders and decisions: the same services and rules as the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from portal.activity.log import Actor
from portal.errors import InputError, NotFound, Refusal
from portal.orders.queries import OrderDetail, OrderRow, list_orders, order_detail
from portal.orders.service import OrderError, cancel_order, edit_order, place_order, submit_order
from portal.orders.validation import check_order
from portal.permissions.guards import signed_in
from portal.permissions.principal import Principal
from portal.permissions.requirements import ORDERS_FULL, ORDERS_READ
from portal.services.api import MoneyOut

TAGS = ["orders"]


class OrderOut(msgspec.Struct):
    id: UUID
    number: int
    type: str
    description: str
    quantity: int
    estimated_cost: MoneyOut
    cost_centre: str
    status: str
    requester_id: UUID
    requester_name: str
    created_at: datetime
    submitted_at: datetime | None


class OrderPageOut(msgspec.Struct):
    items: list[OrderOut]
    next_cursor: str | None


class StepOut(msgspec.Struct):
    level: int
    policy: str
    approvals: int
    needed: int
    approvers: list[str]


class EventOut(msgspec.Struct):
    at: datetime
    kind: str
    label: str
    actor: str | None
    message: str


class OrderDetailOut(msgspec.Struct):
    order: OrderOut
    item: str
    service_id: UUID | None
    notes: str
    revision: int
    current_level: int | None
    rejection_reason: str
    steps: list[StepOut]
    timeline: list[EventOut]
    you_may_decide: bool


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    type: str
    quantity: int = 1
    # A decimal string ("1250.00") or a whole number; floats are refused.
    estimated_cost: str | int | None = None
    item: str = ""
    service: UUID | None = None
    description: str = ""
    cost_centre: str = ""
    notes: str = ""
    submit: bool = True


class OrderChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    type: str | msgspec.UnsetType = msgspec.UNSET
    quantity: int | msgspec.UnsetType = msgspec.UNSET
    estimated_cost: str | int | msgspec.UnsetType = msgspec.UNSET
    item: str | msgspec.UnsetType = msgspec.UNSET
    service: UUID | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    cost_centre: str | msgspec.UnsetType = msgspec.UNSET
    notes: str | msgspec.UnsetType = msgspec.UNSET


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""


def order_out(row: OrderRow) -> OrderOut:
    return OrderOut(
        id=row.id,
        number=row.number,
        type=row.kind,
        description=row.description,
        quantity=row.quantity,
        estimated_cost=MoneyOut(f"{row.estimated_cost:.2f}", row.currency),
        cost_centre=row.cost_centre,
        status=row.status,
        requester_id=row.requester_id,
        requester_name=row.requester_name,
        created_at=row.created_at,
        submitted_at=row.submitted_at,
    )


def detail_out(detail: OrderDetail) -> OrderDetailOut:
    return OrderDetailOut(
        order=order_out(detail.row),
        item=detail.item,
        service_id=detail.service_id,
        notes=detail.notes,
        revision=detail.revision,
        current_level=detail.current_level,
        rejection_reason=detail.rejection_reason,
        steps=[
            StepOut(s.level, s.policy_name, s.approvals, s.needed, s.approvers)
            for s in detail.steps
        ],
        timeline=[
            EventOut(e.occurred_at, e.kind.value, e.label, e.actor_name, e.message)
            for e in detail.timeline
        ],
        you_may_decide=detail.may_decide,
    )


def _fields(data: OrderIn | OrderChangeIn) -> dict[str, Any]:
    fields = {
        name: getattr(data, name)
        for name in (
            "quantity",
            "estimated_cost",
            "item",
            "service",
            "description",
            "cost_centre",
            "notes",
        )
        if getattr(data, name) is not msgspec.UNSET
    }
    if data.type is not msgspec.UNSET:
        fields["kind"] = data.type
    return fields


async def _detail(principal: Principal, order_id: UUID) -> OrderDetailOut:
    detail = await order_detail(principal, order_id)
    if detail is None:
        raise NotFound("order")
    return detail_out(detail)


@get("/", opt=ORDERS_READ, summary="Orders, newest first")
async def list_orders_api(
    principal: NamedDependency[Principal],
    status: FromQuery[str] = "",
    mine: FromQuery[bool] = False,
    after: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
) -> OrderPageOut:
    if not 1 <= limit <= 200:
        raise InputError({"limit": "Use a limit from 1 to 200."})
    page = await list_orders(principal, status[:40], mine, after, limit)
    return OrderPageOut([order_out(row) for row in page.rows], page.next_cursor)


@post("/", opt=ORDERS_FULL, summary="Place an order", status_code=201)
async def place_order_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    data: JSONBody[OrderIn],
) -> OrderDetailOut:
    draft, errors = check_order(_fields(data))
    if draft is None:
        raise InputError(_api_names(errors))
    try:
        order_id = await place_order(principal, actor, draft, data.submit)
    except OrderError as error:
        raise Refusal(error.message, _api_names(error.errors), error.status) from None
    return await _detail(principal, order_id)


def _api_names(errors: dict[str, str]) -> dict[str, str]:
    return {("type" if key == "kind" else key): message for key, message in errors.items()}


@get("/{order_id:uuid}", opt=signed_in(), summary="One order with its approvals and timeline")
async def get_order_api(
    principal: NamedDependency[Principal], order_id: FromPath[UUID]
) -> OrderDetailOut:
    return await _detail(principal, order_id)


@patch(
    "/{order_id:uuid}",
    opt=ORDERS_FULL,
    summary="Change an undecided order; a change of what approvers weigh resets the approvals",
)
async def edit_order_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
    data: JSONBody[OrderChangeIn],
) -> OrderDetailOut:
    current = await order_detail(principal, order_id)
    if current is None:
        raise NotFound("order")
    fields: dict[str, Any] = {
        "kind": current.row.kind,
        "item": current.item,
        "service": current.service_id,
        "description": current.row.description,
        "quantity": current.row.quantity,
        "estimated_cost": f"{current.row.estimated_cost:.2f}",
        "cost_centre": current.row.cost_centre,
        "notes": current.notes,
    } | _fields(data)
    draft, errors = check_order(fields)
    if draft is None:
        raise InputError(_api_names(errors))
    try:
        await edit_order(principal, actor, order_id, draft)
    except OrderError as error:
        raise Refusal(error.message, _api_names(error.errors), error.status) from None
    return await _detail(principal, order_id)


@post(
    "/{order_id:uuid}/submit",
    opt=ORDERS_FULL,
    summary="Submit a draft for approval",
    status_code=200,
)
async def submit_order_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
) -> OrderDetailOut:
    await submit_order(actor, order_id)
    return await _detail(principal, order_id)


@post(
    "/{order_id:uuid}/cancel",
    opt=ORDERS_FULL,
    summary="Cancel an undecided order of yours",
    status_code=200,
)
async def cancel_order_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
    data: JSONBody[CancelIn],
) -> OrderDetailOut:
    await cancel_order(actor, order_id, data.reason)
    return await _detail(principal, order_id)


API = Router(
    "/api/v1/orders",
    route_handlers=[
        list_orders_api,
        place_order_api,
        get_order_api,
        edit_order_api,
        submit_order_api,
        cancel_order_api,
    ],
    tags=TAGS,
)
ROUTERS = [API]
