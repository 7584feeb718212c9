"""Invitation upkeep: reminders a day before expiry, and expiry itself."""

from __future__ import annotations

import logging

import dramatiq

import workflows.broker  # noqa: F401 - the broker must exist before actors are declared
from portal.invitations.service import remind_and_expire
from portal.settings import load_settings
from workflows.mail import wake_delivery

logger = logging.getLogger(__name__)


@dramatiq.actor(max_retries=3, time_limit=300_000, max_age=3_600_000)
async def remind_and_expire_invitations() -> None:
    upkeep = await remind_and_expire(load_settings().base_url)
    wake_delivery(upkeep.reminder_email_ids)
    logger.info(
        "invitations: %d reminders, %d expired", len(upkeep.reminder_email_ids), upkeep.expired
    )
