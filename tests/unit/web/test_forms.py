"""Form values as pages read them: a wrong value is flagged, never an exception."""

from __future__ import annotations

from uuid import uuid4

from portal.forms import parse_count, parse_uuid, parse_uuids, typed_password


def test_a_password_typed_twice_the_same_has_no_error() -> None:
    assert typed_password({"password": "correct horse", "password_again": "correct horse"}) == (
        "correct horse",
        {},
    )


def test_two_different_passwords_are_flagged_on_the_second_field() -> None:
    password, errors = typed_password({"password": "correct horse", "password_again": "correct"})
    assert password == "correct horse"
    assert errors == {"password_again": "The two passwords are not the same."}
    assert typed_password({"password": "x"})[1] == errors


def test_ids_and_revisions_that_are_not_are_flagged() -> None:
    one = uuid4()
    assert parse_uuid(str(one)) == one
    assert parse_uuid("1; drop table") is None
    assert parse_uuids([str(one), "nope"]) == ([], True)
    assert parse_uuids([str(one)]) == ([one], False)
    assert parse_count("12") == 12
    assert parse_count("-1") is None
    assert parse_count("9" * 12) is None
