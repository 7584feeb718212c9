"""An approver's decision on the level an order waits on, in one transaction holding the
order, as the engine's contract says (`engine`): checked against the order as it is, one
decision per approver, level and revision (a unique index), the order moved only from the
state and level checked, the queue's rows rewritten, the emails woken after the commit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from portal.activity.log import Actor
from portal.approvals.directory import load_directory
from portal.approvals.eligibility import write_for_order
from portal.approvals.emails import email_approvers, email_requester
from portal.approvals.engine import Outcome
from portal.approvals.progress import level_timers, locked_order, revision_decisions, steps_of
from portal.approvals.rules import (
    Decision,
    Directory,
    Progress,
    State,
    counts_for,
    earlier_approvers,
    progress,
    waiting_deciders,
)
from portal.db import UNIQUE_VIOLATIONS, write_transaction
from portal.errors import Refusal
from portal.jobs import wake_delivery
from portal.orders.states import status_label
from portal.orders.tables import Order, OrderDecision
from portal.orders.timeline import Entry, EventKind, record, record_all
from portal.text import CONTROL_MESSAGE, has_control_characters

MAX_REASON = 1000


class DecisionRefused(Refusal):
    """A decision that cannot be taken; nothing was changed. `status` is the HTTP answer."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message, {field: message} if field else None, status)
        self.field = field


def _other_level(asked: int, waiting: int) -> str:
    if asked < waiting:
        return (
            f"Level {asked} of this order is already decided; level {waiting} waits now. "
            "Nothing was recorded: open the order to decide that level."
        )
    return f"Level {asked} is not waiting yet: the order waits on level {waiting}."


async def decide(
    actor: Actor,
    order_id: UUID,
    approve: bool,
    reason: str = "",
    revision: int | None = None,
    level: int | None = None,
    *,
    base_url: str,
) -> Outcome:
    """One approver's approval or rejection of the level that is waiting. The emails it
    queued are woken after the commit.

    `level` is the level the approver saw waiting (pages and the API always send it): a
    repeated request, a client's retry or a double click then finds its level decided and is
    refused, instead of deciding the next level, which its approver never saw."""
    level_asked = level
    reason = reason.strip()
    if not approve and not reason:
        raise DecisionRefused(
            422, "Give a reason for the rejection; the requester will see it.", "reason"
        )
    if len(reason) > MAX_REASON:
        raise DecisionRefused(422, f"Use at most {MAX_REASON} characters.", "reason")
    if has_control_characters(reason, multiline=True):
        raise DecisionRefused(422, CONTROL_MESSAGE, "reason")
    async with write_transaction():
        order = await locked_order(order_id, actor.organisation_id)
        if order is None:
            raise DecisionRefused(404, "No such order.")
        if order["status"] != "pending_approval":
            raise DecisionRefused(
                409,
                "This order is no longer waiting for approval: "
                f"it is {status_label(order['status'])}.",
            )
        if revision is not None and revision != order["revision"]:
            raise DecisionRefused(
                409, "The order was changed after you opened it. Review it again, then decide."
            )
        steps = steps_of(order)
        decisions = await revision_decisions(order_id, order["revision"])
        directory = await load_directory(
            order["organisation"], distinct_levels=order["distinct_levels"]
        )
        before = progress(
            steps,
            decisions,
            order["requester"],
            directory,
            order["escalated"],
            order["current_level"],
        )
        level = before.level
        if level is None:
            # A change of people left the level complete; that change moves the order on.
            raise DecisionRefused(409, "No level of this order waits for a decision now.")
        if level_asked is not None and level_asked != level:
            raise DecisionRefused(409, _other_level(level_asked, level))
        if any(d.approver == actor.user_id and d.level == level for d in decisions):
            raise DecisionRefused(409, "You have already decided on this level of the order.")
        if actor.user_id not in before.deciders:
            if directory.distinct_levels and actor.user_id in earlier_approvers(decisions, level):
                raise DecisionRefused(
                    403,
                    "Each level of an order needs a different person: "
                    "you approved an earlier level.",
                )
            if actor.user_id == order["requester"]:
                raise DecisionRefused(403, "You cannot approve or reject your own order.")
            raise DecisionRefused(403, "You are not an approver of this order's current level.")
        steps_counted = counts_for(
            steps,
            level,
            actor.user_id,
            order["requester"],
            directory,
            order["escalated"],
            decisions,
        )
        try:
            await OrderDecision.insert(
                OrderDecision(
                    order=order_id,
                    organisation=order["organisation"],
                    revision=order["revision"],
                    level=level,
                    approver=actor.user_id,
                    approve=approve,
                    counts_for=json.dumps(sorted(str(step) for step in steps_counted)),
                    reason=reason,
                )
            ).run()
        except UNIQUE_VIOLATIONS:
            raise DecisionRefused(
                409, "You have already decided on this level of the order."
            ) from None
        decision = Decision(actor.user_id, level, approve, steps_counted)
        after = progress(
            steps,
            [*decisions, decision],
            order["requester"],
            directory,
            order["escalated"],
            level,
        )
        emails = await _settle(
            actor, order, level, (before, after), reason, steps_counted, base_url, directory
        )
        deciders = frozenset[UUID]()
        if after.level is not None:
            deciders = waiting_deciders(
                steps,
                after.level,
                order["requester"],
                directory,
                order["escalated"] and after.level == level,
                [*decisions, decision],
            )
        await write_for_order(order, after.level, deciders)
    wake_delivery(emails)
    return Outcome(after.state.value, tuple(emails), order["number"], after.level)


