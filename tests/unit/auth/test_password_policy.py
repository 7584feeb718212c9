"""The password rules: length, the common-password list, email and organisation name."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.auth.password_policy import (
    DEFAULT_MIN_LENGTH,
    PasswordRules,
    common_passwords,
    password_problems,
)
from portal.auth.signin import MAX_PASSWORD_LENGTH

EMAIL = "ada.lovelace@acme.example"
ORGANISATION = "Acme Widgets"
GOOD = "violet tractor juggles seven moons"

TOO_SHORT = f"Use at least {DEFAULT_MIN_LENGTH} characters."
COMMON = "This password is among the most common ones; choose another."
HAS_EMAIL = "The password must not contain your email address."
HAS_ORGANISATION = "The password must not contain the organisation's name."


def problems(password: str, rules: PasswordRules | None = None) -> list[str]:
    return password_problems(password, rules or PasswordRules(), EMAIL, ORGANISATION)


def test_the_default_minimum_length_is_15() -> None:
    assert DEFAULT_MIN_LENGTH == 15
    assert PasswordRules().min_length == 15


def test_a_good_passphrase_passes() -> None:
    assert problems(GOOD) == []


def test_14_characters_are_too_few_and_15_are_enough() -> None:
    assert problems("violet tractor") == [TOO_SHORT]
    assert problems("violet tractorz") == []


def test_the_organisation_minimum_length_applies() -> None:
    rules = PasswordRules(min_length=40)
    assert problems(GOOD, rules) == ["Use at least 40 characters."]
    assert problems(GOOD + " and a few more", rules) == []


def test_64_characters_are_allowed() -> None:
    assert problems("x7" * 32) == []


def test_too_long_passwords_are_refused() -> None:
    assert problems("x7" * MAX_PASSWORD_LENGTH) == [
        f"Use at most {MAX_PASSWORD_LENGTH} characters."
    ]
    assert problems("x" * MAX_PASSWORD_LENGTH) == []


def test_the_common_list_comes_from_zxcvbn_and_holds_at_least_3000() -> None:
    assert len(common_passwords()) >= 3000
    assert set(FREQUENCY_LISTS["passwords"][:3000]) <= common_passwords()


# Checked in zxcvbn's list: both are long enough to fail on commonness alone.
@pytest.mark.parametrize("password", ["1qaz2wsx3edc4rfv", "qwerty123456789"])
def test_a_long_common_password_is_refused(password: str) -> None:
    assert password in FREQUENCY_LISTS["passwords"]
    assert problems(password) == [COMMON]


def test_the_common_check_ignores_case() -> None:
    assert problems("QWERTY123456789") == [COMMON]


def test_a_common_password_is_not_a_substring_match() -> None:
    assert problems("qwerty123456789 is what I never use") == []


def test_a_password_containing_the_email_local_part_is_refused() -> None:
    assert problems("my name is ada.lovelace ok") == [HAS_EMAIL]
    assert problems("my name is ADA.LOVELACE ok") == [HAS_EMAIL]


def test_a_password_containing_the_organisation_name_is_refused() -> None:
    assert problems("I work at acme widgets ltd") == [HAS_ORGANISATION]
    assert problems("I work at ACME WIDGETS ltd") == [HAS_ORGANISATION]


def test_very_short_names_are_not_checked() -> None:
    # A two-letter local part or name would refuse far too many passwords.
    found = password_problems("jo and hp are fine here", PasswordRules(), "jo@hp.example", "HP")
    assert found == []


def test_every_problem_is_reported_at_once() -> None:
    assert problems("password") == [TOO_SHORT, COMMON]
    assert password_problems("acmebob", PasswordRules(), "bob@acme.example", "Acme") == [
        TOO_SHORT,
        HAS_EMAIL,
        HAS_ORGANISATION,
    ]


@settings(max_examples=200, deadline=None)
@given(password=st.text(min_size=0, max_size=40))
def test_length_problem_exactly_when_too_short(password: str) -> None:
    assert (TOO_SHORT in problems(password)) is (len(password) < DEFAULT_MIN_LENGTH)


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(max_size=10), suffix=st.text(max_size=10))
def test_the_local_part_is_found_anywhere(prefix: str, suffix: str) -> None:
    assert HAS_EMAIL in problems(prefix + "Ada.Lovelace" + suffix)
