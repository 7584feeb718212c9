"""The approval engine's work with the database: evaluating a submitted order, recording a
decision, reminding and escalating.

Each runs in one transaction holding the order: its row locked on PostgreSQL, the write lock
held on SQLite. Each moves the order only from the state it checked, and a unique index takes
one decision per approver, level and revision, so concurrent and repeated calls make exactly
one decision and one transition. A worker killed midway rolls the whole step back; the message
or the sweep runs it again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from portal.activity.log import Actor
from portal.approvals.directory import load_directory
from portal.approvals.policies import active_rules, json_list
from portal.db import UNIQUE_VIOLATIONS, for_update, write_transaction
from portal.mail.outbox import queue_email
from portal.mail.render import render_email
from portal.orders.tables import Order, OrderDecision
from portal.orders.timeline import EventKind, record
from portal.settings import load_settings
from portal.users.tables import User
from workflows.approval_rules import (
    Decision,
    Directory,
    OrderFacts,
    Progress,
    State,
    Step,
    applies,
    counts_for,
    evaluate,
    progress,
    snapshot_steps,
    step_to_json,
)
from workflows.mail import wake_delivery

MAX_REASON = 1000
STATUS_LABELS = {
    "draft": "a draft",
    "submitted": "submitted, waiting for evaluation",
    "pending_approval": "waiting for approval",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
}

ORDER_COLUMNS = (
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
    Order.organisation.name.as_alias("organisation_name"),
    Order.organisation.approval_reminder_hours.as_alias("reminder_hours"),
    Order.organisation.approval_escalation_hours.as_alias("escalation_hours"),
    Order.requester.full_name.as_alias("requester_name"),
    Order.requester.email.as_alias("requester_email"),
)


class DecisionRefused(Exception):
    """A decision that cannot be taken; nothing was changed. `status` is the HTTP answer."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a step of the engine did, and the emails to wake once it committed."""

    state: str
    email_ids: tuple[UUID, ...] = ()


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
    query = Order.select(*ORDER_COLUMNS).where(Order.id == order_id)
    if organisation_id is not None:
        query = query.where(Order.organisation == organisation_id)
    row: dict[str, Any] | None = await for_update(query).first()
    return row


async def revision_decisions(order_id: UUID, revision: int) -> list[Decision]:
    rows = await OrderDecision.select(
        OrderDecision.approver, OrderDecision.level, OrderDecision.approve, OrderDecision.counts_for
    ).where((OrderDecision.order == order_id) & (OrderDecision.revision == revision))
    return [
        Decision(
            row["approver"],
            row["level"],
            row["approve"],
            frozenset(UUID(step) for step in json_list(row["counts_for"])),
        )
        for row in rows
    ]


def facts_of(order: Mapping[str, Any]) -> OrderFacts:
    return OrderFacts(
        kind=order["kind"],
        estimated_cost=Decimal(order["estimated_cost"]),
        cost_centre=order["cost_centre"],
        requester=order["requester"],
    )


def money(order: Mapping[str, Any]) -> str:
    return f"{order['currency']} {Decimal(order['estimated_cost']):,.2f}"


def level_timers(order: Mapping[str, Any], now: datetime) -> dict[Any, Any]:
    """A new level starts its clocks: reminder and escalation, from the organisation's settings."""
    return {
        Order.level_started_at: now,
        Order.remind_at: now + timedelta(hours=order["reminder_hours"]),
        Order.escalate_at: now + timedelta(hours=order["escalation_hours"]),
        Order.escalated: False,
    }


def describe_steps(steps: Iterable[Step]) -> str:
    parts = [
        f"{step.policy_name} (level {step.level}, {step.required} "
        f"approval{'' if step.required == 1 else 's'})"
        for step in steps
    ]
    return "Applies: " + "; ".join(parts) + "."


# --- evaluation ------------------------------------------------------------------------------


