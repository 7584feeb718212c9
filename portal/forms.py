"""Reading values typed into forms and address bars: a wrong value is None (or flagged), never
an exception, so that the page can say what is wrong next to the field."""

from __future__ import annotations

from typing import Any
from uuid import UUID

MAX_IDS = 200


def parse_uuid(raw: Any) -> UUID | None:
    try:
        return UUID(str(raw or ""))
    except ValueError:
        return None


def parse_uuids(raw: list[Any]) -> tuple[list[UUID], bool]:
    """The ids of a multiple choice (at most MAX_IDS); True when one of them is not an id."""
    ids = []
    for value in raw[:MAX_IDS]:
        parsed = parse_uuid(value)
        if parsed is None:
            return [], True
        ids.append(parsed)
    return ids, False


def parse_count(raw: Any) -> int | None:
    """A revision or a level as a form sends it: digits only."""
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) < 10 else None


def typed_password(form: Any) -> tuple[str, dict[str, str]]:
    """A new password typed twice: the password, and the field error when the two differ."""
    password = str(form.get("password") or "")
    if password != str(form.get("password_again") or ""):
        return password, {"password_again": "The two passwords are not the same."}
    return password, {}


def parse_chosen_levels(raw: list[Any]) -> tuple[list[tuple[UUID, int]], bool]:
    """The (order id, level) pairs of a bulk choice, each sent as "id:level" (at most MAX_IDS);
    True when one of them is not such a pair."""
    chosen = []
    for value in raw[:MAX_IDS]:
        order_text, _, level_text = str(value or "").partition(":")
        order_id, level = parse_uuid(order_text), parse_count(level_text)
        if order_id is None or level is None:
            return [], True
        chosen.append((order_id, level))
    return chosen, False
