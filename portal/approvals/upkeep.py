"""The approval engine's upkeep: reminding the approvers of orders that wait, escalating them
to the admins, handing a deactivated approver's levels to the admins, and finding orders whose
evaluation was lost. Each order is held in its own transaction, as in the engine."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from piccolo.querystring import QueryString

from portal.approvals.completion import settle_after_people_change
from portal.approvals.directory import load_directory
from portal.approvals.eligibility import refresh_for_order
from portal.approvals.emails import email_approvers
from portal.approvals.engine import Outcome
from portal.approvals.progress import ORDER_QUERY, current_progress, locked_order, steps_of
from portal.db import engine, write_transaction
from portal.jobs import wake_delivery
from portal.orders.tables import Order
from portal.orders.timeline import EventKind, record


async def due_orders(column: Any, now: datetime, limit: int = 500) -> list[UUID]:
    rows = (
        await Order.select(Order.id)
        .where((Order.status == "pending_approval") & (column <= now))
        .order_by(column)
        .limit(limit)
    )
    return [row["id"] for row in rows]


async def remind(order_id: UUID, base_url: str, now: datetime | None = None) -> Outcome | None:
    """Remind the approvers who have not decided yet, once per level."""
    now = now or datetime.now(UTC)
    async with write_transaction():
        order = await locked_order(order_id)
        if not _due(order, "remind_at", now):
            return None
        assert order is not None
        directory = await load_directory(
            order["organisation"], distinct_levels=order["distinct_levels"]
        )
        state = await current_progress(order, directory)
        await Order.update({Order.remind_at: None}).where(Order.id == order_id)
        emails = await email_approvers(order, state, "reminder", base_url, directory)
        await record(
            order_id,
            order["organisation"],
            EventKind.REMINDED,
            f"Reminded {len(emails)} approver{'' if len(emails) == 1 else 's'} "
            f"of level {order['current_level']}.",
        )
    wake_delivery(emails)
    return Outcome(state.state.value, tuple(emails))


async def escalate(order_id: UUID, base_url: str, now: datetime | None = None) -> Outcome | None:
    """Open the waiting level to the organisation's admins and tell them, once per level."""
    now = now or datetime.now(UTC)
    async with write_transaction():
        order = await locked_order(order_id)
        if not _due(order, "escalate_at", now):
            return None
        assert order is not None
        await Order.update({Order.escalate_at: None, Order.escalated: True}).where(
            Order.id == order_id
        )
        order = {**order, "escalated": True}
        directory = await load_directory(
            order["organisation"], distinct_levels=order["distinct_levels"]
        )
        state = await current_progress(order, directory)
        await refresh_for_order(order, directory)
        emails = await email_approvers(order, state, "escalated", base_url, directory)
        await record(
            order_id,
            order["organisation"],
            EventKind.ESCALATED,
            f"Level {order['current_level']} waited too long; the admins may now decide it.",
        )
    wake_delivery(emails)
    return Outcome(state.state.value, tuple(emails))


def _due(order: Mapping[str, Any] | None, column: str, now: datetime) -> bool:
    return (
        order is not None
        and order["status"] == "pending_approval"
        and order[column] is not None
        and order[column] <= now
    )


async def hand_over_after_deactivation(
    organisation_id: UUID, user_id: UUID, base_url: str
) -> list[UUID]:
    """Call in the transaction that deactivates `user_id`: the queues lose them. Orders whose
    waiting level named them and now has no active named approver fall to the admins: tell
    the admins. Returns the emails queued, for the caller to wake after its commit."""
    # Holds the waiting orders from here; those left complete move on.
    settled = await settle_after_people_change(organisation_id, base_url)
    rows = await engine().run_querystring(
        QueryString(
            ORDER_QUERY + ' WHERE o."organisation" = {} AND o."status" = {}',
            organisation_id,
            "pending_approval",
        )
    )
    directory = await load_directory(organisation_id)
    emails = settled.emails
    for order in rows:
        if order["id"] in settled.moved:
            continue
        waiting = [
            step
            for step in steps_of(order)
            if step.level == order["current_level"] and user_id in step.approvers
        ]
        if not any(
            not (step.approvers & directory.active) - {order["requester"]} for step in waiting
        ):
            continue
        state = await current_progress(order, directory)
        await record(
            order["id"],
            organisation_id,
            EventKind.FELL_TO_ADMINS,
            f"Level {order['current_level']} has no active approver left; "
            "the admins may decide it.",
        )
        emails += await email_approvers(order, state, "fallen", base_url, directory)
    return emails


async def remind_and_escalate_due(now: datetime, base_url: str) -> None:
    """Remind the approvers of orders waiting past the reminder time, and escalate those
    waiting past the escalation time. Each order's clocks are cleared as it is done: sent once."""
    for order_id in await due_orders(Order.remind_at, now):
        await remind(order_id, base_url, now)
    for order_id in await due_orders(Order.escalate_at, now):
        await escalate(order_id, base_url, now)


async def unevaluated_orders(grace: timedelta, limit: int = 1000) -> list[UUID]:
    """Submitted orders not evaluated `grace` after their submission: their message or their
    worker was lost."""
    rows = (
        await Order.select(Order.id)
        .where((Order.status == "submitted") & (Order.submitted_at < datetime.now(UTC) - grace))
        .order_by(Order.submitted_at)
        .limit(limit)
    )
    return [row["id"] for row in rows]
