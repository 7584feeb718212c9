"""The approver's queue: the orders waiting at a level this principal may decide now.

The organisation's waiting orders are read with the filters applied in SQL (one index
covers them); who may decide is worked out from each order's snapshot and the organisation
as it is now, by the same rules the engine applies when the decision is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.columns.combination import Or, Where, WhereRaw

from portal.approvals.directory import load_directory
from portal.approvals.progress import steps_of
from portal.approvals.rules import Decision, earlier_approvers, eligible
from portal.orders.queries import ROW_COLUMNS, OrderRow, row_of
from portal.orders.tables import Order, OrderDecision
from portal.orders.validation import parse_money
from portal.permissions.model import Tier
from portal.permissions.principal import Principal

MAX_AGE_DAYS = 3650


@dataclass(frozen=True, slots=True)
class QueueFilters:
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    requester: UUID | None = None
    cost_centre: str = ""
    older_than_days: int | None = None


@dataclass(frozen=True, slots=True)
class QueueItem:
    row: OrderRow
    level: int
    revision: int
    notes: str
    level_started_at: datetime | None
    escalated: bool


@dataclass(frozen=True, slots=True)
class Queue:
    items: list[QueueItem]
    total: int


def parse_filters(params: Mapping[str, str]) -> tuple[QueueFilters, dict[str, str]]:
    """Filters from a query string; a bad value gets a message and is left out."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("min_amount", "max_amount"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                values[name] = parse_money(raw)
            except ValueError as error:
                errors[name] = str(error)
    raw_requester = (params.get("requester") or "").strip()
    if raw_requester:
        try:
            values["requester"] = UUID(raw_requester)
        except ValueError:
            errors["requester"] = "Choose a requester from the list."
    values["cost_centre"] = (params.get("cost_centre") or "").strip()[:60]
    raw_age = (params.get("older_than_days") or "").strip()
    if raw_age:
        if raw_age.isdigit() and int(raw_age) <= MAX_AGE_DAYS:
            values["older_than_days"] = int(raw_age)
        else:
            errors["older_than_days"] = f"Enter a number of days from 0 to {MAX_AGE_DAYS}."
    return QueueFilters(**values), errors


async def approver_queue(
    user_id: UUID,
    organisation_id: UUID,
    filters: QueueFilters = QueueFilters(),
    limit: int = 100,
    *,
    admin: bool = True,
) -> Queue:
    """Oldest first. `total` counts every order the principal may decide, beyond `limit`.

    Only an admin may decide a level that does not name them (fallback, escalation), so for
    anyone else the database first keeps the orders whose snapshot names them: the dashboard
    of a colleague who approves nothing costs one indexed query that finds nothing.
    """
    condition: Any = (Order.organisation == organisation_id) & (Order.status == "pending_approval")
    if filters.min_amount is not None:
        condition &= Order.estimated_cost >= filters.min_amount
    if filters.max_amount is not None:
        condition &= Order.estimated_cost <= filters.max_amount
    if filters.requester is not None:
        condition &= Order.requester == filters.requester
    if filters.cost_centre:
        condition &= Order.cost_centre == filters.cost_centre
    if filters.older_than_days is not None:
        cutoff = datetime.now(UTC) - timedelta(days=filters.older_than_days)
        condition &= Order.submitted_at <= cutoff
    # Own orders never reach their requester's queue.
    condition &= Order.requester != user_id
    if not admin:
        condition &= WhereRaw('CAST("portal_order"."snapshot" AS TEXT) LIKE {}', f"%{user_id}%")
    rows = (
        await Order.select(
            *ROW_COLUMNS,
            Order.revision,
            Order.snapshot,
            Order.current_level,
            Order.escalated,
            Order.notes,
            Order.level_started_at,
        )
        .where(condition)
        .order_by(Order.submitted_at)
        .order_by(Order.id)
    )
    if not rows:
        return Queue([], 0)
    directory = await load_directory(organisation_id)
    who: Where | Or = OrderDecision.approver == user_id
    if directory.distinct_levels:
        who = who | (OrderDecision.approve == True)  # noqa: E712 (a column comparison)
    decisions = await OrderDecision.select(
        OrderDecision.order,
        OrderDecision.revision,
        OrderDecision.level,
        OrderDecision.approver,
        OrderDecision.approve,
    ).where(who & OrderDecision.order.is_in([row["id"] for row in rows]))
    decided = {
        (d["order"], d["revision"], d["level"]) for d in decisions if d["approver"] == user_id
    }
    # Per order and revision, the approvals given: where each level needs a different person,
    # who approved an earlier level is out.
    given: dict[tuple[UUID, int], list[Decision]] = {}
    for d in decisions:
        if d["approve"]:
            given.setdefault((d["order"], d["revision"]), []).append(
                Decision(d["approver"], d["level"], True)
            )
    items = []
    for row in rows:
        level = row["current_level"]
        if (row["id"], row["revision"], level) in decided:
            continue
        excluded = (
            earlier_approvers(given.get((row["id"], row["revision"]), ()), level)
            if directory.distinct_levels
            else frozenset()
        )
        steps = [s for s in steps_of(row) if s.level == level]
        if any(
            user_id in eligible(step, row["requester_id"], directory, row["escalated"], excluded)
            for step in steps
        ):
            items.append(
                QueueItem(
                    row_of(row),
                    level,
                    row["revision"],
                    row["notes"],
                    row["level_started_at"],
                    row["escalated"],
                )
            )
    return Queue(items[:limit], len(items))


async def queue_of(
    principal: Principal, filters: QueueFilters = QueueFilters(), limit: int = 100
) -> Queue:
    """The signed-in principal's queue."""
    return await approver_queue(
        principal.user_id,
        principal.organisation_id,
        filters,
        limit,
        admin=principal.tier is Tier.ADMIN,
    )
