"""Wakes the periodic actors. Sending twice is harmless: every periodic actor is idempotent."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dramatiq

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Periodic:
    actor: dramatiq.Actor  # type: ignore[type-arg]
    every_seconds: float


def periodic_jobs() -> Sequence[Periodic]:
    from portal.settings import load_settings
    from workflows.actors import (
        purge_expired_sessions,
        remind_and_escalate_approvals,
        remind_and_expire_invitations,
        sweep_invitation_batches,
        sweep_owed_emails,
        sweep_submitted_orders,
    )

    sweep_every = load_settings().sweep_interval_seconds
    return (
        Periodic(purge_expired_sessions, every_seconds=15 * 60),
        Periodic(sweep_owed_emails, every_seconds=sweep_every),
        Periodic(sweep_invitation_batches, every_seconds=sweep_every),
        Periodic(remind_and_expire_invitations, every_seconds=10 * 60),
        Periodic(sweep_submitted_orders, every_seconds=sweep_every),
        Periodic(remind_and_escalate_approvals, every_seconds=5 * 60),
    )


def start_scheduler(stop: threading.Event, tick_seconds: float = 1.0) -> threading.Thread:
    def loop() -> None:
        jobs = periodic_jobs()
        next_run = [0.0] * len(jobs)
        while not stop.is_set():
            now = time.monotonic()
            for index, job in enumerate(jobs):
                if now >= next_run[index]:
                    try:
                        job.actor.send()
                        next_run[index] = now + job.every_seconds
                    except Exception:
                        # The broker is down: try again on the next tick, lose nothing.
                        logger.exception("could not wake %s", job.actor.actor_name)
            stop.wait(tick_seconds)

    thread = threading.Thread(target=loop, name="portal-scheduler", daemon=True)
    thread.start()
    return thread
