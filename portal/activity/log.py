"""Writing the activity log. Call inside the transaction of the change being recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from portal.activity.tables import ActivityEvent


@dataclass(frozen=True, slots=True)
class RequestOrigin:
    """Where an action came from, as the activity log records it."""

    ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, in which organisation, and from where: the activity log records all three."""

    user_id: UUID
    organisation_id: UUID
    origin: RequestOrigin = RequestOrigin()


class SubjectKind(StrEnum):
    """What an event can be about; the log shows each by its current name, with a link."""

    USER = "user"
    ORDER = "order"
    APPROVAL_POLICY = "approval_policy"
    PERMISSION_POLICY = "permission_policy"
    ROLE = "role"
    SERVICE = "service"
    COST_CENTRE = "cost_centre"
    ORGANISATION = "organisation"


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: UUID


async def log_action(
    action: str,
    *,
    organisation_id: UUID | None,
    actor_id: UUID | None = None,
    subject_id: UUID | None = None,
    about: Subject | None = None,
    origin: RequestOrigin = RequestOrigin(),
    method: str = "",
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    """`subject_id` is the person the event concerns; `about` the thing it is about, which
    is that person unless said otherwise."""
    await log_events(
        [
            activity_event(
                action,
                organisation_id=organisation_id,
                actor_id=actor_id,
                subject_id=subject_id,
                about=about,
                origin=origin,
                method=method,
                reason=reason,
                data=data,
            )
        ]
    )


async def log_events(events: Sequence[ActivityEvent]) -> None:
    """Several events of one change in one statement (rows from `activity_event`)."""
    await ActivityEvent.insert(*events).run()


def activity_event(
    action: str,
    *,
    organisation_id: UUID | None,
    actor_id: UUID | None = None,
    subject_id: UUID | None = None,
    about: Subject | None = None,
    origin: RequestOrigin = RequestOrigin(),
    method: str = "",
    reason: str = "",
    data: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> ActivityEvent:
    """One event's row, as `log_action` writes it."""
    if about is None and subject_id is not None:
        about = Subject(SubjectKind.USER, subject_id)
    event = ActivityEvent(
        organisation=organisation_id,
        actor=actor_id,
        subject=subject_id,
        subject_kind=about.kind.value if about else "",
        subject_ref=about.id if about else None,
        action=action,
        ip=origin.ip[:45],
        user_agent=origin.user_agent[:400],
        method=method,
        reason=reason,
        data=dict(data or {}),
    )
    if occurred_at is not None:
        event.occurred_at = occurred_at
    return event
