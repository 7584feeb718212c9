"""Invitation upkeep: reminders a day before expiry, and expiry itself."""

from __future__ import annotations

import logging

import dramatiq

from portal.invitations.upkeep import remind_and_expire
from workflows.broker import settings

logger = logging.getLogger(__name__)


@dramatiq.actor(max_retries=3, time_limit=300_000, max_age=3_600_000)
async def remind_and_expire_invitations() -> None:
    upkeep = await remind_and_expire(settings.base_url)
    logger.info(
        "invitations: %d reminders, %d expired", len(upkeep.reminder_email_ids), upkeep.expired
    )
