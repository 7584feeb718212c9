"""JSON API for the approver's queue, bulk approval and approval policies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from portal.activity.log import Actor
from portal.approvals.bulk import approve_each
from portal.approvals.decisions import decide
from portal.approvals.handlers import MAX_BULK
from portal.approvals.policies import (
    PolicyError,
    check_policy,
    get_policy,
    json_list,
    list_policies,
    preview,
    save_policy,
)
from portal.approvals.queue import parse_filters, queue_of
from portal.context import base_url
from portal.errors import InputError, NotFound, Refusal
from portal.orders.api import TAGS as ORDER_TAGS
from portal.orders.api import OrderOut, order_out
from portal.orders.validation import parse_money
from portal.permissions.guards import signed_in
from portal.permissions.principal import Principal
from portal.permissions.requirements import POLICIES_FULL, POLICIES_READ

TAGS = ["approvals"]


class QueueItemOut(msgspec.Struct):
    order: OrderOut
    level: int
    revision: int
    escalated: bool
    level_started_at: datetime | None


class QueueOut(msgspec.Struct):
    items: list[QueueItemOut]
    total: int


class ChosenLevelIn(msgspec.Struct, forbid_unknown_fields=True):
    order_id: UUID
    # The level the approver saw waiting (the queue's `level`): a retried request finds it
    # decided (409) instead of approving the next level unseen.
    level: int


class BulkApproveIn(msgspec.Struct, forbid_unknown_fields=True):
    orders: list[ChosenLevelIn]


class BulkResultOut(msgspec.Struct):
    order_id: UUID
    ok: bool
    status: str | None
    message: str


class BulkOut(msgspec.Struct):
    results: list[BulkResultOut]


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    # A decimal string ("1000.00") or a whole number; floats are refused.
    threshold: str | int
    active: bool = True
    order_types: list[str] = []
    cost_centres: list[str] = []
    approver_users: list[UUID] = []
    approver_roles: list[str] = []
    required_approvals: int = 1
    level: int = 1


class PolicyChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    threshold: str | int | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    order_types: list[str] | msgspec.UnsetType = msgspec.UNSET
    cost_centres: list[str] | msgspec.UnsetType = msgspec.UNSET
    approver_users: list[UUID] | msgspec.UnsetType = msgspec.UNSET
    approver_roles: list[str] | msgspec.UnsetType = msgspec.UNSET
    required_approvals: int | msgspec.UnsetType = msgspec.UNSET
    level: int | msgspec.UnsetType = msgspec.UNSET


class PolicyOut(msgspec.Struct):
    id: UUID
    name: str
    active: bool
    threshold: str
    order_types: list[str]
    cost_centres: list[str]
    approver_users: list[str]
    approver_roles: list[str]
    required_approvals: int
    level: int


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    estimated_cost: str | int
    type: str = "new"
    cost_centre: str = ""
    requester: UUID | None = None


class PreviewStepOut(msgspec.Struct):
    level: int
    policy: str
    required: int
    approvers: list[str]
    falls_to_admins: bool


@get("/", opt=signed_in(), summary="Orders waiting for your decision")
async def queue_api(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> QueueOut:
    filters, errors = parse_filters(request.query_params)
    if errors:
        raise InputError(errors)
    queue = await queue_of(principal, filters, limit=500)
    return QueueOut(
        [
            QueueItemOut(
                order_out(item.row),
                item.level,
                item.revision,
                item.escalated,
                item.level_started_at,
            )
            for item in queue.items
        ],
        queue.total,
    )


@post(
    "/approve",
    opt=signed_in(),
    summary="Approve many orders; each gets its own result",
    status_code=200,
)
async def bulk_approve_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    data: JSONBody[BulkApproveIn],
) -> BulkOut:
    if not data.orders:
        raise InputError({"orders": "Give one or more order ids."})
    if len(data.orders) > MAX_BULK:
        raise InputError({"orders": f"Approve at most {MAX_BULK} orders at once."})
    results = [
        BulkResultOut(
            r.order_id,
            r.refusal is None,
            r.state,
            r.outcome.said() if r.outcome else r.refusal or "",
        )
        for r in await approve_each(
            actor, [(o.order_id, o.level) for o in data.orders], base_url(request)
        )
    ]
    return BulkOut(results)


def policy_out(row: dict[str, Any]) -> PolicyOut:
    return PolicyOut(
        id=row["id"],
        name=row["name"],
        active=row["active"],
        threshold=f"{Decimal(row['threshold']):.2f}",
        order_types=json_list(row["order_kinds"]),
        cost_centres=json_list(row["cost_centres"]),
        approver_users=json_list(row["approver_users"]),
        approver_roles=json_list(row["approver_roles"]),
        required_approvals=row["required_approvals"],
        level=row["level"],
    )


def _policy_fields(data: PolicyIn | PolicyChangeIn) -> dict[str, Any]:
    names = {"order_types": "order_kinds"}
    fields = {}
    for name in PolicyIn.__struct_fields__:
        value = getattr(data, name)
        if value is msgspec.UNSET:
            continue
        if name == "approver_users":
            value = [str(user) for user in value]
        fields[names.get(name, name)] = value
    return fields


def _api_errors(errors: dict[str, str]) -> dict[str, str]:
    return {("order_types" if key == "order_kinds" else key): m for key, m in errors.items()}


async def _save(
    request: Request[Any, Any, Any],
    principal: Principal,
    actor: Actor,
    fields: dict[str, Any],
    policy_id: UUID | None,
) -> PolicyOut:
    policy, errors = check_policy(fields)
    if policy is None:
        raise InputError(_api_errors(errors))
    try:
        saved = await save_policy(actor, policy, policy_id)
    except PolicyError as error:
        raise Refusal(error.message, _api_errors(error.errors), error.status) from None
    row = await get_policy(principal.organisation_id, saved)
    assert row is not None
    return policy_out(row)


@get("/", opt=POLICIES_READ, summary="Approval policies")
async def list_policies_api(principal: NamedDependency[Principal]) -> list[PolicyOut]:
    return [policy_out(row) for row in await list_policies(principal.organisation_id)]


@post("/", opt=POLICIES_FULL, summary="Create an approval policy", status_code=201)
async def create_policy_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    data: JSONBody[PolicyIn],
) -> PolicyOut:
    return await _save(request, principal, actor, _policy_fields(data), None)


@get("/{policy_id:uuid}", opt=POLICIES_READ, summary="One approval policy")
async def get_policy_api(
    principal: NamedDependency[Principal], policy_id: FromPath[UUID]
) -> PolicyOut:
    row = await get_policy(principal.organisation_id, policy_id)
    if row is None:
        raise NotFound("approval policy")
    return policy_out(row)


@patch(
    "/{policy_id:uuid}",
    opt=POLICIES_FULL,
    summary="Change an approval policy; orders already waiting keep their snapshot",
)
async def change_policy_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    policy_id: FromPath[UUID],
    data: JSONBody[PolicyChangeIn],
) -> PolicyOut:
    row = await get_policy(principal.organisation_id, policy_id)
    if row is None:
        raise NotFound("approval policy")
    current = {
        key: value
        for key, value in _policy_fields(
            PolicyIn(
                name=row["name"],
                threshold=f"{Decimal(row['threshold']):.2f}",
                active=row["active"],
                order_types=json_list(row["order_kinds"]),
                cost_centres=json_list(row["cost_centres"]),
                approver_users=[UUID(user) for user in json_list(row["approver_users"])],
                approver_roles=json_list(row["approver_roles"]),
                required_approvals=row["required_approvals"],
                level=row["level"],
            )
        ).items()
    }
    return await _save(request, principal, actor, current | _policy_fields(data), policy_id)


@post(
    "/preview",
    opt=POLICIES_READ,
    summary="Which policies would apply to a hypothetical order",
    status_code=200,
)
async def preview_api(
    principal: NamedDependency[Principal], data: JSONBody[PreviewIn]
) -> list[PreviewStepOut]:
    try:
        cost = parse_money(data.estimated_cost)
    except ValueError as error:
        raise InputError({"estimated_cost": str(error)}) from None
    steps = await preview(
        principal.organisation_id, data.type, cost, data.cost_centre[:60], data.requester
    )
    return [
        PreviewStepOut(s.level, s.policy_name, s.required, s.approvers, s.fallback) for s in steps
    ]


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    # The level the approver decides (the order's `current_level`): a repeat of the same
    # decision finds it decided (409) and never decides the next level.
    level: int
    # The revision the approver looked at; a changed order is refused (409) rather than
    # approved unseen. Optional.
    revision: int | None = None
    reason: str = ""


class DecisionOut(msgspec.Struct):
    order_id: UUID
    status: str


async def decide_api(
    request: Request[Any, Any, Any],
    principal: Principal,
    actor: Actor,
    order_id: UUID,
    approve: bool,
    data: DecisionIn,
) -> DecisionOut:
    outcome = await decide(
        actor, order_id, approve, data.reason, data.revision, data.level, base_url=base_url(request)
    )
    return DecisionOut(order_id, outcome.state)


@post(
    "/{order_id:uuid}/approve",
    opt=signed_in(),
    summary="Approve the level of the order that waits for you",
    status_code=200,
)
async def approve_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
    data: JSONBody[DecisionIn],
) -> DecisionOut:
    return await decide_api(request, principal, actor, order_id, True, data)


@post(
    "/{order_id:uuid}/reject",
    opt=signed_in(),
    summary="Reject the order, with a reason the requester sees",
    status_code=200,
)
async def reject_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
    data: JSONBody[DecisionIn],
) -> DecisionOut:
    return await decide_api(request, principal, actor, order_id, False, data)


QUEUE_API = Router(
    "/api/v1/approvals",
    route_handlers=[queue_api, bulk_approve_api],
    tags=TAGS,
)
POLICIES_API = Router(
    "/api/v1/approval-policies",
    route_handlers=[
        list_policies_api,
        create_policy_api,
        get_policy_api,
        change_policy_api,
        preview_api,
    ],
    tags=TAGS,
)
DECISIONS_API = Router(
    "/api/v1/orders",
    route_handlers=[approve_api, reject_api],
    tags=ORDER_TAGS,
)
ROUTERS = [QUEUE_API, POLICIES_API, DECISIONS_API]
