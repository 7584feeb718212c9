"""Session records expire after the idle timeout and after the absolute timeout."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.auth.sessions import RENEW_AFTER_SECONDS, SessionRecord, cookie_name

IDLE = 30 * 60
ABSOLUTE = 12 * 60 * 60
START = 1_700_000_000.0


def record(created_at: float = START, renewed_at: float = START) -> SessionRecord:
    return SessionRecord(UUID(int=1), UUID(int=7), 3, created_at=created_at, renewed_at=renewed_at)


def test_a_fresh_session_is_live() -> None:
    assert not record().expired(START, IDLE, ABSOLUTE)


def test_idle_timeout_is_counted_from_the_last_renewal() -> None:
    assert not record().expired(START + IDLE, IDLE, ABSOLUTE)
    assert record().expired(START + IDLE + 1, IDLE, ABSOLUTE)


def test_renewal_keeps_an_active_session_live() -> None:
    renewed = record(renewed_at=START + 2 * IDLE)
    assert not renewed.expired(START + 2 * IDLE + IDLE - 1, IDLE, ABSOLUTE)


def test_absolute_timeout_ends_even_an_active_session() -> None:
    renewed_just_now = record(renewed_at=START + ABSOLUTE)
    assert not renewed_just_now.expired(START + ABSOLUTE, IDLE, ABSOLUTE)
    renewed_just_now = record(renewed_at=START + ABSOLUTE + 1)
    assert renewed_just_now.expired(START + ABSOLUTE + 1, IDLE, ABSOLUTE)


@settings(max_examples=200, deadline=None)
@given(
    since_created=st.integers(0, 2 * ABSOLUTE),
    since_renewed=st.integers(0, 2 * ABSOLUTE),
    idle=st.integers(1, ABSOLUTE),
    absolute=st.integers(1, 2 * ABSOLUTE),
)
def test_expired_exactly_when_a_timeout_has_passed(
    since_created: int, since_renewed: int, idle: int, absolute: int
) -> None:
    since_renewed = min(since_renewed, since_created)
    now = START + since_created
    session = record(created_at=START, renewed_at=now - since_renewed)
    assert session.expired(now, idle, absolute) is (
        since_renewed > idle or since_created > absolute
    )


def test_last_seen_is_written_at_most_once_a_minute() -> None:
    assert not record().renewal_due(START + RENEW_AFTER_SECONDS - 1)
    assert record().renewal_due(START + RENEW_AFTER_SECONDS)


@pytest.mark.parametrize(
    ("secure", "name"), [(True, "__Host-portal_session"), (False, "portal_session")]
)
def test_cookie_name(secure: bool, name: str) -> None:
    assert cookie_name(secure) == name
