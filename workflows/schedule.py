"""Wakes the periodic actors, once per period for the whole cluster.

Every `portal worker` starts a scheduler; they agree through the database: a scheduler sends a
job only after winning that job's period with a conditional UPDATE (`portal.periodic.leases`),
and gives the period back if Redis would not take the message, so another tick (or another
scheduler) sends it once Redis is back. Periods are numbered from the epoch, so schedulers
started at different times number them alike.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dramatiq

from portal.jobs import Job, wake
from portal.outage import Outage
from portal.periodic.leases import give_back, holder_name, register, win_period
from portal.periodic.rules import is_mine_to_claim, period_of, sweep_period, tick_seconds

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Periodic:
    actor: dramatiq.Actor  # type: ignore[type-arg]
    every_seconds: float

    @property
    def name(self) -> str:
        return str(self.actor.actor_name)

    @property
    def job(self) -> Job:
        return Job(self.actor.actor_name, self.actor.queue_name)


def periodic_jobs() -> Sequence[Periodic]:
    from workflows.actors import (
        purge_expired_sessions,
        remind_and_escalate_approvals,
        remind_and_expire_invitations,
        sweep_invitation_batches,
        sweep_owed_emails,
        sweep_submitted_orders,
    )
    from workflows.broker import settings

    sweep_every = settings.sweep_interval_seconds
    return (
        Periodic(purge_expired_sessions, every_seconds=15 * 60),
        Periodic(
            sweep_owed_emails,
            every_seconds=sweep_period(sweep_every, settings.mail_lease_seconds),
        ),
        Periodic(
            sweep_invitation_batches,
            every_seconds=sweep_period(sweep_every, settings.batch_lease_seconds),
        ),
        Periodic(remind_and_expire_invitations, every_seconds=10 * 60),
        Periodic(sweep_submitted_orders, every_seconds=sweep_every),
        Periodic(remind_and_escalate_approvals, every_seconds=5 * 60),
    )


class Scheduler:
    """One scheduler: looks at the clock every tick and sends what it wins."""

    def __init__(self, jobs: Sequence[Periodic], holder: str | None = None) -> None:
        self.jobs = jobs
        self.holder = holder or holder_name()
        self.tick = tick_seconds([job.every_seconds for job in jobs])
        # The last period this scheduler saw taken (by itself or another), per job.
        self._seen = {job.name: -1 for job in jobs}
        self._registered = False
        self._database = Outage()

    async def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            await self.tick_once()
            await asyncio.sleep(self.tick)

    async def tick_once(self) -> None:
        try:
            if not self._registered:
                await register(job.name for job in self.jobs)
                self._registered = True
            for job in self.jobs:
                if not await self._send_if_won(job):
                    break  # Redis is down: the other jobs would fail the same way
        except Exception as error:
            if self._database.failed():
                logger.warning(
                    "scheduler: the database is unavailable (%s: %s); retrying every tick",
                    type(error).__name__,
                    error,
                )
            return
        if self._database.succeeded():
            logger.warning("scheduler: the database is back")

    async def _send_if_won(self, job: Periodic) -> bool:
        """False only when the job was won but Redis would not take it."""
        now = time.time()
        if not is_mine_to_claim(self._seen[job.name], now, job.every_seconds):
            return True
        period = period_of(now, job.every_seconds)
        if await win_period(job.name, period, job.every_seconds, self.holder):
            if not wake(job.job):
                await give_back(job.name, period, self.holder)
                return False
            logger.info("woke %s for period %d", job.name, period)
        self._seen[job.name] = period
        return True


def start_scheduler(stop: threading.Event) -> threading.Thread:
    """The scheduler on a thread of its own, with its own event loop."""
    scheduler = Scheduler(periodic_jobs())

    def loop() -> None:
        asyncio.run(scheduler.run(stop))

    thread = threading.Thread(target=loop, name="portal-scheduler", daemon=True)
    thread.start()
    return thread
