"""Inviting the rows of an uploaded file. The rows' outcomes in the database say what is left;
a message only wakes a worker, and a lost one is made good by the sweep."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

import dramatiq

from portal.invitations.batches import run_batch, unfinished_batches
from portal.jobs import INVITE_BATCH, wake_batch
from workflows.broker import settings

logger = logging.getLogger(__name__)

# A batch not done this long after its upload lost its message or its worker.
SWEEP_GRACE = timedelta(seconds=60)


@dramatiq.actor(
    actor_name=INVITE_BATCH.actor_name,
    queue_name=INVITE_BATCH.queue_name,
    max_retries=8,
    min_backoff=5_000,
    max_backoff=600_000,
    # 5,000 rows take about a minute on PostgreSQL; a run cut short is resumed by the retry.
    time_limit=30 * 60_000,
    max_age=7 * 24 * 3_600_000,
)
async def process_invitation_batch(batch_id: str) -> None:
    lease = timedelta(seconds=settings.batch_lease_seconds)
    settled = await run_batch(UUID(batch_id), settings.base_url, lease)
    logger.info("invitation batch %s: %d rows settled by this run", batch_id, settled)


@dramatiq.actor(queue_name="invitations", max_retries=0, time_limit=120_000, max_age=600_000)
async def sweep_invitation_batches() -> None:
    """Wake every batch whose message was lost (Redis down) or whose worker died (its lease
    ran out: this sweep runs at least once a lease, see workflows/schedule.py)."""
    for batch_id in await unfinished_batches(SWEEP_GRACE):
        wake_batch(batch_id)
