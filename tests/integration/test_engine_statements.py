"""How many statements the engine sends per step (piccolo's own counter: every query and DDL
it runs, BEGIN and COMMIT aside). Before the leaner engine: 10 per evaluation, 15 per
decision that reaches the next level; these are ceilings, so a statement added to the hot
path is a decision, not an accident."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from portal import db
from portal.approvals.decisions import decide
from portal.approvals.engine import evaluate_order
from tests.conftest import BASE_URL, Tenant
from tests.integration.orders_support import add_person, add_policy, place, status_of


async def statements(step: Awaitable[Any]) -> int:
    engine = db.engine()
    before = engine.query_id
    await step
    return engine.query_id - before


async def test_an_evaluation_reads_three_times_and_writes_in_batches(acme: Tenant) -> None:
    await add_policy(acme, "Over 500", "500.00")
    await add_policy(acme, "Large", "5000.00", level=2, roles=["tier:manager"])
    second = await add_person(acme, "Second Admin")
    at_once, waiting = await place(acme.manager, "250.00"), await place(acme.manager, "6000.00")
    # The order, the active policies, the people; the order's update; the timeline entries
    # and their log events (one statement each); one email per person told.
    assert await statements(evaluate_order(at_once, BASE_URL)) == 7
    assert await status_of(at_once) == "approved"
    # ... and the waiting level's eligibility rows, in one statement; two admins told.
    assert await statements(evaluate_order(waiting, BASE_URL)) == 9
    # Level 1 approved, level 2 waits (the managers' level falls to the admins: the manager
    # asks): the order, its decisions, the people; the decision, the order's update, the
    # two timeline entries and their log events, the requester's email, the admins' two,
    # the eligibility rows replaced (delete, insert).
    assert await statements(decide(second.actor, waiting, True, base_url=BASE_URL)) == 12
    # The last approval: nobody is asked any more, so the rows are only deleted.
    assert await statements(decide(acme.admin.actor, waiting, True, base_url=BASE_URL)) == 9
    assert await status_of(waiting) == "approved"
