"""What a cost centre may be called, and which code an order or a policy may name."""

from __future__ import annotations

import pytest

from portal.costcentres.rules import (
    ARCHIVED_MESSAGE,
    MAX_CODE,
    MAX_NAME,
    UNKNOWN_MESSAGE,
    Centre,
    CentreInput,
    check_centre,
    choose_code,
    choose_codes,
    same_code,
)
from portal.text import CONTROL_MESSAGE

CENTRES = [Centre("CC-100", False), Centre("OPS-200", False), Centre("MKT-500", True)]


def test_a_code_and_a_name_make_a_cost_centre_trimmed() -> None:
    assert check_centre({"code": " CC-100 ", "name": " Finance "}) == (
        CentreInput("CC-100", "Finance"),
        {},
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Give the cost centre a code"),
        ("C" * (MAX_CODE + 1), f"at most {MAX_CODE}"),
        ("x" * 10_000, f"at most {MAX_CODE}"),
        ("CC 100", "letters and digits"),
        ("-CC", "letters and digits"),
        ("CC--1", "letters and digits"),
        ("CC-1;DROP", "letters and digits"),
    ],
)
def test_a_bad_code_is_refused_with_its_message(code: str, message: str) -> None:
    centre, errors = check_centre({"code": code, "name": "Finance"})
    assert centre is None
    assert list(errors) == ["code"] and message.lower() in errors["code"].lower()


@pytest.mark.parametrize("code", ["CC-100", "IT/OPS", "2026.1", "a_b", "X"])
def test_codes_of_letters_and_digits_joined_by_punctuation_are_accepted(code: str) -> None:
    assert check_centre({"code": code, "name": "N"})[1] == {}


def test_a_name_is_required_short_and_free_of_control_characters() -> None:
    assert check_centre({"code": "CC-1", "name": " "})[1] == {
        "name": "Give the cost centre a name."
    }
    assert "at most" in check_centre({"code": "CC-1", "name": "n" * (MAX_NAME + 1)})[1]["name"]
    assert check_centre({"code": "CC-1", "name": "Fin\x00ance"})[1] == {"name": CONTROL_MESSAGE}
    assert check_centre({"code": "CC-1", "name": "Fin\u202eance"})[1] == {"name": CONTROL_MESSAGE}


def test_renaming_reads_only_the_name() -> None:
    assert check_centre({"code": "not a code!", "name": "Sales"}, renaming=True) == (
        CentreInput("not a code!", "Sales"),
        {},
    )
    assert list(check_centre({"name": ""}, renaming=True)[1]) == ["name"]


def test_codes_are_the_same_whatever_their_letter_case() -> None:
    assert same_code(" cc-100", CENTRES) == CENTRES[0]
    assert same_code("CC-1000", CENTRES) is None


def test_no_cost_centre_is_a_choice() -> None:
    assert choose_code("", CENTRES) == ""
    assert choose_code("   ", CENTRES) == ""


def test_an_active_cost_centre_is_stored_as_the_list_spells_it() -> None:
    assert choose_code("ops-200", CENTRES) == "OPS-200"


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match=UNKNOWN_MESSAGE):
        choose_code("CC-999", CENTRES)


def test_an_archived_cost_centre_is_refused_unless_the_record_already_names_it() -> None:
    with pytest.raises(ValueError, match=ARCHIVED_MESSAGE):
        choose_code("MKT-500", CENTRES)
    assert choose_code("MKT-500", CENTRES, kept=["MKT-500"]) == "MKT-500"
    with pytest.raises(ValueError, match=ARCHIVED_MESSAGE):
        choose_code("MKT-500", CENTRES, kept=["CC-100"])


def test_a_list_of_codes_is_chosen_without_repeats_or_blanks() -> None:
    assert choose_codes(["cc-100", "CC-100", "", "OPS-200"], CENTRES) == ("CC-100", "OPS-200")
    with pytest.raises(ValueError, match=UNKNOWN_MESSAGE):
        choose_codes(["CC-100", "nope"], CENTRES)
