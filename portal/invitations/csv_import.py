"""Reading a file of colleagues to invite and checking every row before anything is sent.

Pure: bytes and sets in, results out. The caller looks up which emails are already in use
(one query for the whole file) and stores the results.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.errors import Refusal
from portal.invitations.service import Invitee, validate_invitee
from portal.users.emails import normalise_email

if TYPE_CHECKING:
    from _csv import Reader

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
# Name (200) + email (320) + tier and separators fit well within this; more is not a colleague.
MAX_ROW_CHARACTERS = 1_000
COLUMNS = ("name", "email", "tier")
FIELD_LABELS = {"full_name": "Name", "email": "Email", "tier": "Tier", "row": "Row"}


class FileRefused(Refusal):
    """The file as a whole cannot be read; nothing in it is checked or stored."""


@dataclass(frozen=True, slots=True)
class RowIn:
    """One row as given: from a CSV record or from the API's JSON."""

    row_number: int
    full_name: str
    email: str
    tier: str
    # A problem found while reading the record itself (too few or too many values).
    shape_problem: str = ""


@dataclass(frozen=True, slots=True)
class RowProblem:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class RowResult:
    """A checked row: normalised values, and what is wrong with it (nothing if valid)."""

    row_number: int
    full_name: str
    email: str
    tier: str
    problems: tuple[RowProblem, ...]

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def message(self) -> str:
        return row_message(self.problems)


def row_message(problems: Iterable[RowProblem]) -> str:
    """Problems as one line, each after the label of its field."""
    return " ".join(
        problem.message
        if problem.field == "row"
        else f"{FIELD_LABELS.get(problem.field, problem.field)}: {problem.message}"
        for problem in problems
    )


def read_csv(data: bytes) -> list[RowIn]:
    """The data rows of a CSV file with a header naming name, email and tier (any order,
    other columns ignored). UTF-8, with or without a byte order mark. Row numbers count the
    header as row 1, as a spreadsheet shows them."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(
            f"The file is {_megabytes(len(data))}; the limit is {_megabytes(MAX_FILE_BYTES)}. "
            "Split it into smaller files."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileRefused(
            f"The file is not UTF-8 text (line {line} has a byte UTF-8 does not allow). "
            'Save it as "CSV UTF-8" from your spreadsheet and upload it again.'
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = _records(reader)
    header = next(records, None)
    if header is None:
        raise FileRefused(
            "The file is empty. The first row must name the columns name, email and tier."
        )
    positions = _column_positions(header[1])
    rows = [_row_in(number, cells, positions, len(header[1])) for number, cells in records]
    if not rows:
        raise FileRefused("The file has a header but no rows to invite.")
    if len(rows) > MAX_ROWS:
        raise FileRefused(
            f"The file has {len(rows):,} rows; at most {MAX_ROWS:,} can be invited at once. "
            "Split it into smaller files."
        )
    return rows


def emails_to_look_up(rows: Iterable[RowIn]) -> set[str]:
    """The normalised emails to check against the database, in one query."""
    return {normalise_email(row.email) for row in rows if row.email.strip()}


def check_rows(rows: Sequence[RowIn], emails_in_use: Collection[str]) -> list[RowResult]:
    """Every row checked: shape, length, name, email, tier, duplicates within the rows (the
    first valid row with an email keeps it) and emails already in use."""
    first_row_of: dict[str, int] = {}
    results = []
    for row in rows:
        problems = _problems(row)
        email = normalise_email(row.email)
        if not problems:
            if email in first_row_of:
                problems = [
                    RowProblem("email", f"This email is already on row {first_row_of[email]}.")
                ]
            elif email in emails_in_use:
                problems = [RowProblem("email", "This email is already in use.")]
            else:
                first_row_of[email] = row.row_number
        results.append(
            RowResult(
                row_number=row.row_number,
                full_name=" ".join(row.full_name.split()),
                email=email,
                tier=row.tier.strip().lower(),
                problems=tuple(problems),
            )
        )
    return results


def _problems(row: RowIn) -> list[RowProblem]:
    if row.shape_problem:
        return [RowProblem("row", row.shape_problem)]
    length = len(row.full_name) + len(row.email) + len(row.tier)
    if length > MAX_ROW_CHARACTERS:
        return [
            RowProblem(
                "row",
                f"This row has {length:,} characters; a row may have at most "
                f"{MAX_ROW_CHARACTERS:,}.",
            )
        ]
    errors = validate_invitee(Invitee(row.full_name, row.email, row.tier.strip().lower()))
    return [RowProblem(field, message) for field, message in errors.items()]


def _records(reader: Reader) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on."""
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise FileRefused(f"Line {line} cannot be read as CSV: {error}.") from None
        start, line = line, reader.line_num + 1
        if any(cell.strip() for cell in cells):
            yield start, cells


def _column_positions(header: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    for name in COLUMNS:
        if names.count(name) > 1:
            raise FileRefused(f"The column {name} is named twice in the first row.")
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
            hint = " The columns seem to be separated by something other than commas."
        raise FileRefused(
            "The first row must name the columns name, email and tier; missing: "
            f"{', '.join(missing)}.{hint}"
        )
    return {name: names.index(name) for name in COLUMNS}


def _row_in(number: int, cells: list[str], positions: dict[str, int], width: int) -> RowIn:
    values = {name: cells[index] if index < len(cells) else "" for name, index in positions.items()}
    shape = ""
    if len(cells) > width:
        shape = (
            f"This row has {len(cells)} values but the first row names {width} columns; "
            "put a value that contains a comma in double quotes."
        )
    elif absent := [name for name, index in positions.items() if index >= len(cells)]:
        shape = f"This row has {len(cells)} values: none for {', '.join(absent)}."
    return RowIn(number, values["name"], values["email"], values["tier"], shape)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
