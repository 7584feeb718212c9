"""Email delivery actors. The outbox table says what is owed; these only do the sending."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

import dramatiq

import workflows.broker  # noqa: F401 - the broker must exist before actors are declared
from portal.mail.delivery import deliver
from portal.mail.outbox import owed_emails
from portal.settings import load_settings

logger = logging.getLogger(__name__)


@dramatiq.actor(
    queue_name="mail",
    max_retries=8,
    min_backoff=5_000,
    max_backoff=600_000,
    time_limit=120_000,
    max_age=7 * 24 * 3_600_000,
)
async def deliver_email(email_id: str) -> None:
    outcome = await deliver(UUID(email_id), load_settings())
    logger.info("email %s: %s", email_id, outcome)


@dramatiq.actor(queue_name="mail", max_retries=0, time_limit=120_000, max_age=600_000)
async def sweep_owed_emails() -> None:
    """Wake every email whose message was lost (Redis down) or whose worker died."""
    lease = timedelta(seconds=load_settings().mail_lease_seconds)
    for email_id in await owed_emails(lease):
        deliver_email.send(str(email_id))


def wake_delivery(email_ids: Iterable[UUID]) -> None:
    """Call after the commit. If the broker is down the emails stay owed: the sweep sends them."""
    for email_id in email_ids:
        try:
            deliver_email.send(str(email_id))
        except Exception:
            logger.warning(
                "broker unavailable; email %s waits for the sweep", email_id, exc_info=True
            )
            return