async def evaluate_order(order_id: UUID) -> Outcome | None:
    """Evaluate a submitted order once; None if it is not (or no longer) waiting for that."""
    async with write_transaction():
        order = await locked_order(order_id)
        if order is None or order["status"] != "submitted":
            return None
        facts = facts_of(order)
        rules = [rule for rule in await active_rules(order["organisation"]) if applies(rule, facts)]
        directory = await load_directory(
            order["organisation"], {role for rule in rules for role in rule.approver_roles}
        )
        steps = evaluate(rules, facts, directory)
        state = progress(steps, (), order["requester"], directory)
        now = datetime.now(UTC)
        snapshot = {
            "steps": [step_to_json(step) for step in steps],
            "evaluated_at": now.isoformat(),
            "revision": order["revision"],
        }
        changes: dict[Any, Any] = {
            Order.snapshot: json.dumps(snapshot),
            Order.status: state.state.value,
            Order.updated_at: now,
        }
        if state.state is State.APPROVED:
            changes |= {Order.decided_at: now, Order.current_level: None}
        else:
            changes |= {Order.current_level: state.level, **level_timers(order, now)}
        await Order.update(changes).where(
            (Order.id == order_id)
            & (Order.status == "submitted")
            & (Order.revision == order["revision"])
        )
        policies = [
            {"id": str(step.policy_id), "name": step.policy_name, "level": step.level}
            for step in steps
        ]
        if state.state is State.APPROVED:
            await record(
                order_id,
                order["organisation"],
                EventKind.EVALUATED,
                "No approval policy applies to this order.",
                data={"policies": policies},
            )
            await record(
                order_id, order["organisation"], EventKind.APPROVED, "Approved: no approval needed."
            )
            emails = [await _email_requester(order, "approved", "No approval was needed.")]
        else:
            await record(
                order_id,
                order["organisation"],
                EventKind.EVALUATED,
                describe_steps(steps) + _nobody_note(state),
                data={"policies": policies},
            )
            emails = await _email_approvers(order, state, "pending")
    return Outcome(state.state.value, tuple(emails))


def _nobody_note(state: Progress) -> str:
    if state.state is State.PENDING and not state.deciders:
        return (
            " Nobody but the requester can approve this level: an admin must add an approver"
            " or another admin."
        )
    return ""


# --- decisions -------------------------------------------------------------------------------


