"""Reading the activity log: newest first, one organisation's only."""

from __future__ import annotations

import json
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
            ActivityEvent.subject.full_name.as_alias("subject_name"),
            ActivityEvent.data,
        )
        .where(ActivityEvent.organisation == organisation_id)
        .order_by(ActivityEvent.occurred_at, ascending=False)
        .limit(limit)
    )
    for row in rows:
        # SQLite hands JSON back as text, PostgreSQL as text too unless asked: one shape here.
        if isinstance(row["data"], str):
            row["data"] = json.loads(row["data"] or "{}")
    return rows
