"""Reading the activity log: one organisation's events, newest first, filtered, in keyset
pages (a deep page costs what the first does) or streamed whole for an export."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine

from portal.activity.changes import changes_of
from portal.activity.filters import ActivityFilter, matching_actions
from portal.activity.log import SubjectKind
from portal.activity.subjects import SOURCES, Named, names_of
from portal.activity.tables import ActivityEvent
from portal.db import engine
from portal.orders.tables import Order
from portal.pagination import decode_cursor, encode_cursor
from portal.users.tables import User

PAGE_SIZE = 50
EXPORT_CHUNK = 1000
ORDER_NUMBER = re.compile(r"^(?:order\s*)?#?(\d{1,9})$", re.IGNORECASE)

COLUMNS = (
    ActivityEvent.id,
    ActivityEvent.occurred_at,
    ActivityEvent.action,
    ActivityEvent.actor,
    ActivityEvent.actor.full_name.as_alias("actor_name"),
    ActivityEvent.actor.email.as_alias("actor_email"),
    ActivityEvent.subject_kind,
    ActivityEvent.subject_ref,
    ActivityEvent.ip,
    ActivityEvent.user_agent,
    ActivityEvent.method,
    ActivityEvent.reason,
    ActivityEvent.data,
)


@dataclass(frozen=True, slots=True)
class EventRow:
    id: UUID
    occurred_at: datetime
    action: str
    actor_id: UUID | None
    actor_name: str | None
    actor_email: str | None
    subject_kind: str
    subject_ref: UUID | None
    subject: Named | None
    ip: str
    user_agent: str
    method: str
    reason: str
    data: dict[str, Any]
    changes: list[str]

    @property
    def why(self) -> str:
        """The reason a person gave (a rejection, a deactivation), if any."""
        given = self.data.get("reason")
        return given if isinstance(given, str) else ""


@dataclass(frozen=True, slots=True)
class EventPage:
    rows: list[EventRow]
    next_cursor: str | None


def _like(pattern: str) -> str:
    return "%" + pattern.replace("\\", "").replace("%", "").replace("_", "") + "%"


def _search(organisation_id: UUID, text: str) -> Any:
    """Any event whose action, people, subject, address or recorded data holds the text."""
    pattern = _like(text)
    people = User.select(User.id).where(
        (User.organisation == organisation_id)
        & (User.full_name.ilike(pattern) | User.email.ilike(pattern))
    )
    in_data = '"data"::text ILIKE {}' if isinstance(engine(), PostgresEngine) else '"data" LIKE {}'
    condition: Any = (
        ActivityEvent.actor.is_in(people)
        | ActivityEvent.subject_ref.is_in(people)
        | ActivityEvent.ip.ilike(pattern)
        | WhereRaw(in_data, pattern)
    )
    for kind, source in SOURCES.items():
        if kind is not SubjectKind.USER and kind is not SubjectKind.ORDER:
            condition |= ActivityEvent.subject_ref.is_in(source.search(organisation_id, pattern))
    number = ORDER_NUMBER.match(text)
    if number:
        orders = Order.select(Order.id).where(
            (Order.organisation == organisation_id) & (Order.number == int(number.group(1)))
        )
        condition |= ActivityEvent.subject_ref.is_in(orders)
    actions = matching_actions(text)
    if actions:
        condition |= ActivityEvent.action.is_in(actions)
    return condition


def condition_for(organisation_id: UUID, wanted: ActivityFilter) -> Any:
    condition: Any = ActivityEvent.organisation == organisation_id
    if wanted.since:
        condition &= ActivityEvent.occurred_at >= wanted.since
    if wanted.until:
        condition &= ActivityEvent.occurred_at < wanted.until
    if wanted.actor_id:
        condition &= ActivityEvent.actor == wanted.actor_id
    if wanted.by_portal:
        condition &= ActivityEvent.actor.is_null()
    if wanted.action:
        condition &= ActivityEvent.action == wanted.action
    if wanted.kind:
        condition &= ActivityEvent.subject_kind == wanted.kind.value
    if wanted.about:
        condition &= ActivityEvent.subject_ref == wanted.about
    if wanted.person:
        condition &= (ActivityEvent.actor == wanted.person) | (
            ActivityEvent.subject == wanted.person
        )
    if wanted.ip_prefix:
        condition &= ActivityEvent.ip.like(wanted.ip_prefix + "%")
    if wanted.search:
        condition &= _search(organisation_id, wanted.search)
    return condition


def _before(occurred_at: datetime | str, event_id: UUID) -> WhereRaw:
    # A row-value comparison: only this form lets the database walk the (organisation,
    # occurred_at, id) index backwards from the cursor.
    return WhereRaw(
        '("activity_event"."occurred_at", "activity_event"."id") < ({}, {})', occurred_at, event_id
    )


async def _rows(condition: Any, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ActivityEvent.select(*COLUMNS)
        .where(condition)
        .order_by(ActivityEvent.occurred_at, ActivityEvent.id, ascending=False)
        .limit(limit)
    )
    for row in rows:
        # SQLite hands JSON back as text, PostgreSQL as text too unless asked: one shape here.
        if isinstance(row["data"], str):
            row["data"] = json.loads(row["data"] or "{}")
    return rows


async def _shown(organisation_id: UUID, rows: list[dict[str, Any]]) -> list[EventRow]:
    names = await names_of(organisation_id, ((r["subject_kind"], r["subject_ref"]) for r in rows))
    return [
        EventRow(
            id=row["id"],
            occurred_at=row["occurred_at"],
            action=row["action"],
            actor_id=row["actor"],
            actor_name=row["actor_name"],
            actor_email=row["actor_email"],
            subject_kind=row["subject_kind"],
            subject_ref=row["subject_ref"],
            subject=names.get(row["subject_ref"]) if row["subject_ref"] else None,
            ip=row["ip"],
            user_agent=row["user_agent"],
            method=row["method"],
            reason=row["reason"],
            data=row["data"],
            changes=changes_of(row["data"]),
        )
        for row in rows
    ]


async def event_page(organisation_id: UUID, wanted: ActivityFilter) -> EventPage:
    condition = condition_for(organisation_id, wanted)
    if wanted.after:
        value, last_id = decode_cursor(wanted.after)
        condition &= _before(datetime.fromisoformat(value), last_id)
    rows = await _rows(condition, PAGE_SIZE + 1)
    next_cursor = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_cursor = encode_cursor(rows[-1]["occurred_at"].isoformat(), rows[-1]["id"])
    return EventPage(await _shown(organisation_id, rows), next_cursor)


async def all_events(
    organisation_id: UUID, wanted: ActivityFilter, chunk: int = EXPORT_CHUNK
) -> AsyncIterator[list[EventRow]]:
    """Every event the filter matches, newest first, in keyset chunks of `chunk` rows."""
    condition = condition_for(organisation_id, wanted.first_page())
    last: tuple[datetime, UUID] | None = None
    while True:
        rows = await _rows(condition if last is None else condition & _before(*last), chunk)
        if rows:
            yield await _shown(organisation_id, rows)
        if len(rows) < chunk:
            return
        last = (rows[-1]["occurred_at"], rows[-1]["id"])


async def people_of(organisation_id: UUID) -> list[dict[str, Any]]:
    """Everyone of the organisation, for the "who" filter."""
    rows: list[dict[str, Any]] = (
        await User.select(User.id, User.full_name, User.email)
        .where(User.organisation == organisation_id)
        .order_by(User.full_name)
    )
    return rows