async def decide(
    actor: Actor,
    order_id: UUID,
    approve: bool,
    reason: str = "",
    revision: int | None = None,
) -> Outcome:
    """One approver's approval or rejection of the level that is waiting."""
    reason = reason.strip()
    if not approve and not reason:
        raise DecisionRefused(
            422, "Give a reason for the rejection; the requester will see it.", "reason"
        )
    if len(reason) > MAX_REASON:
        raise DecisionRefused(422, f"Use at most {MAX_REASON} characters.", "reason")
    async with write_transaction():
        order = await locked_order(order_id, actor.organisation_id)
        if order is None:
            raise DecisionRefused(404, "No such order.")
        if order["status"] != "pending_approval":
            raise DecisionRefused(
                409, f"This order is no longer waiting for approval: it is {_label(order)}."
            )
        if revision is not None and revision != order["revision"]:
            raise DecisionRefused(
                409, "The order was changed after you opened it. Review it again, then decide."
            )
        steps = steps_of(order)
        decisions = await revision_decisions(order_id, order["revision"])
        directory = await load_directory(order["organisation"])
        before = progress(
            steps,
            decisions,
            order["requester"],
            directory,
            order["escalated"],
            order["current_level"],
        )
        level = before.level
        assert level is not None  # pending orders wait on a level
        if any(d.approver == actor.user_id and d.level == level for d in decisions):
            raise DecisionRefused(409, "You have already decided on this level of the order.")
        if actor.user_id not in before.deciders:
            if actor.user_id == order["requester"]:
                raise DecisionRefused(403, "You cannot approve or reject your own order.")
            raise DecisionRefused(403, "You are not an approver of this order's current level.")
        steps_counted = counts_for(
            steps, level, actor.user_id, order["requester"], directory, order["escalated"]
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
        emails = await _settle(actor, order, level, before, after, reason, steps_counted)
    return Outcome(after.state.value, tuple(emails))


async def _settle(
    actor: Actor,
    order: Mapping[str, Any],
    level: int,
    before: Progress,
    after: Progress,
    reason: str,
    counted: frozenset[UUID],
) -> list[UUID]:
    order_id, organisation = order["id"], order["organisation"]
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
        changes[Order.rejection_reason] = reason
    updated = await (
        Order.update(changes)
        .where(
            (Order.id == order_id)
            & (Order.status == "pending_approval")
            & (Order.revision == order["revision"])
            & (Order.current_level == level)
        )
        .returning(Order.id)
    )
    if not updated:
        # The lock makes this unreachable; if it ever happens, the decision must not stand alone.
        raise RuntimeError(f"order {order_id} moved under a held lock")
    origin = actor.origin
    if after.state is State.REJECTED:
        await record(
            order_id,
            organisation,
            EventKind.REJECTED,
            f"Rejected at level {level}. Reason: {reason}",
            actor_id=actor.user_id,
            origin=origin,
            data={"level": level},
        )
        return [await _email_requester(order, "rejected", reason, decided_by=actor.user_id)]
    tally = _tally(before, counted)
    await record(
        order_id,
        organisation,
        EventKind.APPROVAL_GIVEN,
        f"Approved level {level}.{tally}" + (f" Note: {reason}" if reason else ""),
        actor_id=actor.user_id,
        origin=origin,
        data={"level": level},
    )
    if after.state is State.APPROVED:
        await record(order_id, organisation, EventKind.APPROVED, "Every level is approved.")
        return [await _email_requester(order, "approved", reason, decided_by=actor.user_id)]
    emails = [await _email_requester(order, "approval_given", reason, decided_by=actor.user_id)]
    if after.level != level:
        await record(
            order_id,
            organisation,
            EventKind.LEVEL_REACHED,
            f"Level {level} is approved; level {after.level} is waiting.",
        )
        emails += await _email_approvers({**order, "current_level": after.level}, after, "pending")
    return emails


def _tally(before: Progress, counted: frozenset[UUID]) -> str:
    """Each step of the level with this approval: "Finance check: 1 of 2." """
    parts = [
        f" {step.policy_name}: {count + (step.policy_id in counted)} of {needed}."
        for step, count, needed in before.tallies
    ]
    return "".join(parts)


def _label(order: Mapping[str, Any]) -> str:
    status: str = order["status"]
    return STATUS_LABELS.get(status, status)


@dataclass(frozen=True, slots=True)
class BulkApproval:
    order_id: UUID
    state: str | None
    refusal: str | None


async def approve_each(actor: Actor, order_ids: Iterable[UUID]) -> list[BulkApproval]:
    """Approve each order in its own transaction; a refusal does not stop the others. Each
    approval's emails are woken as soon as it committed."""
    results = []
    for order_id in dict.fromkeys(order_ids):
        try:
            outcome = await decide(actor, order_id, approve=True)
        except DecisionRefused as error:
            results.append(BulkApproval(order_id, None, error.message))
            continue
        wake_delivery(outcome.email_ids)
        results.append(BulkApproval(order_id, outcome.state, None))
    return results


# --- reminders and escalation ----------------------------------------------------------------


async def due_orders(column: Any, now: datetime, limit: int = 500) -> list[UUID]:
    rows = (
        await Order.select(Order.id)
        .where((Order.status == "pending_approval") & (column <= now))
        .order_by(column)
        .limit(limit)
    )
    return [row["id"] for row in rows]


async def remind(order_id: UUID, now: datetime | None = None) -> Outcome | None:
    """Remind the approvers who have not decided yet, once per level."""
    now = now or datetime.now(UTC)
    async with write_transaction():
        order = await locked_order(order_id)
        if not _due(order, "remind_at", now):
            return None
        assert order is not None
        state = await _current_progress(order)
        await Order.update({Order.remind_at: None}).where(Order.id == order_id)
        emails = await _email_approvers(order, state, "reminder")
        await record(
            order_id,
            order["organisation"],
            EventKind.REMINDED,
            f"Reminded {len(emails)} approver{'' if len(emails) == 1 else 's'} "
            f"of level {order['current_level']}.",
        )
    return Outcome(state.state.value, tuple(emails))


async def escalate(order_id: UUID, now: datetime | None = None) -> Outcome | None:
    """Open the waiting level to the organisation's admins and tell them, once per level."""
    now = now or datetime.now(UTC)
    async with write_transaction():
        order = await locked_order(order_id)
        if not _due(order, "escalate_at", now):
            return None
        assert order is not None
        await Order.update({Order.escalate_at: None, Order.escalated: True}).where(
            Order.id == order_id
        )
        state = await _current_progress({**order, "escalated": True})
        emails = await _email_approvers(order, state, "escalated")
        await record(
            order_id,
            order["organisation"],
            EventKind.ESCALATED,
            f"Level {order['current_level']} waited too long; the admins may now decide it.",
        )
    return Outcome(state.state.value, tuple(emails))


def _due(order: Mapping[str, Any] | None, column: str, now: datetime) -> bool:
    return (
        order is not None
        and order["status"] == "pending_approval"
        and order[column] is not None
        and order[column] <= now
    )


async def _current_progress(
    order: Mapping[str, Any], directory: Directory | None = None
) -> Progress:
    steps = steps_of(order)
    decisions = await revision_decisions(order["id"], order["revision"])
    directory = directory or await load_directory(order["organisation"])
    return progress(
        steps,
        decisions,
        order["requester"],
        directory,
        order["escalated"],
        order["current_level"],
    )


async def hand_over_after_deactivation(organisation_id: UUID, user_id: UUID) -> list[UUID]:
    """Call in the transaction that deactivates `user_id`. Orders whose waiting level named
    them and now has no active named approver fall to the admins: tell the admins."""
    rows = await Order.select(*ORDER_COLUMNS).where(
        (Order.organisation == organisation_id) & (Order.status == "pending_approval")
    )
    directory = await load_directory(organisation_id)
    emails: list[UUID] = []
    for order in rows:
        waiting = [
            step
            for step in steps_of(order)
            if step.level == order["current_level"] and user_id in step.approvers
        ]
        if not any(
            not (step.approvers & directory.active) - {order["requester"]} for step in waiting
        ):
            continue
        state = await _current_progress(order, directory)
        await record(
            order["id"],
            organisation_id,
            EventKind.FELL_TO_ADMINS,
            f"Level {order['current_level']} has no active approver left; "
            "the admins may decide it.",
        )
        emails += await _email_approvers(order, state, "fallen")
    return emails


# --- emails ----------------------------------------------------------------------------------

APPROVER_EMAILS = {
    "pending": ("Order {number} is waiting for your approval", "is waiting for your approval"),
    "reminder": (
        "Reminder: order {number} is still waiting for your approval",
        "is still waiting for your approval",
    ),
    "escalated": (
        "Escalated: order {number} needs an admin's decision",
        "has waited too long and was escalated to the admins",
    ),
    "fallen": (
        "Order {number} needs an admin's decision",
        "has no approver left at its current level and now waits for the admins",
    ),
}
REQUESTER_EMAILS = {
    "approved": ("Order {number} is approved", "is approved"),
    "rejected": ("Order {number} was rejected", "was rejected"),
    "approval_given": (
        "Order {number}: an approver approved it",
        "was approved by an approver; it waits for the remaining approvals",
    ),
}


def _details(order: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Order", f"{order['number']}: {order['description']}"),
        ("Quantity", str(order["quantity"])),
        ("Estimated cost", money(order)),
        ("Cost centre", order["cost_centre"] or "—"),
        ("Requested by", order["requester_name"]),
    ]


def _link(order: Mapping[str, Any]) -> str:
    return f"{load_settings().base_url.rstrip('/')}/orders/{order['id']}"


async def _email_approvers(order: Mapping[str, Any], state: Progress, kind: str) -> list[UUID]:
    if not state.deciders:
        return []
    subject, sentence = APPROVER_EMAILS[kind]
    people = await User.select(User.id, User.email, User.full_name).where(
        User.id.is_in(sorted(state.deciders)) & (User.status == "active")
    )
    emails = []
    for person in people:
        email = render_email(
            "order_notice",
            subject.format(number=order["number"]),
            full_name=person["full_name"],
            sentence=f"Order {order['number']} in {order['organisation_name']} {sentence}.",
            details=_details(order),
            reason="",
            link=_link(order),
        )
        key = f"order-{kind}:{order['id']}:{order['revision']}:{state.level}:{person['id']}"
        email_id = await queue_email(
            organisation_id=order["organisation"],
            event_key=key,
            kind=f"order_{kind}",
            to_address=person["email"],
            email=email,
        )
        if email_id is not None:
            emails.append(email_id)
    return emails


async def _email_requester(
    order: Mapping[str, Any], kind: str, reason: str, decided_by: UUID | None = None
) -> UUID:
    subject, sentence = REQUESTER_EMAILS[kind]
    details = _details(order)
    if decided_by is not None:
        who = await User.select(User.full_name).where(User.id == decided_by).first()
        details.append(("Decided by", who["full_name"] if who else "—"))
    email = render_email(
        "order_notice",
        subject.format(number=order["number"]),
        full_name=order["requester_name"],
        sentence=f"Your order {order['number']} {sentence}.",
        details=details,
        reason=reason,
        link=_link(order),
    )
    decision = f"{decided_by}" if decided_by else "engine"
    email_id = await queue_email(
        organisation_id=order["organisation"],
        event_key=(
            f"order-{kind}:{order['id']}:{order['revision']}:{decision}:{order['current_level']}"
        ),
        kind=f"order_{kind}",
        to_address=order["requester_email"],
        email=email,
    )
    assert email_id is not None  # one decision per approver, level and revision
    return email_id


__all__ = [
    "DecisionRefused",
    "Outcome",
    "decide",
    "due_orders",
    "escalate",
    "evaluate_order",
    "remind",
]
