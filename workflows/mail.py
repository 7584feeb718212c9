"""Email delivery actors. The outbox table says what is owed; these only do the sending."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

import dramatiq

from portal.jobs import DELIVER_EMAIL, wake_delivery
from portal.mail.delivery import deliver
from portal.mail.outbox import owed_emails
from workflows.broker import settings

logger = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name=DELIVER_EMAIL.actor_name,
    queue_name=DELIVER_EMAIL.queue_name,
    max_retries=8,
    min_backoff=5_000,
    max_backoff=600_000,
    time_limit=120_000,
    max_age=7 * 24 * 3_600_000,
)
async def deliver_email(email_id: str) -> None:
    outcome = await deliver(UUID(email_id), settings)
    logger.info("email %s: %s", email_id, outcome)


@dramatiq.actor(queue_name="mail", max_retries=0, time_limit=120_000, max_age=600_000)
async def sweep_owed_emails() -> None:
    """Wake every email whose message was lost (Redis down) or whose worker died."""
    wake_delivery(await owed_emails(timedelta(seconds=settings.mail_lease_seconds)))
