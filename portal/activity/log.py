"""Writing the activity log. Call inside the transaction of the change being recorded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


async def log_action(
    action: str,
    *,
    organisation_id: UUID | None,
    actor_id: UUID | None = None,
    subject_id: UUID | None = None,
    origin: RequestOrigin = RequestOrigin(),
    method: str = "",
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    await ActivityEvent.insert(
        ActivityEvent(
            organisation=organisation_id,
            actor=actor_id,
            subject=subject_id,
            action=action,
            ip=origin.ip[:45],
            user_agent=origin.user_agent[:400],
            method=method,
            reason=reason,
            data=dict(data or {}),
        )
    ).run()
