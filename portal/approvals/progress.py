"""An order as the approval engine reads it: its row, its snapshot as steps, the decisions of
its revision, and where it stands now. Read by the engine, the queue and the order page alike,
so that they all agree on who may decide."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from piccolo.querystring import QueryString

from portal.approvals.directory import load_directory
from portal.approvals.policies import json_list
from portal.approvals.rules import (
    Decision,
    Directory,
    OrderFacts,
    Progress,
    Step,
    progress,
    snapshot_steps,
)
from portal.db import engine, row_lock_clause
from portal.orders.tables import Order, OrderDecision
from portal.organisations.tables import Organisation
from portal.users.tables import User


def _order_query() -> str:
    """The order as the engine reads it, with its organisation's approval settings and its
    requester's name and address: SQL text built once from the table definitions (every
    evaluation, decision and reminder reads it), values bound. Callers add the WHERE."""
    order, organisation, user = (
        Order._meta.tablename,
        Organisation._meta.tablename,
        User._meta.tablename,
    )
    own = [f'o."{c._meta.db_column_name}"' for c in _ORDER_FIELDS]
    joined = [f'g."{c._meta.db_column_name}" AS "{alias}"' for alias, c in _SETTINGS.items()]
    joined += [f'r."{c._meta.db_column_name}" AS "{alias}"' for alias, c in _REQUESTER.items()]
    return (
        f'SELECT {", ".join(own + joined)} FROM "{order}" o '  # noqa: S608
        f'JOIN "{organisation}" g ON g."id" = o."organisation" '
        f'JOIN "{user}" r ON r."id" = o."requester"'
    )


_ORDER_FIELDS = (
    Order.id,
    Order.organisation,
    Order.number,
    Order.requester,
    Order.kind,
    Order.description,
    Order.quantity,
    Order.estimated_cost,
    Order.currency,
    Order.cost_centre,
    Order.status,
    Order.revision,
    Order.snapshot,
    Order.current_level,
    Order.escalated,
    Order.remind_at,
    Order.escalate_at,
    Order.submitted_at,
)
_SETTINGS = {
    "organisation_name": Organisation.name,
    "reminder_hours": Organisation.approval_reminder_hours,
    "escalation_hours": Organisation.approval_escalation_hours,
    "distinct_levels": Organisation.approval_distinct_levels,
}
_REQUESTER = {"requester_name": User.full_name, "requester_email": User.email}
ORDER_QUERY = _order_query()
_LOCKED_ORDER = ORDER_QUERY + ' WHERE o."id" = {}'
_LOCKED_ORGANISATION_ORDER = _LOCKED_ORDER + ' AND o."organisation" = {}'


def steps_of(order: Mapping[str, Any]) -> tuple[Step, ...]:
    """The order's snapshot as steps. Parsed once per distinct snapshot text: the queue reads
    every waiting order's snapshot on each visit, and a snapshot never changes once stored."""
    value = order["snapshot"]
    if isinstance(value, str):
        return _steps_from_text(value)
    return snapshot_steps(value or {})


@lru_cache(maxsize=50_000)
def _steps_from_text(text: str) -> tuple[Step, ...]:
    return snapshot_steps(json.loads(text) or {})


async def locked_order(
    order_id: UUID, organisation_id: UUID | None = None
) -> dict[str, Any] | None:
    """Call inside write_transaction(): the order, held until the transaction ends."""
    lock = row_lock_clause("o")
    if organisation_id is None:
        query = QueryString(_LOCKED_ORDER + lock, order_id)
    else:
        query = QueryString(_LOCKED_ORGANISATION_ORDER + lock, order_id, organisation_id)
    rows = await engine().run_querystring(query)
    return dict(rows[0]) if rows else None


async def revision_decisions(order_id: UUID, revision: int) -> list[Decision]:
    rows = await OrderDecision.select(
        OrderDecision.approver, OrderDecision.level, OrderDecision.approve, OrderDecision.counts_for
    ).where((OrderDecision.order == order_id) & (OrderDecision.revision == revision))
    return [decision_of(row) for row in rows]


def decision_of(row: Mapping[str, Any]) -> Decision:
    """A recorded decision, with the steps it counts for as they were when it was taken."""
    return Decision(
        row["approver"],
        row["level"],
        row["approve"],
        frozenset(UUID(step) for step in json_list(row["counts_for"])),
    )


async def current_progress(
    order: Mapping[str, Any],
    directory: Directory | None = None,
) -> Progress:
    """Where a pending order stands now: its snapshot, its revision's decisions, and the
    organisation's people as they are now."""
    decisions = await revision_decisions(order["id"], order["revision"])
    directory = directory or await load_directory(
        order["organisation"], distinct_levels=order["distinct_levels"]
    )
    return progress(
        steps_of(order),
        decisions,
        order["requester"],
        directory,
        order["escalated"],
        order["current_level"],
    )


def facts_of(order: Mapping[str, Any]) -> OrderFacts:
    return OrderFacts(
        kind=order["kind"],
        estimated_cost=Decimal(order["estimated_cost"]),
        cost_centre=order["cost_centre"],
        requester=order["requester"],
    )


def level_timers(order: Mapping[str, Any], now: datetime) -> dict[Any, Any]:
    """A new level starts its clocks: reminder and escalation, from the organisation's settings."""
    return {
        Order.level_started_at: now,
        Order.remind_at: now + timedelta(hours=order["reminder_hours"]),
        Order.escalate_at: now + timedelta(hours=order["escalation_hours"]),
        Order.escalated: False,
    }
