"""Reading a CSV of colleagues and checking every row: pure, no database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.invitations.csv_import import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    FileRefused,
    RowIn,
    check_rows,
    emails_to_look_up,
    read_csv,
)


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    return ("\ufeff" if bom else "").encode() + ("\r\n".join(lines) + "\r\n").encode()


def checked(data: bytes, in_use: set[str] | None = None) -> dict[int, str]:
    """Row number -> its message ('' when the row is valid)."""
    return {r.row_number: r.message for r in check_rows(read_csv(data), in_use or set())}


def test_good_and_bad_rows_in_one_file() -> None:
    data = csv_bytes(
        "name,email,tier",
        "Ada Lovelace,ada@acme.example,manager",
        ",nameless@acme.example,user",
        "Bad Email,not-an-email,user",
        "Wrong Tier,tier@acme.example,emperor",
        "Ada Again,ADA@acme.example,user",
        "Taken,taken@acme.example,admin",
        "Too Few,few@acme.example",
        "Smith, John,john@acme.example,user",
        "  Grace   Hopper ,  Grace@Acme.Example , User ",
    )
    assert checked(data, {"taken@acme.example"}) == {
        2: "",
        3: "Name: Enter the colleague's name.",
        4: "Email: This is not a valid email address.",
        5: "Tier: Choose admin, manager or user.",
        6: "Email: This email is already on row 2.",
        7: "Email: This email is already in use.",
        8: "This row has 2 values: none for tier.",
        9: "This row has 4 values but the first row names 3 columns; put a value that "
        "contains a comma in double quotes.",
        10: "",
    }
    grace = check_rows(read_csv(data), set())[-1]
    assert (grace.full_name, grace.email, grace.tier) == (
        "Grace Hopper",
        "grace@acme.example",
        "user",
    )


def test_header_in_any_order_and_case_with_a_bom_and_extra_columns() -> None:
    data = csv_bytes("Tier,Notes,EMAIL,Name", 'user,"likes, commas",ada@acme.example,Ada', bom=True)
    (row,) = check_rows(read_csv(data), set())
    assert row.valid and (row.full_name, row.email, row.tier) == ("Ada", "ada@acme.example", "user")


def test_row_numbers_are_the_lines_a_spreadsheet_shows() -> None:
    data = csv_bytes(
        "name,email,tier",
        "",
        '"Two\nLines",two@acme.example,user',
        ",,",
        "Last,last@acme.example,user",
    )
    rows = read_csv(data)
    assert [row.row_number for row in rows] == [3, 6]
    assert rows[0].full_name == "Two\nLines"


def test_the_first_valid_row_keeps_a_duplicated_email() -> None:
    data = csv_bytes(
        "name,email,tier",
        ",dup@acme.example,user",
        "Second,dup@acme.example,user",
        "Third,dup@acme.example,user",
    )
    assert checked(data) == {
        2: "Name: Enter the colleague's name.",
        3: "",
        4: "Email: This email is already on row 3.",
    }


def test_a_10000_character_name_is_refused_on_its_row_only() -> None:
    data = csv_bytes(
        "name,email,tier", f"{'x' * 10_000},long@acme.example,user", "Ok,ok@a.example,user"
    )
    results = check_rows(read_csv(data), set())
    assert [(p.field, p.message) for p in results[0].problems] == [
        ("row", "This row has 10,021 characters; a row may have at most 1,000.")
    ]
    assert results[1].valid


def test_a_name_over_200_characters_is_refused() -> None:
    data = csv_bytes("name,email,tier", f"{'x' * 201},a@acme.example,user")
    assert checked(data) == {2: "Name: Use at most 200 characters."}


def test_5000_rows_are_read_and_5001_refused() -> None:
    rows = [f"P{n},p{n}@acme.example,user" for n in range(MAX_ROWS)]
    assert len(read_csv(csv_bytes("name,email,tier", *rows))) == MAX_ROWS
    with pytest.raises(FileRefused, match="The file has 5,001 rows; at most 5,000"):
        read_csv(csv_bytes("name,email,tier", *rows, "One,more@acme.example,user"))


def test_a_file_over_2_mb_is_refused() -> None:
    data = csv_bytes("name,email,tier", "x" * MAX_FILE_BYTES)
    with pytest.raises(FileRefused, match=r"The file is 2(\.0)? MB; the limit is 2 MB"):
        read_csv(data)


def test_bytes_that_are_not_utf8_are_refused_with_the_line() -> None:
    data = "name,email,tier\nZoë,zoe@acme.example,user\n".encode("latin-1")
    with pytest.raises(FileRefused, match=r'not UTF-8 text \(line 2 .*"CSV UTF-8"'):
        read_csv(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"\xef\xbb\xbf", "The file is empty"),
        (b"name,email,tier\r\n\r\n", "a header but no rows"),
        (b"name,email\nAda,ada@acme.example\n", "missing: tier."),
        (b"name;email;tier\nAda;a@b.example;user\n", "separated by something other than commas"),
        (b"name,email,email,tier\n", "The column email is named twice"),
        (b'name,email,tier\n"Ada"x,a@b.example,user\n', "Line 2 cannot be read as CSV"),
    ],
)
def test_files_that_cannot_be_read_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(FileRefused, match=message):
        read_csv(data)


def test_rows_from_the_api_are_checked_the_same_way() -> None:
    rows = [
        RowIn(1, "Ada", "Ada@Acme.example", "user"),
        RowIn(2, "Ada", "ada@acme.example", "user"),
        RowIn(3, "x" * 990, "long@acme.example", "user"),
    ]
    assert emails_to_look_up(rows) == {"ada@acme.example", "long@acme.example"}
    assert [[(p.field, p.message) for p in r.problems] for r in check_rows(rows, set())] == [
        [],
        [("email", "This email is already on row 1.")],
        [("row", "This row has 1,011 characters; a row may have at most 1,000.")],
    ]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_give_rows_or_a_clear_refusal(data: bytes) -> None:
    try:
        rows = read_csv(b"name,email,tier\n" + data)
    except FileRefused as refused:
        assert str(refused)
        return
    for result in check_rows(rows, set()):
        assert result.valid or result.message