async def move_order(
    order: Mapping[str, Any], level: int, after: Progress, rejection_reason: str = ""
) -> None:
    """Call in the transaction holding the order: it leaves `level` for where `after` says
    (the next level with its clocks started, or decided)."""
    now = datetime.now(UTC)
    changes: dict[Any, Any] = {Order.status: after.state.value, Order.updated_at: now}
    if after.state is State.PENDING:
        if after.level != level:
            changes |= {Order.current_level: after.level, **level_timers(order, now)}
    else:
        changes |= {
            Order.decided_at: now,
            Order.current_level: None,
            Order.remind_at: None,
            Order.escalate_at: None,
        }
    if after.state is State.REJECTED:
        changes[Order.rejection_reason] = rejection_reason
    updated = await (
        Order.update(changes)
        .where(
            (Order.id == order["id"])
            & (Order.status == "pending_approval")
            & (Order.revision == order["revision"])
            & (Order.current_level == level)
        )
        .returning(Order.id)
    )
    if not updated:
        # The lock makes this unreachable; if it ever happens, the move must not stand alone.
        raise RuntimeError(f"order {order['id']} moved under a held lock")


async def _settle(
    actor: Actor,
    order: Mapping[str, Any],
    level: int,
    moves: tuple[Progress, Progress],
    reason: str,
    counted: frozenset[UUID],
    base_url: str,
    directory: Directory,
) -> list[UUID]:
    before, after = moves
    order_id, organisation = order["id"], order["organisation"]
    await move_order(order, level, after, reason)
    origin = actor.origin
    if after.state is State.REJECTED:
        await record(
            order_id,
            organisation,
            EventKind.REJECTED,
            f"Rejected at level {level}. Reason: {reason}",
            actor_id=actor.user_id,
            origin=origin,
            data={"level": level, "reason": reason},
        )
        return [
            await email_requester(
                order, "rejected", reason, base_url, decided_by=actor.user_id, directory=directory
            )
        ]
    tally = _tally(before, counted)
    entries = [
        Entry(
            EventKind.APPROVAL_GIVEN,
            f"Approved level {level}.{tally}" + (f" Note: {reason}" if reason else ""),
            actor.user_id,
            origin,
            {"level": level, "reason": reason} if reason else {"level": level},
        )
    ]
    if after.state is State.APPROVED:
        entries.append(Entry(EventKind.APPROVED, "Every level is approved."))
    elif after.level != level:
        entries.append(
            Entry(
                EventKind.LEVEL_REACHED,
                f"Level {level} is approved; level {after.level} is waiting.",
            )
        )
    await record_all(order_id, organisation, entries)
    if after.state is State.APPROVED:
        return [
            await email_requester(
                order, "approved", reason, base_url, decided_by=actor.user_id, directory=directory
            )
        ]
    emails = [
        await email_requester(
            order, "approval_given", reason, base_url, decided_by=actor.user_id, directory=directory
        )
    ]
    if after.level != level:
        emails += await email_approvers(
            {**order, "current_level": after.level}, after, "pending", base_url, directory
        )
    return emails


def _tally(before: Progress, counted: frozenset[UUID]) -> str:
    """Each step of the level with this approval: "Finance check: 1 of 2." """
    parts = [
        f" {step.policy_name}: {count + (step.policy_id in counted)} of {needed}."
        for step, count, needed in before.tallies
    ]
    return "".join(parts)
