"""Orders that a change of people left with a complete level: the approvals needed are capped
at how many people could give them (`rules.approvals_needed`), so when an approver leaves or
stops being an admin, or each level comes to need a different person, a level may already
hold every approval it can have. Nobody is left to decide it, so the change moves it on, in
its own transaction, as the last approval would have."""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from portal.approvals.decisions import move_order
from portal.approvals.directory import load_directory
from portal.approvals.eligibility import (
    clear_for_order,
    refresh_for_organisation,
    write_for_order,
)
from portal.approvals.emails import email_approvers, email_requester
from portal.approvals.progress import locked_order, revision_decisions, steps_of
from portal.approvals.rules import State, progress, waiting_deciders
from portal.orders.timeline import EventKind, record


class Settled(NamedTuple):
    moved: frozenset[UUID]
    # Queued in the caller's transaction, for it to wake after its commit.
    emails: list[UUID]


async def settle_after_people_change(organisation_id: UUID, base_url: str) -> Settled:
    """Call in the transaction that changed who may decide, after the change: the queues are
    worked out again and the orders left complete move on."""
    complete = await refresh_for_organisation(organisation_id)
    if not complete:
        return Settled(frozenset(), [])
    directory = await load_directory(organisation_id)
    emails: list[UUID] = []
    moved: set[UUID] = set()
    for order_id in complete:
        order = await locked_order(order_id)  # held since the refresh
        if order is None or order["status"] != "pending_approval":
            continue
        level = order["current_level"]
        steps = steps_of(order)
        decisions = await revision_decisions(order_id, order["revision"])
        after = progress(steps, decisions, order["requester"], directory, order["escalated"], level)
        if after.level == level:
            continue
        await move_order(order, level, after)
        moved.add(order_id)
        await record(
            order_id,
            organisation_id,
            EventKind.LEVEL_REACHED if after.state is State.PENDING else EventKind.APPROVED,
            f"Level {level} is approved: fewer people are left to approve it than it "
            "asked for, and each of them has."
            + (f" Level {after.level} is waiting." if after.level else ""),
        )
        if after.level is None:
            emails.append(await email_requester(order, "approved", "", base_url))
            await clear_for_order(order_id)
            continue
        deciders = waiting_deciders(
            steps, after.level, order["requester"], directory, False, decisions
        )
        await write_for_order(order, after.level, deciders)
        emails += await email_approvers(
            {**order, "current_level": after.level}, after, "pending", base_url, directory
        )
    return Settled(frozenset(moved), emails)
