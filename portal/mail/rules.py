"""When a failed email is tried again, and when the portal gives up: pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_seconds: float
    cap_seconds: float
    give_up_after_seconds: float


def retry_delay(attempts: int, policy: RetryPolicy) -> timedelta:
    """Exponential backoff: base * 2**(attempts - 1) after the `attempts`-th failure, capped.
    Deterministic (no jitter): the cap and the number of emails owed spread the load enough,
    and a test can say exactly when the next attempt comes."""
    exponent = max(attempts - 1, 0)
    # 2**exponent overflows a float past 1024; the cap is reached long before.
    seconds = policy.cap_seconds if exponent > 60 else policy.base_seconds * 2**exponent
    return timedelta(seconds=min(seconds, policy.cap_seconds))


@dataclass(frozen=True, slots=True)
class AfterFailure:
    status: str  # "pending" (tried again at next_attempt_at) or "failed" (given up)
    next_attempt_at: datetime | None


def after_failure(
    attempts: int, created_at: datetime, now: datetime, policy: RetryPolicy
) -> AfterFailure:
    """What a failed attempt leaves: another attempt after the backoff, or "failed" once the
    email has been owed longer than the time budget.

    A time budget, not a count of attempts: how long the SMTP server is away decides whether an
    email can still be delivered, not how often we asked. With a count, an hour of refusals
    would use up the attempts of every email queued in that hour; with the budget (a day by
    default) an outage of an hour delays the email and loses nothing, and only an email
    nobody could deliver for a whole day is given up, where someone can see it.
    """
    next_at = now + retry_delay(attempts, policy)
    if next_at - created_at > timedelta(seconds=policy.give_up_after_seconds):
        return AfterFailure("failed", None)
    return AfterFailure("pending", next_at)
