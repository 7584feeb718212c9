"""Approving many orders at once, from the queue's page and the API: each on its own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from portal.activity.log import Actor
from portal.approvals.decisions import DecisionRefused, decide
from portal.approvals.engine import Outcome


@dataclass(frozen=True, slots=True)
class BulkApproval:
    """One order's result: its outcome, or why it was refused."""

    order_id: UUID
    outcome: Outcome | None
    refusal: str | None = None

    @property
    def state(self) -> str | None:
        return self.outcome.state if self.outcome else None


async def approve_each(
    actor: Actor, chosen: Iterable[tuple[UUID, int]], base_url: str
) -> list[BulkApproval]:
    """Approve each chosen (order, level) in its own transaction; a refusal does not stop the
    others. Each approval's emails are woken as soon as it committed."""
    results = []
    for order_id, level in dict(chosen).items():
        try:
            outcome = await decide(actor, order_id, True, level=level, base_url=base_url)
        except DecisionRefused as error:
            results.append(BulkApproval(order_id, None, error.message))
            continue
        results.append(BulkApproval(order_id, outcome))
    return results
