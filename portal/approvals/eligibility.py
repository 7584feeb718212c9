"""Who may decide each waiting order now, kept as rows of `approval_eligibility`: what the
queue, its count and the dashboard widget read, with one indexed query however many wait.

The rows hold a pure rule (`rules.waiting_deciders`) over the order's snapshot, its revision's
decisions and the organisation's people as they are now. Whatever changes one of those
rewrites them in its own transaction: the engine's steps for their order (`write_for_order`),
and `refresh_for_organisation` for a change of who is active or an admin, or of the rule that
each level needs a different person.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from piccolo.querystring import QueryString

from portal.approvals.directory import load_directory
from portal.approvals.progress import decision_of, revision_decisions, steps_of
from portal.approvals.rules import Decision, Directory, progress, waiting_deciders
from portal.approvals.tables import ApprovalEligibility
from portal.db import engine, for_update, insert_many, lock_organisation
from portal.orders.tables import Order, OrderDecision

TABLE = ApprovalEligibility._meta.tablename

_DELETE_FOR_ORDER = f'DELETE FROM "{TABLE}" WHERE "order" = {{}}'  # noqa: S608
_DELETE_FOR_ORGANISATION = f'DELETE FROM "{TABLE}" WHERE "organisation" = {{}}'  # noqa: S608
COLUMNS = ("id", "order", "organisation", "revision", "level", "approver", "submitted_at")

Row = tuple[UUID, UUID, UUID, int, int, UUID, datetime | None]


def rows_for(order: Mapping[str, Any], level: int | None, deciders: Iterable[UUID]) -> list[Row]:
    """The rows of one order waiting on `level` (none once it no longer waits)."""
    if level is None:
        return []
    return [
        (
            uuid4(),
            order["id"],
            order["organisation"],
            order["revision"],
            level,
            person,
            order["submitted_at"],
        )
        for person in sorted(deciders)
    ]


async def insert_rows(rows: Sequence[Row]) -> None:
    await insert_many(ApprovalEligibility, COLUMNS, rows)


async def write_for_order(
    order: Mapping[str, Any],
    level: int | None,
    deciders: Collection[UUID],
    *,
    had_rows: bool = True,
) -> None:
    """Call in the transaction that moved the order: its rows become `deciders` at `level`.
    `had_rows=False` for an order just evaluated, which has none yet."""
    if had_rows:
        await engine().run_querystring(QueryString(_DELETE_FOR_ORDER, order["id"]))
    await insert_rows(rows_for(order, level, deciders))


async def refresh_for_order(order: Mapping[str, Any], directory: Directory) -> None:
    """Call in the transaction that changed how the order waits (escalated to the admins)."""
    level = order["current_level"]
    decisions = await revision_decisions(order["id"], order["revision"])
    deciders = waiting_deciders(
        steps_of(order), level, order["requester"], directory, order["escalated"], decisions
    )
    await write_for_order(order, level, deciders)


async def clear_for_order(order_id: UUID) -> None:
    """Call in the transaction that takes the order out of waiting (cancelled, reset)."""
    await engine().run_querystring(QueryString(_DELETE_FOR_ORDER, order_id))


async def refresh_for_organisation(organisation_id: UUID) -> list[UUID]:
    """Call in the transaction that changed who may decide across the organisation (a person
    deactivated, reactivated or added, a tier changed, the different-person rule), after the
    change: every waiting order's rows are worked out again. Returns the waiting orders whose
    level the change left complete (fewer people left to approve than it asked for, and each
    of them has): `approvals.completion` moves them on."""
    # Serialised with the other organisation-wide changes, and holding every order an
    # evaluation or a decision could be writing the rows of meanwhile: those finish first
    # and are read as they committed; those that start later read the people as changed.
    await lock_organisation(organisation_id)
    held = await for_update(
        Order.select(
            Order.id,
            Order.organisation,
            Order.requester,
            Order.status,
            Order.revision,
            Order.snapshot,
            Order.current_level,
            Order.escalated,
            Order.submitted_at,
        ).where(
            (Order.organisation == organisation_id)
            & Order.status.is_in(["submitted", "pending_approval"])
        )
    )
    orders = [order for order in held if order["status"] == "pending_approval"]
    await engine().run_querystring(QueryString(_DELETE_FOR_ORGANISATION, organisation_id))
    if not orders:
        return []
    directory = await load_directory(organisation_id)
    decisions = await waiting_decisions(organisation_id)
    rows: list[Row] = []
    complete: list[UUID] = []
    for order in orders:
        level = order["current_level"]
        steps = steps_of(order)
        made = decisions.get((order["id"], order["revision"]), [])
        deciders = waiting_deciders(
            steps, level, order["requester"], directory, order["escalated"], made
        )
        rows += rows_for(order, level, deciders)
        now = progress(steps, made, order["requester"], directory, order["escalated"], level)
        if now.level != level:
            complete.append(order["id"])
    await insert_rows(rows)
    return complete


async def waiting_decisions(organisation_id: UUID) -> dict[tuple[UUID, int], list[Decision]]:
    """The decisions on the organisation's waiting orders, by order and revision."""
    rows = await OrderDecision.select(
        OrderDecision.order,
        OrderDecision.revision,
        OrderDecision.level,
        OrderDecision.approver,
        OrderDecision.approve,
        OrderDecision.counts_for,
    ).where(
        (OrderDecision.organisation == organisation_id)
        & (OrderDecision.order.status == "pending_approval")
    )
    found: dict[tuple[UUID, int], list[Decision]] = {}
    for row in rows:
        found.setdefault((row["order"], row["revision"]), []).append(decision_of(row))
    return found
