"""Reading the activity log: newest first, one organisation's only."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from portal.activity.tables import ActivityEvent


async def recent_events(organisation_id: UUID, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ActivityEvent.select(
            ActivityEvent.occurred_at,
            ActivityEvent.action,
            ActivityEvent.ip,
            ActivityEvent.user_agent,
            ActivityEvent.method,
            ActivityEvent.reason,
            ActivityEvent.actor.full_name.as_alias("actor_name"),
            ActivityEvent.subject.email.as_alias("subject_email"),
        )
        .where(ActivityEvent.organisation == organisation_id)
        .order_by(ActivityEvent.occurred_at, ascending=False)
        .limit(limit)
    )
    return rows
