"""The queues read `approval_eligibility`; these tests hold it to the rule the queue applied
before the table existed (each waiting order's snapshot at its level, the people as they are
now, its revision's decisions), through generated orders, people and changes of every kind
that moves who may decide: evaluations, decisions, escalations, deactivations and
reactivations, tier changes, the different-person rule, cancellations and resets."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from portal.activity.log import Actor
from portal.approvals.decisions import DecisionRefused, decide
from portal.approvals.directory import load_directory
from portal.approvals.engine import evaluate_order
from portal.approvals.organisation import save_distinct_levels
from portal.approvals.progress import revision_decisions, steps_of
from portal.approvals.queue import approver_queue
from portal.approvals.rules import earlier_approvers, eligible
from portal.approvals.tables import ApprovalEligibility
from portal.approvals.upkeep import escalate
from portal.orders.queries import OrderDetail, order_detail
from portal.orders.service import OrderError, cancel_order, edit_order
from portal.orders.states import OrderKind
from portal.orders.tables import Order
from portal.orders.validation import OrderDraft
from portal.permissions.model import Tier
from portal.users.service import LifecycleError, UserChanges, change_user, deactivate, reactivate
from portal.users.tables import User
from tests.conftest import BASE_URL, Member, Tenant
from tests.integration.orders_support import (
    add_person,
    add_policy,
    place,
    place_and_evaluate,
    principal_of,
    status_of,
)

MIGRATION = "migrations.portal_2026_12_03t11_10_10_000000"
Seat = tuple[UUID, int, int, UUID]  # order, revision, level, approver


async def expected_seats(tenant: Tenant) -> set[Seat]:
    """Who may decide each waiting order, by the queue's rule as it was before the table."""
    directory = await load_directory(tenant.id)
    orders = await Order.select(
        Order.id,
        Order.requester,
        Order.revision,
        Order.snapshot,
        Order.current_level,
        Order.escalated,
    ).where((Order.organisation == tenant.id) & (Order.status == "pending_approval"))
    seats: set[Seat] = set()
    for order in orders:
        level = order["current_level"]
        decisions = await revision_decisions(order["id"], order["revision"])
        excluded = earlier_approvers(decisions, level) if directory.distinct_levels else frozenset()
        decided = {d.approver for d in decisions if d.level == level}
        for step in steps_of(order):
            if step.level != level:
                continue
            for person in eligible(
                step, order["requester"], directory, order["escalated"], excluded
            ):
                if person not in decided:
                    seats.add((order["id"], order["revision"], level, person))
    return seats


async def assert_queues_hold(tenant: Tenant, people: list[Member]) -> set[Seat]:
    expected = await expected_seats(tenant)
    rows = await ApprovalEligibility.select(
        ApprovalEligibility.order,
        ApprovalEligibility.revision,
        ApprovalEligibility.level,
        ApprovalEligibility.approver,
    ).where(ApprovalEligibility.organisation == tenant.id)
    stored = {(r["order"], r["revision"], r["level"], r["approver"]) for r in rows}
    assert stored == expected
    for person in people:
        queue = await approver_queue(person.id, tenant.id, limit=1000)
        mine = {seat[0] for seat in expected if seat[3] == person.id}
        assert {item.row.id for item in queue.items} == mine
        assert queue.total == len(mine)
    return expected


def draft_of(detail: OrderDetail, cost: Decimal) -> OrderDraft:
    row = detail.row
    return OrderDraft(
        kind=OrderKind(row.kind),
        item=detail.item,
        service_id=None,
        description=row.description,
        quantity=row.quantity,
        estimated_cost=cost,
        cost_centre=row.cost_centre,
        notes="",
    )


