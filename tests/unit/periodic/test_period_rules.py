"""When a periodic job is due cluster-wide, and the outage tracker that keeps logs short."""

from __future__ import annotations

import pytest

from portal.outage import Outage
from portal.periodic.rules import (
    is_mine_to_claim,
    period_end,
    period_of,
    sweep_period,
    tick_seconds,
)


def test_periods_are_numbered_from_the_epoch_so_every_scheduler_agrees() -> None:
    assert period_of(0, 60) == 0
    assert period_of(59.999, 60) == 0
    assert period_of(60, 60) == 1
    assert period_of(1_733_220_000.5, 300) == 5_777_400
    assert period_of(10.0, 0.5) == 20


def test_a_period_ends_where_the_next_begins() -> None:
    assert period_end(0, 60) == 60
    assert period_of(period_end(7, 2.5), 2.5) == 8


def test_a_zero_period_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than 0"):
        period_of(10, 0)


def test_a_period_already_taken_is_not_claimed_again() -> None:
    assert is_mine_to_claim(-1, 30, 60)  # nobody has run it yet
    assert not is_mine_to_claim(0, 30, 60)  # this period is taken
    assert not is_mine_to_claim(1, 30, 60)  # a scheduler with a fast clock took the next
    assert is_mine_to_claim(0, 60, 60)  # the next period has begun


def test_a_sweep_for_leased_work_runs_at_least_once_a_lease() -> None:
    assert sweep_period(60, 300) == 60
    assert sweep_period(60, 30) == 30
    assert sweep_period(2, 0.5) == 0.5


def test_the_tick_is_short_enough_not_to_skip_a_period() -> None:
    assert tick_seconds([900, 60, 300]) == 1.0
    assert tick_seconds([900, 2, 60]) == 0.5
    assert tick_seconds([]) == 1.0


def test_an_outage_is_reported_once_when_it_starts_and_once_when_it_ends() -> None:
    outage = Outage()
    assert not outage.succeeded()  # up, and still up: nothing to say
    assert outage.failed()  # the first failure starts the outage
    assert not outage.failed()
    assert not outage.failed()
    assert outage.down
    assert outage.succeeded()  # the first success ends it
    assert not outage.succeeded()
    assert outage.failed()  # a second outage is a new one
