"""Emails as stored and compared: trimmed, case-folded, loosely checked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.users.emails import MAX_EMAIL_LENGTH, is_valid_email, normalise_email


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com \t\n", "ada@example.com"),
        ("ada@example.com", "ada@example.com"),
        ("ADA.LOVELACE+portal@ACME.example", "ada.lovelace+portal@acme.example"),
    ],
)
def test_normalise_email_trims_and_folds_case(raw: str, stored: str) -> None:
    assert normalise_email(raw) == stored


letters = "abcxyzABCXYZ\u00e9\u00c9\u00df0189.+-_"
emails = st.builds(
    "{}@{}.{}".format,
    st.text(letters, min_size=1, max_size=12),
    st.text(letters, min_size=1, max_size=12),
    st.sampled_from(["com", "CO.UK", "Example"]),
)


@settings(max_examples=200, deadline=None)
@given(email=emails)
def test_emails_differing_only_in_case_normalise_alike(email: str) -> None:
    assert normalise_email(email.upper()) == normalise_email(email.lower())
    assert normalise_email(normalise_email(email)) == normalise_email(email)


@pytest.mark.parametrize(
    "email",
    ["ada@example.com", "a@b.co", "ada.lovelace+portal@mail.acme.example", "o'neil@example.ie"],
)
def test_valid_emails(email: str) -> None:
    assert is_valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada@exa@mple.com",
        "ada lovelace@example.com",
        "ada@exam ple.com",
        " ada@example.com",
        "ada@example.com ",
        "ada@example.",
        "ada@.",
    ],
)
def test_invalid_emails(email: str) -> None:
    assert not is_valid_email(email)


def test_a_trailing_newline_is_invalid() -> None:
    assert not is_valid_email("ada@example.com\n")


def test_the_length_limit_is_320() -> None:
    assert MAX_EMAIL_LENGTH == 320
    domain = "@example.com"
    assert is_valid_email("a" * (320 - len(domain)) + domain)
    assert not is_valid_email("a" * (321 - len(domain)) + domain)
