"""When a failed email is tried again, and when the portal gives up on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.mail.rules import AfterFailure, RetryPolicy, after_failure, retry_delay

DEFAULT = RetryPolicy(base_seconds=30, cap_seconds=900, give_up_after_seconds=86_400)
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_the_delay_doubles_from_the_base_up_to_the_cap() -> None:
    delays = [retry_delay(attempt, DEFAULT).total_seconds() for attempt in range(1, 9)]
    assert delays == [30, 60, 120, 240, 480, 900, 900, 900]


def test_the_delay_is_deterministic_and_survives_huge_attempt_counts() -> None:
    assert retry_delay(3, DEFAULT) == retry_delay(3, DEFAULT)
    assert retry_delay(5_000, DEFAULT) == timedelta(seconds=900)
    assert retry_delay(0, DEFAULT) == timedelta(seconds=30)


def test_a_failed_email_is_tried_again_after_its_backoff() -> None:
    now = START + timedelta(minutes=1)
    assert after_failure(2, START, now, DEFAULT) == AfterFailure(
        "pending", now + timedelta(seconds=60)
    )


def test_an_smtp_outage_of_an_hour_uses_up_nothing() -> None:
    """Follow one email through an hour of refusals: still owed at the end, tried again
    within the cap of the server's return."""
    now, attempts = START, 0
    while now < START + timedelta(hours=1):
        attempts += 1
        outcome = after_failure(attempts, START, now, DEFAULT)
        assert outcome.status == "pending" and outcome.next_attempt_at is not None
        now = outcome.next_attempt_at
    assert now - (START + timedelta(hours=1)) <= timedelta(seconds=900)
    # Failures at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 30.5 and 45.5 minutes; the next at 60.5.
    assert attempts == 8


def test_an_email_nobody_could_take_for_a_day_is_given_up() -> None:
    almost = START + timedelta(hours=23, minutes=40)
    assert after_failure(100, START, almost, DEFAULT).status == "pending"
    late = START + timedelta(hours=23, minutes=50)  # its next attempt would be past the day
    assert after_failure(101, START, late, DEFAULT) == AfterFailure("failed", None)
