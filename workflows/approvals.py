"""Approval actors. The order's state in the database says what is left to do; a message only
wakes a worker, and the sweep makes good a lost one (Redis down) or a dead worker's."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from uuid import UUID

import dramatiq

from portal.approvals.engine import evaluate_order
from portal.approvals.upkeep import remind_and_escalate_due, unevaluated_orders
from portal.jobs import EVALUATE_ORDER, wake_evaluation
from workflows.broker import settings

logger = logging.getLogger(__name__)

# A submitted order not evaluated this long after its submission lost its message or worker.
SWEEP_GRACE = timedelta(seconds=30)


@dramatiq.actor(
    actor_name=EVALUATE_ORDER.actor_name,
    queue_name=EVALUATE_ORDER.queue_name,
    max_retries=8,
    min_backoff=2_000,
    max_backoff=300_000,
    time_limit=120_000,
    max_age=7 * 24 * 3_600_000,
)
async def evaluate_submitted_order(order_id: str) -> None:
    outcome = await evaluate_order(UUID(order_id), settings.base_url)
    if outcome is not None:
        logger.info("order %s evaluated: %s", order_id, outcome.state)


@dramatiq.actor(queue_name="approvals", max_retries=0, time_limit=120_000, max_age=600_000)
async def sweep_submitted_orders() -> None:
    """Wake every submitted order whose message was lost or whose worker died."""
    # A sweep more frequent than the grace (tests, impatient operators) shortens the grace.
    every = timedelta(seconds=settings.sweep_interval_seconds)
    for order_id in await unevaluated_orders(min(SWEEP_GRACE, every)):
        wake_evaluation(order_id)


@dramatiq.actor(queue_name="approvals", max_retries=0, time_limit=600_000, max_age=600_000)
async def remind_and_escalate_approvals() -> None:
    """Remind and escalate the orders whose clocks ran out; each is done once."""
    await remind_and_escalate_due(datetime.now(UTC), settings.base_url)
