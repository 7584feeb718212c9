"""Which scheduler of the cluster sends a periodic job this period: the one whose conditional
UPDATE moves the job's row to the period's number. The database decides, so however many
schedulers run (one per `portal worker`), each period of each job is sent once; Redis only
carries the wake-up."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime

from portal.periodic.rules import period_end
from portal.periodic.tables import ScheduledJob


def holder_name() -> str:
    """Who this scheduler is, for the lease row: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def register(names: Iterable[str]) -> None:
    """Make sure every job has its row; rows that exist are left alone."""
    for name in names:
        await ScheduledJob.insert(ScheduledJob(name=name, period=-1)).on_conflict(
            target=ScheduledJob.name, action="DO NOTHING"
        )


async def win_period(name: str, period: int, every_seconds: float, holder: str) -> bool:
    """Take the job's period if no scheduler has taken it (or a later one) yet."""
    now = datetime.now(UTC)
    rows = await (
        ScheduledJob.update(
            {
                ScheduledJob.period: period,
                ScheduledJob.holder: holder,
                ScheduledJob.lease_until: datetime.fromtimestamp(
                    period_end(period, every_seconds), UTC
                ),
                ScheduledJob.last_run_at: now,
                ScheduledJob.runs: ScheduledJob.runs + 1,
            }
        )
        .where((ScheduledJob.name == name) & (ScheduledJob.period < period))
        .returning(ScheduledJob.name)
    )
    return bool(rows)


async def give_back(name: str, period: int, holder: str) -> None:
    """The job could not be sent (Redis down): let any scheduler take this period again."""
    await ScheduledJob.update(
        {ScheduledJob.period: period - 1, ScheduledJob.runs: ScheduledJob.runs - 1}
    ).where(
        (ScheduledJob.name == name)
        & (ScheduledJob.period == period)
        & (ScheduledJob.holder == holder)
    )


async def last_won(name: str) -> int:
    """The last period any scheduler won for the job (-1: none yet)."""
    row = await ScheduledJob.select(ScheduledJob.period).where(ScheduledJob.name == name).first()
    return int(row["period"]) if row else -1
