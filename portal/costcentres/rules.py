"""What a cost centre may be called, and which code an order or a policy may name. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from portal.text import add_control_character_errors

MAX_CODE = 20
MAX_NAME = 100
# Letters and digits, joined by "-", "_", "." or "/": "CC-100", "IT/OPS", "2026.1".
CODE_PATTERN = re.compile(r"[A-Za-z0-9]+(?:[-_./][A-Za-z0-9]+)*")
UNKNOWN_MESSAGE = "Choose a cost centre from the list."
ARCHIVED_MESSAGE = "That cost centre is archived; choose an active one."


@dataclass(frozen=True, slots=True)
class CentreInput:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Centre:
    """What the choice rules need to know of one cost centre."""

    code: str
    archived: bool


def check_centre(
    fields: Mapping[str, object], renaming: bool = False
) -> tuple[CentreInput | None, dict[str, str]]:
    """A new cost centre (code and name) or a new name (`renaming`: the code stays as it is)."""
    errors: dict[str, str] = {}
    code = str(fields.get("code") or "").strip()
    name = str(fields.get("name") or "").strip()
    if not renaming:
        if not code:
            errors["code"] = "Give the cost centre a code, such as CC-100."
        elif len(code) > MAX_CODE:
            errors["code"] = f"Use at most {MAX_CODE} characters."
        elif not CODE_PATTERN.fullmatch(code):
            errors["code"] = (
                'Use letters and digits, joined by "-", "_", "." or "/" (such as CC-100).'
            )
    if not name:
        errors["name"] = "Give the cost centre a name."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Use at most {MAX_NAME} characters."
    add_control_character_errors(errors, {"code": code, "name": name})
    if errors:
        return None, errors
    return CentreInput(code, name), {}


def same_code(code: str, centres: Iterable[Centre]) -> Centre | None:
    """The cost centre whose code this is, letter case aside: codes are unique ignoring case."""
    folded = code.strip().casefold()
    return next((centre for centre in centres if centre.code.casefold() == folded), None)


def choose_code(typed: str, centres: Iterable[Centre], kept: Iterable[str] = ()) -> str:
    """The code to store for what was typed or chosen: "" for none, else an active cost centre
    of the organisation, spelled as the list spells it. A code already `kept` on the record
    (an order's, a policy's) stays allowed after its cost centre was archived, so that editing
    something else does not force a new choice. Raises ValueError with the field's message."""
    if not typed.strip():
        return ""
    centre = same_code(typed, centres)
    if centre is None:
        raise ValueError(UNKNOWN_MESSAGE)
    if centre.archived and centre.code not in set(kept):
        raise ValueError(ARCHIVED_MESSAGE)
    return centre.code


def choose_codes(
    typed: Iterable[str], centres: Iterable[Centre], kept: Iterable[str] = ()
) -> tuple[str, ...]:
    """`choose_code` for each of a list (a policy's cost centres), without repeats or blanks."""
    known = list(centres)
    chosen = (choose_code(code, known, kept) for code in typed)
    return tuple(dict.fromkeys(code for code in chosen if code))
