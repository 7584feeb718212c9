"""The activity log as CSV or JSON lines: every event the filter matches, streamed in chunks so
that a year of events never sits in memory."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar.response import Stream

from portal.activity.filters import ActivityFilter
from portal.activity.labels import ACTION_LABELS
from portal.activity.queries import EventRow, all_events
from portal.spreadsheets import csv_text, safe_cell

HEADER = (
    "occurred_at",
    "action",
    "what",
    "actor_id",
    "actor_name",
    "actor_email",
    "subject_kind",
    "subject_id",
    "subject",
    "changes",
    "reason",
    "ip",
    "user_agent",
    "method",
    "data",
)


def record_of(event: EventRow) -> dict[str, Any]:
    """One event as the export writes it: everything the log holds, in plain values."""
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "action": event.action,
        "what": ACTION_LABELS.get(event.action, event.action),
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_name": event.actor_name,
        "actor_email": event.actor_email,
        "subject_kind": event.subject_kind or None,
        "subject_id": str(event.subject_ref) if event.subject_ref else None,
        "subject": event.subject.label if event.subject else None,
        "changes": event.changes,
        "reason": event.why or event.reason or None,
        "ip": event.ip or None,
        "user_agent": event.user_agent or None,
        "method": event.method or None,
        "data": event.data,
    }


def csv_cells(record: dict[str, Any]) -> list[str]:
    cells = []
    for name in HEADER:
        value = record[name]
        if name == "changes":
            value = "; ".join(value)
        elif name == "data":
            value = json.dumps(value, sort_keys=True, ensure_ascii=False)
        cells.append(safe_cell("" if value is None else str(value)))
    return cells


async def _chunks(
    organisation_id: UUID, wanted: ActivityFilter, write: Callable[[list[EventRow]], str]
) -> AsyncIterator[str]:
    async for events in all_events(organisation_id, wanted):
        yield write(events)


def _csv(events: list[EventRow]) -> str:
    return csv_text(csv_cells(record_of(event)) for event in events)


def _json_lines(events: list[EventRow]) -> str:
    return "".join(
        json.dumps(record_of(event), ensure_ascii=False, default=str) + "\n" for event in events
    )


async def _with_header(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    yield csv_text([HEADER])
    async for chunk in chunks:
        yield chunk


def export(organisation_id: UUID, wanted: ActivityFilter, as_csv: bool) -> Stream:
    stamp = f"{datetime.now(UTC):%Y-%m-%d}"
    if as_csv:
        body = _with_header(_chunks(organisation_id, wanted, _csv))
        media_type, filename = "text/csv; charset=utf-8", f"activity-{stamp}.csv"
    else:
        body = _chunks(organisation_id, wanted, _json_lines)
        media_type, filename = "application/x-ndjson", f"activity-{stamp}.jsonl"
    return Stream(
        body,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
