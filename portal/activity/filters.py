"""What an auditor asks of the activity log, read from the address bar: the filters, the
search and the page. Pure: a wrong value becomes a field message, never an exception."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from portal.activity.labels import ACTION_LABELS
from portal.activity.log import SubjectKind
from portal.forms import parse_uuid
from portal.text import CONTROL_MESSAGE, has_control_characters

MAX_SEARCH = 200
MAX_ADDRESS = 45
NOBODY = "portal"  # "who" for what the portal did by itself
ADDRESS = re.compile(r"^[0-9A-Fa-f:.]*$")
# The fields of the filter form, in the order of its query string.
FIELDS = ("from", "to", "who", "action", "kind", "about", "ip", "q")

KIND_LABELS = {
    SubjectKind.USER: "Users",
    SubjectKind.ORDER: "Orders",
    SubjectKind.APPROVAL_POLICY: "Approval policies",
    SubjectKind.PERMISSION_POLICY: "Permission policies",
    SubjectKind.ROLE: "Roles",
    SubjectKind.SERVICE: "Services",
    SubjectKind.COST_CENTRE: "Cost centres",
    SubjectKind.ORGANISATION: "The organisation",
}


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """Every condition is optional; together they narrow one organisation's events."""

    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive: the day after the "to" date
    actor_id: UUID | None = None
    by_portal: bool = False  # only what nobody signed in did
    action: str | None = None
    kind: SubjectKind | None = None
    about: UUID | None = None
    ip_prefix: str = ""
    search: str = ""
    # The per-user tab: what the person did or what was done about them.
    person: UUID | None = None
    after: str | None = None
    # The form's own values, to fill it in again and to carry the filter into links.
    typed: Mapping[str, str] = field(default_factory=dict)

    def query_string(self, **extra: str) -> str:
        """The filter as a query string (without the page), plus `extra` parameters."""
        pairs = [(name, self.typed[name]) for name in FIELDS if self.typed.get(name)]
        return urlencode(pairs + [(name, value) for name, value in extra.items() if value])

    def first_page(self) -> ActivityFilter:
        return replace(self, after=None)


def _day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Give a date as YYYY-MM-DD."
        return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def parse_filter(params: Mapping[str, Any]) -> tuple[ActivityFilter, dict[str, str]]:
    """The filter the query parameters ask for, and a message per field that is wrong (a wrong
    field is left out of the filter, so the page still shows something)."""
    typed = {name: str(params.get(name) or "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    for name, value in typed.items():
        if has_control_characters(value):
            errors[name] = CONTROL_MESSAGE
            typed[name] = ""
    first, last = _day(typed["from"], "from", errors), _day(typed["to"], "to", errors)
    if first and last and first > last:
        errors["to"] = "The end date is before the start date."
        last = None
    who, actor_id = typed["who"], None
    if who and who != NOBODY:
        actor_id = parse_uuid(who)
        if actor_id is None:
            errors["who"] = "Choose someone from the list."
    action = typed["action"] or None
    if action and action not in ACTION_LABELS:
        errors["action"] = "Choose an action from the list."
        action = None
    kind = None
    if typed["kind"]:
        try:
            kind = SubjectKind(typed["kind"])
        except ValueError:
            errors["kind"] = "Choose a kind from the list."
    about = parse_uuid(typed["about"]) if typed["about"] else None
    if typed["about"] and about is None:
        errors["about"] = "That link is not valid; start from the full log."
    address = typed["ip"]
    if len(address) > MAX_ADDRESS or not ADDRESS.match(address):
        errors["ip"] = "Give an IP address or its beginning, such as 192.0.2."
        address = ""
    search = typed["q"]
    if len(search) > MAX_SEARCH:
        errors["q"] = f"Search for at most {MAX_SEARCH} characters."
        search = ""
    wanted = ActivityFilter(
        since=_start_of(first) if first else None,
        until=_start_of(last) + timedelta(days=1) if last else None,
        actor_id=actor_id,
        by_portal=who == NOBODY,
        action=action,
        kind=kind,
        about=about,
        ip_prefix=address,
        search=search,
        after=str(params.get("after") or "") or None,
        typed={name: value for name, value in typed.items() if name not in errors},
    )
    return wanted, errors


def matching_actions(search: str) -> list[str]:
    """The actions whose label or name holds the search text, ignoring case."""
    needle = search.casefold()
    return [
        action
        for action, label in ACTION_LABELS.items()
        if needle in label.casefold() or needle in action
    ]
