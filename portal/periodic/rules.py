"""When a periodic job is due, cluster-wide: pure functions of the clock."""

from __future__ import annotations

import math


def period_of(now: float, every_seconds: float) -> int:
    """The number of the period that `now` (seconds since the epoch) falls in. Periods are
    aligned on the epoch, so every scheduler of the cluster numbers them alike."""
    if every_seconds <= 0:
        raise ValueError("a period must last longer than 0 seconds")
    return math.floor(now / every_seconds)


def period_end(period: int, every_seconds: float) -> float:
    """When the period ends and the next may be won (seconds since the epoch)."""
    return (period + 1) * every_seconds


def is_mine_to_claim(won_period: int, now: float, every_seconds: float) -> bool:
    """Whether a scheduler that last saw `won_period` taken should try for the current one."""
    return period_of(now, every_seconds) > won_period


def sweep_period(sweep_interval_seconds: float, lease_seconds: float) -> float:
    """How often to sweep for work held by leases: the sweep interval, or the lease if that is
    shorter, so that work a dead worker held is found within a lease of its lease running out,
    not only at the next sweep."""
    return min(sweep_interval_seconds, lease_seconds)


def tick_seconds(periods: list[float], longest: float = 1.0) -> float:
    """How long the scheduler sleeps between looks: a quarter of the shortest period, at most
    `longest`, so that a short period is not skipped by a late tick."""
    return min([longest, *(period / 4 for period in periods)])
