"""Periodic upkeep that no request does on its own."""

from __future__ import annotations

import logging

import dramatiq

from portal.auth.sessions import purge_expired

logger = logging.getLogger(__name__)


# Expired sessions are refused anyway; deleting them keeps the table small. Idempotent.
@dramatiq.actor(max_retries=3, time_limit=60_000, max_age=3_600_000)
async def purge_expired_sessions() -> None:
    removed = await purge_expired()
    if removed:
        logger.info("purged %s expired sessions", removed)
