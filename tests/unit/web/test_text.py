"""Control characters in typed text, and look-alike email addresses."""

from __future__ import annotations

import pytest

from portal.text import CONTROL_MESSAGE, control_character_errors, has_control_characters
from portal.users.emails import MIXED_SCRIPTS, email_problem, normalise_email


@pytest.mark.parametrize("text", ["Nul\x00Name", "bell\x07", "esc\x1b[31m", "rtl\u202egnp.exe"])
def test_control_and_reordering_characters_are_found(text: str) -> None:
    assert has_control_characters(text)
    assert has_control_characters(text, multiline=True)


def test_line_breaks_are_allowed_only_where_a_field_holds_several_lines() -> None:
    assert has_control_characters("two\nlines")
    assert not has_control_characters("two\nlines\tand a tab", multiline=True)
    assert not has_control_characters("Zoë Ångström 王")


def test_every_text_field_of_a_body_is_checked_with_its_path() -> None:
    body = {
        "full_name": "Nul\x00Name",
        "notes": "line one\nline two",
        "description": "bad\x00",
        "password": "any\x00thing",
        "overrides": {"users": "grant:\x01read"},
        "tags": ["fine", "bad\x02"],
        "quantity": 3,
    }
    assert control_character_errors(body) == {
        "full_name": CONTROL_MESSAGE,
        "description": CONTROL_MESSAGE,
        "overrides.users": CONTROL_MESSAGE,
        "tags[1]": CONTROL_MESSAGE,
    }
    assert control_character_errors({"ok": "fine", "notes": "a\r\nb"}) == {}


def test_addresses_are_stored_in_one_unicode_form() -> None:
    assert normalise_email(" Rene\u0301@Example.COM ") == "ren\u00e9@example.com"
    assert email_problem(normalise_email("Rene\u0301@example.com")) is None


@pytest.mark.parametrize("address", ["\u0430dmin@acme.example", "p\u0430ypal@acme.example"])
def test_a_local_part_that_mixes_alphabets_is_refused(address: str) -> None:
    assert email_problem(address) == MIXED_SCRIPTS


@pytest.mark.parametrize(
    "address",
    ["admin@acme.example", "андрей@acme.example", "山田たろう@acme.example", "a.1+b@x.io"],
)
def test_one_alphabet_per_local_part_is_accepted(address: str) -> None:
    assert email_problem(address) is None


@pytest.mark.parametrize(
    "address", ["nul\x00@acme.example", "no-at-sign", "a@b", "x" * 321 + "@a.io"]
)
def test_malformed_addresses_are_refused(address: str) -> None:
    assert email_problem(address) == "This is not a valid email address."
