"""The order's timeline, written in the transaction of what it records; each entry also goes
to the organisation's activity log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from piccolo.utils.encoding import dump_json

from portal.activity.log import (
    RequestOrigin,
    Subject,
    SubjectKind,
    activity_event,
    log_events,
)
from portal.db import insert_many
from portal.orders.tables import OrderEvent


class EventKind(StrEnum):
    DRAFTED = "drafted"
    SUBMITTED = "submitted"
    EDITED = "edited"
    EVALUATED = "evaluated"
    APPROVAL_GIVEN = "approval_given"
    LEVEL_REACHED = "level_reached"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    FELL_TO_ADMINS = "fell_to_admins"

    @property
    def action(self) -> str:
        """The activity log's name for it."""
        return f"order.{self.value}"


LABELS: Mapping[EventKind, str] = {
    EventKind.DRAFTED: "Saved as a draft",
    EventKind.SUBMITTED: "Submitted",
    EventKind.EDITED: "Edited",
    EventKind.EVALUATED: "Approval policies evaluated",
    EventKind.APPROVAL_GIVEN: "Approved by an approver",
    EventKind.LEVEL_REACHED: "Waiting for the next approval level",
    EventKind.APPROVED: "Order approved",
    EventKind.REJECTED: "Order rejected",
    EventKind.CANCELLED: "Order cancelled",
    EventKind.REMINDED: "Approvers reminded",
    EventKind.ESCALATED: "Escalated to admins",
    EventKind.FELL_TO_ADMINS: "No approver left: passed to the admins",
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    occurred_at: datetime
    kind: EventKind
    actor_name: str | None
    message: str

    @property
    def label(self) -> str:
        return LABELS[self.kind]


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing that happened to an order, for `record`."""

    kind: EventKind
    message: str
    actor_id: UUID | None = None
    origin: RequestOrigin = RequestOrigin()
    data: Mapping[str, Any] | None = None


async def record(
    order_id: UUID,
    organisation_id: UUID,
    kind: EventKind,
    message: str,
    *,
    actor_id: UUID | None = None,
    origin: RequestOrigin = RequestOrigin(),
    data: Mapping[str, Any] | None = None,
) -> None:
    await record_all(order_id, organisation_id, [Entry(kind, message, actor_id, origin, data)])


async def record_all(order_id: UUID, organisation_id: UUID, entries: Sequence[Entry]) -> None:
    """What one step did to an order, in two statements whatever the number of entries: the
    timeline's rows and the activity log's. Each entry is a microsecond after the one before,
    so that both keep the order they happened in."""
    start = datetime.now(UTC)
    times = [start + timedelta(microseconds=n) for n in range(len(entries))]
    await insert_many(
        OrderEvent,
        ("id", "order", "organisation", "actor", "kind", "message", "data", "occurred_at"),
        [
            (
                uuid4(),
                order_id,
                organisation_id,
                entry.actor_id,
                entry.kind.value,
                entry.message[:2000],
                dump_json(dict(entry.data or {})),
                at,
            )
            for entry, at in zip(entries, times, strict=True)
        ],
    )
    await log_events(
        [
            activity_event(
                entry.kind.action,
                organisation_id=organisation_id,
                about=Subject(SubjectKind.ORDER, order_id),
                actor_id=entry.actor_id,
                origin=entry.origin,
                data={"order": str(order_id), "message": entry.message[:500], **(entry.data or {})},
                occurred_at=at,
            )
            for entry, at in zip(entries, times, strict=True)
        ]
    )


async def timeline(order_id: UUID) -> list[TimelineEntry]:
    rows = (
        await OrderEvent.select(
            OrderEvent.occurred_at,
            OrderEvent.kind,
            OrderEvent.message,
            OrderEvent.actor.full_name.as_alias("actor_name"),
        )
        .where(OrderEvent.order == order_id)
        .order_by(OrderEvent.occurred_at)
        .order_by(OrderEvent.id)
    )
    return [
        TimelineEntry(row["occurred_at"], EventKind(row["kind"]), row["actor_name"], row["message"])
        for row in rows
    ]
