"""The order's timeline, written in the transaction of what it records; each entry also goes
to the organisation's activity log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from portal.activity.log import RequestOrigin, Subject, SubjectKind, log_action
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
    await OrderEvent.insert(
        OrderEvent(
            order=order_id,
            organisation=organisation_id,
            actor=actor_id,
            kind=kind.value,
            message=message[:2000],
            data=dict(data or {}),
        )
    ).run()
    await log_action(
        kind.action,
        organisation_id=organisation_id,
        about=Subject(SubjectKind.ORDER, order_id),
        actor_id=actor_id,
        origin=origin,
        data={"order": str(order_id), "message": message[:500], **(data or {})},
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
