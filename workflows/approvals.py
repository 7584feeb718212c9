"""Approval actors. The order's state in the database says what is left to do; a message only
wakes a worker, and the sweep makes good a lost one (Redis down) or a dead worker's."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from uuid import UUID

import dramatiq

import workflows.broker  # noqa: F401 - the broker must exist before actors are declared
from portal.orders.tables import Order
from portal.settings import load_settings
from workflows.approval_engine import due_orders, escalate, evaluate_order, remind
from workflows.mail import wake_delivery

logger = logging.getLogger(__name__)

# A submitted order not evaluated this long after its submission lost its message or worker.
SWEEP_GRACE = timedelta(seconds=30)


@dramatiq.actor(
    queue_name="approvals",
    max_retries=8,
    min_backoff=2_000,
    max_backoff=300_000,
    time_limit=120_000,
    max_age=7 * 24 * 3_600_000,
)
async def evaluate_submitted_order(order_id: str) -> None:
    outcome = await evaluate_order(UUID(order_id))
    if outcome is not None:
        wake_delivery(outcome.email_ids)
        logger.info("order %s evaluated: %s", order_id, outcome.state)


@dramatiq.actor(queue_name="approvals", max_retries=0, time_limit=120_000, max_age=600_000)
async def sweep_submitted_orders() -> None:
    """Wake every submitted order whose message was lost or whose worker died."""
    # A sweep more frequent than the grace (tests, impatient operators) shortens the grace.
    every = timedelta(seconds=load_settings().sweep_interval_seconds)
    for order_id in await unevaluated_orders(min(SWEEP_GRACE, every)):
        evaluate_submitted_order.send(str(order_id))


@dramatiq.actor(queue_name="approvals", max_retries=0, time_limit=600_000, max_age=600_000)
async def remind_and_escalate_approvals() -> None:
    """Remind the approvers of orders waiting past the reminder time, and escalate those waiting
    past the escalation time. Each order's clocks are cleared as it is done: sent once."""
    await remind_and_escalate_due(datetime.now(UTC))


async def remind_and_escalate_due(now: datetime) -> None:
    for order_id in await due_orders(Order.remind_at, now):
        outcome = await remind(order_id, now)
        if outcome is not None:
            wake_delivery(outcome.email_ids)
    for order_id in await due_orders(Order.escalate_at, now):
        outcome = await escalate(order_id, now)
        if outcome is not None:
            wake_delivery(outcome.email_ids)


async def unevaluated_orders(grace: timedelta, limit: int = 1000) -> list[UUID]:
    rows = (
        await Order.select(Order.id)
        .where((Order.status == "submitted") & (Order.submitted_at < datetime.now(UTC) - grace))
        .order_by(Order.submitted_at)
        .limit(limit)
    )
    return [row["id"] for row in rows]


def wake_evaluation(order_id: UUID) -> None:
    """Call after the commit. If the broker is down the order stays submitted: the sweep runs it."""
    try:
        evaluate_submitted_order.send(str(order_id))
    except Exception:
        logger.warning("broker unavailable; order %s waits for the sweep", order_id, exc_info=True)
