"""The approval engine: evaluating a submitted order (here) and recording a decision
(`decisions`).

Each runs in one transaction holding the order: its row locked on PostgreSQL, the write lock
held on SQLite. Each moves the order only from the state it checked, and a unique index takes
one decision per approver, level and revision, so concurrent and repeated calls make exactly
one decision and one transition. A worker killed midway rolls the whole step back; the message
or the sweep runs it again. The emails a step queued are woken only after its commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from portal.approvals.directory import load_directory
from portal.approvals.eligibility import write_for_order
from portal.approvals.emails import email_approvers, email_requester
from portal.approvals.policies import active_rules
from portal.approvals.progress import facts_of, level_timers, locked_order
from portal.approvals.rules import (
    Progress,
    State,
    Step,
    applies,
    evaluate,
    progress,
    step_to_json,
    waiting_deciders,
)
from portal.db import write_transaction
from portal.jobs import wake_delivery
from portal.orders.tables import Order
from portal.orders.timeline import Entry, EventKind, record, record_all


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a step of the engine did, and the emails it queued."""

    state: str
    email_ids: tuple[UUID, ...] = ()
    # After a decision: the order's number, and the level that waits now (if still pending).
    number: int | None = None
    level: int | None = None

    def said(self) -> str:
        """What the approver is told happened, naming the order and what waits next."""
        if self.state == "approved":
            return f"Order {self.number} approved."
        if self.state == "rejected":
            return f"Order {self.number} rejected; the requester is told your reason."
        return f"Order {self.number}: your approval is recorded; level {self.level} waits now."


def describe_steps(steps: Iterable[Step]) -> str:
    parts = [
        f"{step.policy_name} (level {step.level}, {step.required} "
        f"approval{'' if step.required == 1 else 's'})"
        for step in steps
    ]
    return "Applies: " + "; ".join(parts) + "."


# --- evaluation ------------------------------------------------------------------------------


async def evaluate_order(order_id: UUID, base_url: str) -> Outcome | None:
    """Evaluate a submitted order once; None if it is not (or no longer) waiting for that.
    The emails it queued are woken after the commit."""
    async with write_transaction():
        order = await locked_order(order_id)
        if order is None or order["status"] != "submitted":
            return None
        facts = facts_of(order)
        rules = [rule for rule in await active_rules(order["organisation"]) if applies(rule, facts)]
        directory = await load_directory(
            order["organisation"],
            {role for rule in rules for role in rule.approver_roles},
            order["distinct_levels"],
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
        if state.level is not None:
            deciders = waiting_deciders(steps, state.level, order["requester"], directory)
            await write_for_order(order, state.level, deciders, had_rows=False)
        policies = [
            {"id": str(step.policy_id), "name": step.policy_name, "level": step.level}
            for step in steps
        ]
        if state.state is State.APPROVED:
            await record_all(
                order_id,
                order["organisation"],
                [
                    Entry(
                        EventKind.EVALUATED,
                        "No approval policy applies to this order.",
                        data={"policies": policies},
                    ),
                    Entry(EventKind.APPROVED, "Approved: no approval needed."),
                ],
            )
            emails = [await email_requester(order, "approved", "No approval was needed.", base_url)]
        else:
            await record(
                order_id,
                order["organisation"],
                EventKind.EVALUATED,
                describe_steps(steps) + _nobody_note(state),
                data={"policies": policies},
            )
            emails = await email_approvers(order, state, "pending", base_url, directory)
    wake_delivery(emails)
    return Outcome(state.state.value, tuple(emails))


def _nobody_note(state: Progress) -> str:
    if state.state is State.PENDING and not state.deciders:
        return (
            " Nobody but the requester can approve this level: an admin must add an approver"
            " or another admin."
        )
    return ""