async def is_active(member: Member) -> bool:
    row = await User.select(User.status).where(User.id == member.id).first()
    return bool(row and row["status"] == "active")


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_table_gives_the_queue_rule_answer_through_every_kind_of_change(
    acme: Tenant, seed: int
) -> None:
    rng = random.Random(seed)
    admins = [acme.admin, *[await add_person(acme, f"Admin {n}") for n in range(2)]]
    managers = [acme.manager, *[await add_person(acme, f"Lead {n}", Tier.MANAGER) for n in "ab"]]
    users = [acme.user, await add_person(acme, "Clerk", Tier.USER)]
    people = admins + managers + users
    await add_policy(acme, "Team leads", "100.00", users=[managers[1].id, managers[2].id])
    # One approval each: with two, a person leaving can complete a level that still waits,
    # which the engine's decision refuses to handle (reported; not the table's concern).
    await add_policy(acme, "Admins", "500.00")
    await add_policy(acme, "Managers", "1000.00", level=2, roles=["tier:manager"])
    await add_policy(acme, "Clerk signs", "3000.00", level=3, users=[users[1].id])
    costs = ["150.00", "600.00", "1500.00", "4000.00"]
    requesters = admins + managers
    for _ in range(12):
        await place_and_evaluate(rng.choice(requesters), rng.choice(costs))
    seats = await assert_queues_hold(acme, people)
    for _ in range(70):
        action = rng.choice(
            ["approve"] * 6
            + ["outsider", "reject", "deactivate", "reactivate", "tier"]
            + ["distinct", "escalate", "cancel", "edit", "order"]
        )
        if action in ("approve", "reject", "outsider") and seats:
            order_id, revision, level, approver = rng.choice(sorted(seats))
            if action == "outsider":
                others = {s[3] for s in seats if s[0] == order_id}
                strangers = [p for p in people if p.id not in others]
                if strangers:
                    with pytest.raises(DecisionRefused):
                        await decide(
                            rng.choice(strangers).actor,
                            order_id,
                            True,
                            "",
                            revision,
                            level,
                            base_url=BASE_URL,
                        )
            else:
                await decide(
                    Actor(approver, acme.id),
                    order_id,
                    action == "approve",
                    "Not now" if action == "reject" else "",
                    revision,
                    level,
                    base_url=BASE_URL,
                )
        elif action == "deactivate":
            with_lifecycle = rng.choice(people[1:])
            with contextlib.suppress(LifecycleError):
                await deactivate(acme.admin.actor, with_lifecycle.id, BASE_URL)
        elif action == "reactivate":
            await _reactivate_someone(acme, people, rng)
        elif action == "tier":
            someone = rng.choice(people[1:])
            with contextlib.suppress(LifecycleError):
                await change_user(
                    acme.admin.actor,
                    someone.id,
                    UserChanges(tier=rng.choice(list(Tier)).value),
                    base_url=BASE_URL,
                )
        elif action == "distinct":
            await save_distinct_levels(acme.admin.actor, rng.random() < 0.5, base_url=BASE_URL)
        elif action == "escalate" and seats:
            await escalate(
                rng.choice(sorted(seats))[0], BASE_URL, datetime.now(UTC) + timedelta(days=90)
            )
        elif action in ("cancel", "edit") and seats:
            await _cancel_or_edit(action, rng.choice(sorted(seats))[0], people, rng)
        elif action == "order":
            requester = rng.choice(requesters)
            if await is_active(requester):
                await place_and_evaluate(requester, rng.choice(costs))
        seats = await assert_queues_hold(acme, people)


async def _reactivate_someone(tenant: Tenant, people: list[Member], rng: random.Random) -> None:
    inactive = [p for p in people if not await is_active(p)]
    if inactive:
        await reactivate(tenant.admin.actor, rng.choice(inactive).id, BASE_URL)


async def _cancel_or_edit(
    action: str, order_id: UUID, people: list[Member], rng: random.Random
) -> None:
    row = await Order.select(Order.requester).where(Order.id == order_id).first()
    assert row is not None
    requester = next(p for p in people if p.id == row["requester"])
    if not await is_active(requester):
        return
    if action == "cancel":
        with contextlib.suppress(OrderError):
            await cancel_order(requester.actor, order_id)
        return
    principal = await principal_of(requester)
    detail = await order_detail(principal, order_id)
    assert detail is not None
    cost = Decimal(rng.choice(["650.00", "1600.00", "4100.00"]))
    draft = draft_of(detail, max(cost, detail.row.estimated_cost + 1))
    if await edit_order(principal, requester.actor, order_id, draft):
        await evaluate_order(order_id, BASE_URL)
    assert await status_of(order_id) != "submitted"


