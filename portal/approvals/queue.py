"""The approver's queue: the orders waiting at a level this principal may decide now.

Who may decide each waiting order is kept in `approval_eligibility` (see `eligibility`), in
the transactions that change it; the queue, its count and the dashboard's widget are one
indexed query over it, with the filters applied in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from portal.approvals.tables import ApprovalEligibility
from portal.db import HotQuery
from portal.orders.queries import OrderRow, row_of
from portal.orders.tables import Order
from portal.orders.validation import parse_money
from portal.permissions.principal import Principal
from portal.users.tables import User

MAX_AGE_DAYS = 3650


@dataclass(frozen=True, slots=True)
class QueueFilters:
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    requester: UUID | None = None
    cost_centre: str = ""
    older_than_days: int | None = None


@dataclass(frozen=True, slots=True)
class QueueItem:
    row: OrderRow
    level: int
    revision: int
    notes: str
    level_started_at: datetime | None
    escalated: bool


@dataclass(frozen=True, slots=True)
class Queue:
    items: list[QueueItem]
    total: int


def parse_filters(params: Mapping[str, str]) -> tuple[QueueFilters, dict[str, str]]:
    """Filters from a query string; a bad value gets a message and is left out."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("min_amount", "max_amount"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                values[name] = parse_money(raw)
            except ValueError as error:
                errors[name] = str(error)
    raw_requester = (params.get("requester") or "").strip()
    if raw_requester:
        try:
            values["requester"] = UUID(raw_requester)
        except ValueError:
            errors["requester"] = "Choose a requester from the list."
    values["cost_centre"] = (params.get("cost_centre") or "").strip()[:60]
    raw_age = (params.get("older_than_days") or "").strip()
    if raw_age:
        if raw_age.isdigit() and int(raw_age) <= MAX_AGE_DAYS:
            values["older_than_days"] = int(raw_age)
        else:
            errors["older_than_days"] = f"Enter a number of days from 0 to {MAX_AGE_DAYS}."
    return QueueFilters(**values), errors


_ELIGIBILITY = ApprovalEligibility._meta.tablename
_ORDER_JOIN = f' JOIN "{Order._meta.tablename}" o ON o."id" = e."order"'
_COLUMNS = (
    'o."id"',
    'o."number"',
    'o."kind"',
    'o."description"',
    'o."quantity"',
    'o."estimated_cost"',
    'o."currency"',
    'o."cost_centre"',
    'o."status"',
    'r."id" AS "requester_id"',
    'r."full_name" AS "requester_name"',
    'o."created_at"',
    'o."submitted_at"',
    'o."notes"',
    'o."level_started_at"',
    'o."escalated"',
    'e."level"',
    'e."revision"',
)
_FILTERS = {
    "min_amount": 'o."estimated_cost" >= {}',
    "max_amount": 'o."estimated_cost" <= {}',
    "requester": 'o."requester" = {}',
    "cost_centre": 'o."cost_centre" = {}',
    "older_than_days": 'e."submitted_at" <= {}',
}


@lru_cache(maxsize=64)
def _queue_query(used: tuple[str, ...]) -> HotQuery:
    """The queue's SQL text for the filters in use, built from the table definitions; every
    value is a bound parameter. The count is a subquery of the same statement, over the index
    alone when nothing about the order is filtered."""
    where = " AND ".join(
        ['e."organisation" = {}', 'e."approver" = {}', *(_FILTERS[name] for name in used)]
    )
    joined = any(_FILTERS[name].startswith("o.") for name in used)
    counted = f'"{_ELIGIBILITY}" e' + (_ORDER_JOIN if joined else "")
    return HotQuery(
        f"SELECT {', '.join(_COLUMNS)}, "  # noqa: S608
        f"(SELECT count(*) FROM {counted} WHERE {where}) AS total "
        f'FROM "{_ELIGIBILITY}" e{_ORDER_JOIN} '
        f'JOIN "{User._meta.tablename}" r ON r."id" = o."requester" '
        f'WHERE {where} ORDER BY e."submitted_at", e."order" LIMIT {{}}'
    )


async def approver_queue(
    user_id: UUID,
    organisation_id: UUID,
    filters: QueueFilters = QueueFilters(),
    limit: int = 100,
) -> Queue:
    """Oldest first. `total` counts every order the principal may decide, beyond `limit`:
    one indexed query over `approval_eligibility`, whatever the number waiting."""
    used = tuple(name for name in _FILTERS if getattr(filters, name) not in (None, ""))
    args = [organisation_id, user_id, *(_bound_value(filters, name) for name in used)]
    rows = await _queue_query(used).fetch(*args, *args, limit)
    if not rows:
        return Queue([], 0)
    items = [
        QueueItem(
            row_of(row),
            row["level"],
            row["revision"],
            row["notes"],
            row["level_started_at"],
            bool(row["escalated"]),
        )
        for row in rows
    ]
    return Queue(items, int(rows[0]["total"]))


def _bound_value(filters: QueueFilters, name: str) -> Any:
    if name == "older_than_days":
        assert filters.older_than_days is not None
        return datetime.now(UTC) - timedelta(days=filters.older_than_days)
    return getattr(filters, name)


async def queue_of(
    principal: Principal, filters: QueueFilters = QueueFilters(), limit: int = 100
) -> Queue:
    """The signed-in principal's queue."""
    return await approver_queue(principal.user_id, principal.organisation_id, filters, limit)
