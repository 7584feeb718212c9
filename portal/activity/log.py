"""Writing the activity log. Call inside the transaction of the change being recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from piccolo.utils.encoding import dump_json

from portal.activity.tables import ActivityEvent
from portal.db import insert_many

EVENT_COLUMNS = (
    "id",
    "organisation",
    "actor",
    "subject",
    "subject_kind",
    "subject_ref",
    "action",
    "occurred_at",
    "ip",
    "user_agent",
    "method",
    "reason",
    "data",
)


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


async def log_events(events: Sequence[Sequence[Any]]) -> None:
    """Several events of one change in one statement (rows from `activity_event`)."""
    await insert_many(ActivityEvent, EVENT_COLUMNS, events)


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
) -> tuple[Any, ...]:
    """One event's row (EVENT_COLUMNS), as `log_action` writes it."""
    if about is None and subject_id is not None:
        about = Subject(SubjectKind.USER, subject_id)
    return (
        uuid4(),
        organisation_id,
        actor_id,
        subject_id,
        about.kind.value if about else "",
        about.id if about else None,
        action,
        occurred_at or datetime.now(UTC),
        origin.ip[:45],
        origin.user_agent[:400],
        method,
        reason,
        dump_json(dict(data or {})),
    )
