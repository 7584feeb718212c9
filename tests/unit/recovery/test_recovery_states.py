"""What a password-reset link means at a given moment, and the forgot-password form's check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.recovery.service import forgot_password_problem
from portal.recovery.states import STATE_PAGES, ResetState, reset_state

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(hours=1)


def test_a_pending_link_works_until_it_expires() -> None:
    assert reset_state("pending", EXPIRES, NOW, True) is ResetState.USABLE
    assert reset_state("pending", EXPIRES, EXPIRES - timedelta(seconds=1), True) is (
        ResetState.USABLE
    )
    assert reset_state("pending", EXPIRES, EXPIRES, True) is ResetState.EXPIRED


def test_a_pending_link_of_an_account_that_may_not_sign_in_is_refused() -> None:
    assert reset_state("pending", EXPIRES, NOW, False) is ResetState.ACCOUNT_INACTIVE
    # Expiry is the more useful answer: a new link is needed either way.
    assert reset_state("pending", EXPIRES, EXPIRES, False) is ResetState.EXPIRED


@given(
    status=st.sampled_from(["used", "superseded"]),
    offset=st.integers(min_value=-10_000, max_value=10_000),
    active=st.booleans(),
)
def test_a_spent_link_stays_spent_whatever_the_clock(
    status: str, offset: int, active: bool
) -> None:
    assert reset_state(status, EXPIRES, NOW + timedelta(minutes=offset), active) is ResetState(
        status
    )


def test_every_refusal_has_its_own_page() -> None:
    assert set(STATE_PAGES) == set(ResetState) - {ResetState.USABLE}
    for title, text, status in STATE_PAGES.values():
        assert title and status in (409, 410)
        assert text.format(organisation="Acme")


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("", "Enter your email address."),
        ("   ", "Enter your email address."),
        ("ada", "This is not a valid email address."),
        ("ada@acme", "This is not a valid email address."),
        ("a" * 400 + "@acme.example", "This is not a valid email address."),
        ("  Ada@Acme.example ", None),
        ("nobody@nowhere.example", None),
    ],
)
def test_forgot_password_checks_only_the_form_of_the_address(
    email: str, problem: str | None
) -> None:
    assert forgot_password_problem(email) == problem