async def queued_for(member: Member) -> list[UUID]:
    return [item.row.id for item in (await approver_queue(member.id, member.organisation_id)).items]


async def test_a_reactivated_approver_has_their_orders_back_from_the_admins(acme: Tenant) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    await add_policy(acme, "Finance check", "50.00", users=[finance.id])
    order_id = await place_and_evaluate(acme.manager, "100.00")
    assert (await queued_for(finance), await queued_for(acme.admin)) == ([order_id], [])
    await deactivate(acme.admin.actor, finance.id, BASE_URL)
    assert (await queued_for(finance), await queued_for(acme.admin)) == ([], [order_id])
    await reactivate(acme.admin.actor, finance.id, BASE_URL)
    assert (await queued_for(finance), await queued_for(acme.admin)) == ([order_id], [])


async def test_a_new_admin_finds_the_orders_that_fell_to_the_admins(acme: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00")
    order_id = await place_and_evaluate(acme.admin, "100.00")  # the only admin asks
    second = await add_person(acme, "Second Admin")
    assert await queued_for(second) == [order_id]
    await assert_queues_hold(acme, [acme.admin, second, acme.manager])


async def test_a_cancelled_or_reset_order_leaves_the_queues(acme: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00")
    cancelled = await place_and_evaluate(acme.manager, "100.00")
    reset = await place_and_evaluate(acme.manager, "200.00")
    await cancel_order(acme.manager.actor, cancelled)
    principal = await principal_of(acme.manager)
    detail = await order_detail(principal, reset)
    assert detail is not None
    assert await edit_order(
        principal, acme.manager.actor, reset, draft_of(detail, Decimal("300.00"))
    )
    assert await queued_for(acme.admin) == []
    await evaluate_order(reset, BASE_URL)
    assert await queued_for(acme.admin) == [reset]
    await assert_queues_hold(acme, [acme.admin, acme.manager])


async def test_the_migration_fills_the_table_for_the_orders_already_waiting(
    acme: Tenant,
) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    second = await add_person(acme, "Second Admin")
    await add_policy(acme, "Finance check", "50.00", users=[finance.id])
    await add_policy(acme, "Admins", "500.00", level=2)
    await save_distinct_levels(acme.admin.actor, True, base_url=BASE_URL)
    waiting = [await place_and_evaluate(acme.manager, "600.00") for _ in range(3)]
    await decide(finance.actor, waiting[0], True, level=1, base_url=BASE_URL)
    await escalate(waiting[1], BASE_URL, datetime.now(UTC) + timedelta(days=90))
    people = [acme.admin, second, acme.manager, finance]
    expected = await assert_queues_hold(acme, people)
    await ApprovalEligibility.delete(force=True)
    await importlib.import_module(MIGRATION).fill_for_waiting_orders()
    assert await assert_queues_hold(acme, people) == expected


async def test_changes_of_people_racing_evaluations_and_decisions_leave_the_table_true(
    acme: Tenant,
) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    second = await add_person(acme, "Second Admin")
    await add_policy(acme, "Finance check", "50.00", users=[finance.id])
    decided = [await place_and_evaluate(acme.manager, "100.00") for _ in range(3)]
    submitted = [await place(acme.manager, "100.00") for _ in range(4)]
    outcomes = await asyncio.gather(
        *(evaluate_order(order_id, BASE_URL) for order_id in submitted),
        *(decide(finance.actor, order_id, True, base_url=BASE_URL) for order_id in decided[:2]),
        deactivate(acme.admin.actor, finance.id, BASE_URL),
        save_distinct_levels(acme.admin.actor, True, base_url=BASE_URL),
        return_exceptions=True,
    )
    # A decision after the deactivation is refused; nothing else may fail.
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, DecisionRefused) and o.status == 403 for o in failed), failed
    await assert_queues_hold(acme, [acme.admin, second, acme.manager, finance])
    assert not await queued_for(finance)
