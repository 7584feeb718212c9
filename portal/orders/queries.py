"""Reading orders. Who sees an order: anyone with orders:read sees the organisation's orders;
otherwise people see their own orders and those they are an approver of."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.columns.combination import WhereRaw

from portal.approvals.directory import load_directory
from portal.approvals.progress import revision_decisions, steps_of
from portal.approvals.rules import Directory, Progress, State, Step, progress, shared_approvers
from portal.money import format_money
from portal.orders.catalogue import CATALOGUE
from portal.orders.states import STATUS_LABELS, STATUSES
from portal.orders.tables import Order
from portal.orders.timeline import TimelineEntry, timeline
from portal.pagination import BadListQuery, decode_cursor, encode_cursor
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal
from portal.users.queries import names_of

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: UUID
    number: int
    kind: str
    description: str
    quantity: int
    estimated_cost: Decimal
    currency: str
    cost_centre: str
    status: str
    requester_id: UUID
    requester_name: str
    created_at: datetime
    submitted_at: datetime | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def cost_text(self) -> str:
        return format_money(self.estimated_cost, self.currency)


ROW_COLUMNS = (
    Order.id,
    Order.number,
    Order.kind,
    Order.description,
    Order.quantity,
    Order.estimated_cost,
    Order.currency,
    Order.cost_centre,
    Order.status,
    Order.requester.id.as_alias("requester_id"),
    Order.requester.full_name.as_alias("requester_name"),
    Order.created_at,
    Order.submitted_at,
)


def row_of(row: dict[str, Any]) -> OrderRow:
    return OrderRow(**{key: row[key] for key in OrderRow.__slots__})


@dataclass(frozen=True, slots=True)
class OrderPage:
    rows: list[OrderRow]
    next_cursor: str | None


def sees_all_orders(principal: Principal) -> bool:
    return principal.may(Area.ORDERS, Level.READ)


async def list_orders(
    principal: Principal,
    status: str = "",
    mine: bool = False,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> OrderPage:
    """Newest first, by order number, in keyset pages."""
    condition: Any = Order.organisation == principal.organisation_id
    if mine or not sees_all_orders(principal):
        condition &= Order.requester == principal.user_id
    if status:
        if status not in STATUSES:
            raise BadListQuery(f"Unknown status {status[:40]!r}.", field="status")
        condition &= Order.status == status
    if after:
        value, _ = decode_cursor(after)
        if not value.isdigit():
            raise BadListQuery("That page link is not valid any more; start from the first page.")
        condition &= WhereRaw('"portal_order"."number" < {}', int(value))
    rows = (
        await Order.select(*ROW_COLUMNS)
        .where(condition)
        .order_by(Order.number, ascending=False)
        .limit(limit + 1)
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(str(rows[-1]["number"]), rows[-1]["id"])
    return OrderPage([row_of(row) for row in rows], next_cursor)


@dataclass(frozen=True, slots=True)
class StepView:
    level: int
    policy_name: str
    approvals: int
    needed: int
    approvers: list[str]


@dataclass(frozen=True, slots=True)
class OrderDetail:
    row: OrderRow
    item: str
    item_name: str
    service_id: UUID | None
    service_name: str | None
    notes: str
    revision: int
    current_level: int | None
    rejection_reason: str
    decided_at: datetime | None
    steps: list[StepView]
    timeline: list[TimelineEntry]
    is_requester: bool
    may_decide: bool
    # While pending: the people who may approve more than one of its levels, and the levels.
    shared_levels: tuple[tuple[str, tuple[int, ...]], ...] = ()
    distinct_levels: bool = False

    @property
    def undecided(self) -> bool:
        return self.row.status in ("draft", "submitted", "pending_approval")


DETAIL_COLUMNS = (
    *ROW_COLUMNS,
    Order.organisation,
    Order.item,
    Order.service.id.as_alias("service_id"),
    Order.service.name.as_alias("service_name"),
    Order.notes,
    Order.revision,
    Order.snapshot,
    Order.current_level,
    Order.escalated,
    Order.rejection_reason,
    Order.decided_at,
)


async def order_detail(principal: Principal, order_id: UUID) -> OrderDetail | None:
    order = (
        await Order.select(*DETAIL_COLUMNS)
        .where((Order.id == order_id) & (Order.organisation == principal.organisation_id))
        .first()
    )
    if order is None:
        return None
    steps = steps_of(order)
    state: Progress | None = None
    directory: Directory | None = None
    if order["status"] == State.PENDING.value:
        directory = await load_directory(principal.organisation_id)
        decisions = await revision_decisions(order_id, order["revision"])
        state = progress(
            steps,
            decisions,
            order["requester_id"],
            directory,
            order["escalated"],
            order["current_level"],
        )
    is_requester = order["requester_id"] == principal.user_id
    may_decide = state is not None and principal.user_id in state.deciders
    named = any(principal.user_id in step.approvers for step in steps)
    if not (sees_all_orders(principal) or is_requester or named or may_decide):
        return None
    shared = shared_approvers(steps, order["requester_id"], directory) if directory else {}
    names = await names_of([*shared, *(person for step in steps for person in step.approvers)])
    return OrderDetail(
        row=row_of(order),
        item=order["item"],
        item_name=CATALOGUE[order["item"]].name if order["item"] in CATALOGUE else "",
        service_id=order["service_id"],
        service_name=order["service_name"],
        notes=order["notes"],
        revision=order["revision"],
        # The level the decision forms name: where the order waits as worked out now.
        current_level=state.level if state else order["current_level"],
        rejection_reason=order["rejection_reason"],
        decided_at=order["decided_at"],
        steps=_step_views(steps, state, names),
        timeline=await timeline(order_id),
        is_requester=is_requester,
        may_decide=may_decide,
        shared_levels=tuple(
            sorted((names.get(person, "(unknown)"), held) for person, held in shared.items())
        ),
        distinct_levels=bool(directory and directory.distinct_levels),
    )


def _step_views(
    steps: Sequence[Step], state: Progress | None, names: Mapping[UUID, str]
) -> list[StepView]:
    tallies = {step: (count, needed) for step, count, needed in (state.tallies if state else ())}
    views = []
    for step in steps:
        count, needed = tallies.get(step, (0, step.required))
        views.append(
            StepView(
                step.level,
                step.policy_name,
                count,
                needed,
                sorted(names.get(approver, "(unknown)") for approver in step.approvers),
            )
        )
    return views


__all__ = ["BadListQuery", "OrderDetail", "OrderPage", "OrderRow", "list_orders", "order_detail"]
