"""Inviting the rows of an uploaded file. The rows' outcomes in the database say what is left;
a message only wakes a worker, and a lost one is made good by the sweep."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

import dramatiq

import workflows.broker  # noqa: F401 - the broker must exist before actors are declared
from portal.invitations.batches import (
    finish_batch,
    invite_next_row,
    start_batch,
    unfinished_batches,
)
from portal.settings import load_settings
from workflows.mail import wake_delivery

logger = logging.getLogger(__name__)

# A batch not done this long after its upload lost its message or its worker.
SWEEP_GRACE = timedelta(seconds=60)


@dramatiq.actor(
    queue_name="invitations",
    max_retries=8,
    min_backoff=5_000,
    max_backoff=600_000,
    # 5,000 rows take about a minute on PostgreSQL; a run cut short is resumed by the retry.
    time_limit=30 * 60_000,
    max_age=7 * 24 * 3_600_000,
)
async def process_invitation_batch(batch_id: str) -> None:
    settled = await run_batch(UUID(batch_id))
    logger.info("invitation batch %s: %d rows settled by this run", batch_id, settled)


@dramatiq.actor(queue_name="invitations", max_retries=0, time_limit=120_000, max_age=600_000)
async def sweep_invitation_batches() -> None:
    """Wake every batch whose message was lost (Redis down) or whose worker died."""
    for batch_id in await unfinished_batches(SWEEP_GRACE):
        process_invitation_batch.send(str(batch_id))


async def run_batch(batch_id: UUID) -> int:
    """Invite every pending row of the batch, then mark it done; returns the rows this run
    settled. Idempotent, and safe beside another run of the same batch."""
    actor = await start_batch(batch_id)
    settled = 0
    if actor is not None:
        base_url = load_settings().base_url
        while (email_ids := await invite_next_row(actor, batch_id, base_url)) is not None:
            wake_delivery(email_ids)
            settled += 1
    await finish_batch(batch_id)
    return settled


def wake_batch(batch_id: UUID) -> None:
    """Call after the commit. If the broker is down the batch stays pending: the sweep runs it."""
    try:
        process_invitation_batch.send(str(batch_id))
    except Exception:
        logger.warning("broker unavailable; batch %s waits for the sweep", batch_id, exc_info=True)
