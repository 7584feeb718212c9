"""The approval engine on a real database: evaluation, decisions and their rules, edits,
policy changes, deactivated approvers, emails, reminders and escalation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from portal.activity.log import Actor
from portal.approvals.decisions import DecisionRefused, decide
from portal.approvals.engine import evaluate_order
from portal.approvals.policies import PolicyError, check_policy, save_policy
from portal.approvals.queue import approver_queue
from portal.approvals.upkeep import remind_and_escalate_due
from portal.mail.tables import OutboundEmail
from portal.orders.service import OrderError, edit_order
from portal.orders.tables import OrderDecision, OrderEvent
from portal.orders.validation import check_order
from portal.permissions.model import Tier
from portal.users.service import deactivate
from tests.conftest import BASE_URL, Tenant
from tests.integration.orders_support import (
    add_person,
    add_policy,
    event_kinds,
    order_row,
    place,
    place_and_evaluate,
    principal_of,
    status_of,
)


def actor(member: object) -> Actor:
    return Actor(member.id, member.organisation_id)  # type: ignore[attr-defined]


async def emails_to(address: str, kind: str | None = None) -> list[str]:
    query = OutboundEmail.select(OutboundEmail.kind).where(OutboundEmail.to_address == address)
    if kind is not None:
        query = query.where(OutboundEmail.kind == kind)
    return [row["kind"] for row in await query]


async def test_over_the_threshold_waits_and_at_or_under_it_is_approved_at_once(
    acme: Tenant,
) -> None:
    await add_policy(acme, "Over 500", "500.00")
    at = await place_and_evaluate(acme.manager, "500.00")
    over = await place_and_evaluate(acme.manager, "500.01")
    assert await status_of(at) == "approved"
    assert await status_of(over) == "pending_approval"
    assert await event_kinds(at) == ["submitted", "evaluated", "approved"]
    assert await event_kinds(over) == ["submitted", "evaluated"]
    # The admins are notified (default approvers); the requester hears of the auto-approval.
    assert await emails_to(acme.admin.email, "order_pending") == ["order_pending"]
    assert await emails_to(acme.manager.email, "order_approved") == ["order_approved"]


async def test_evaluation_happens_once_however_often_it_is_woken(acme: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00")
    order_id = await place(acme.manager, "100.00")
    outcomes = await asyncio.gather(*(evaluate_order(order_id, BASE_URL) for _ in range(5)))
    assert sum(outcome is not None for outcome in outcomes) == 1
    assert (await event_kinds(order_id)).count("evaluated") == 1


async def test_nobody_approves_their_own_order(acme: Tenant) -> None:
    await add_policy(acme, "Admins", "50.00", users=[acme.admin.id, acme.manager.id])
    order_id = await place_and_evaluate(acme.admin, "100.00")
    with pytest.raises(DecisionRefused) as refused:
        await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    assert refused.value.status == 403
    assert "own order" in refused.value.message
    assert await OrderDecision.count() == 0
    assert (
        await decide(actor(acme.manager), order_id, approve=True, base_url=BASE_URL)
    ).state == "approved"


async def test_a_level_naming_only_the_requester_falls_to_the_admins(acme: Tenant) -> None:
    await add_policy(acme, "Manager only", "50.00", users=[acme.manager.id])
    order_id = await place_and_evaluate(acme.manager, "100.00")
    queue = await approver_queue(acme.admin.id, acme.id)
    assert [item.row.id for item in queue.items] == [order_id]
    assert (
        await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    ).state == "approved"


async def test_when_the_requester_is_the_only_admin_nobody_else_approves(acme: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00")
    order_id = await place_and_evaluate(acme.admin, "100.00")
    assert await status_of(order_id) == "pending_approval"  # never approved by nobody
    for member in (acme.admin, acme.manager, acme.user):
        with pytest.raises(DecisionRefused):
            await decide(actor(member), order_id, approve=True, base_url=BASE_URL)
    second_admin = await add_person(acme, "Second Admin")
    assert (
        await decide(actor(second_admin), order_id, approve=True, base_url=BASE_URL)
    ).state == "approved"


async def test_a_rejection_needs_a_reason_and_ends_the_order(acme: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00", required=2)
    second = await add_person(acme, "Second Admin")
    order_id = await place_and_evaluate(acme.manager, "100.00")
    with pytest.raises(DecisionRefused) as refused:
        await decide(actor(acme.admin), order_id, approve=False, reason="   ", base_url=BASE_URL)
    assert (refused.value.status, refused.value.field) == (422, "reason")
    assert await OrderDecision.count() == 0
    outcome = await decide(
        actor(acme.admin), order_id, approve=False, reason="Too expensive", base_url=BASE_URL
    )
    assert outcome.state == "rejected"
    row = await order_row(order_id)
    assert row["rejection_reason"] == "Too expensive"
    with pytest.raises(DecisionRefused) as late:
        await decide(actor(second), order_id, approve=True, base_url=BASE_URL)
    assert late.value.status == 409
    assert await emails_to(acme.manager.email, "order_rejected") == ["order_rejected"]


async def test_each_approver_decides_once_per_level(acme: Tenant) -> None:
    await add_policy(acme, "Two admins", "50.00", required=2)
    await add_person(acme, "Second Admin")
    order_id = await place_and_evaluate(acme.manager, "100.00")
    await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    with pytest.raises(DecisionRefused) as again:
        await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    assert again.value.status == 409
    assert await OrderDecision.count() == 1
    assert await status_of(order_id) == "pending_approval"


async def test_a_two_level_chain_waits_for_each_level_in_turn(acme: Tenant) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    second = await add_person(acme, "Second Admin")
    await add_policy(acme, "Finance check", "50.00", users=[finance.id])
    await add_policy(acme, "Big spend", "1000.00", level=2, roles=["tier:admin"], required=2)
    order_id = await place_and_evaluate(acme.manager, "1250.00")
    assert (await order_row(order_id))["current_level"] == 1
    with pytest.raises(DecisionRefused):
        await decide(
            actor(acme.admin), order_id, approve=True, base_url=BASE_URL
        )  # not level 1's approver
    assert (
        await decide(actor(finance), order_id, approve=True, base_url=BASE_URL)
    ).state == "pending_approval"
    assert (await order_row(order_id))["current_level"] == 2
    await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    assert await status_of(order_id) == "pending_approval"
    assert (
        await decide(actor(second), order_id, approve=True, base_url=BASE_URL)
    ).state == "approved"
    kinds = await event_kinds(order_id)
    assert kinds == [
        "submitted",
        "evaluated",
        "approval_given",
        "level_reached",
        "approval_given",
        "approval_given",
        "approved",
    ]
    messages = (
        await OrderEvent.select(OrderEvent.message)
        .where((OrderEvent.order == order_id) & (OrderEvent.kind == "approval_given"))
        .order_by(OrderEvent.occurred_at)
    )
    assert [row["message"] for row in messages] == [
        "Approved level 1. Finance check: 1 of 1.",
        "Approved level 2. Big spend: 1 of 2.",
        "Approved level 2. Big spend: 2 of 2.",
    ]
    # The requester is emailed on every decision: three approvals, the last one final.
    assert sorted(await emails_to(acme.manager.email)) == [
        "order_approval_given",
        "order_approval_given",
        "order_approved",
    ]


async def test_an_edit_while_pending_resets_the_approvals_and_re_evaluates(acme: Tenant) -> None:
    await add_policy(acme, "Two admins", "50.00", required=2)
    await add_person(acme, "Second Admin")
    order_id = await place_and_evaluate(acme.manager, "100.00")
    await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    draft, _ = check_order(
        {"kind": "new", "item": "firewall", "quantity": "2", "estimated_cost": "200.00"}
    )
    assert draft is not None
    manager = await principal_of(acme.manager)
    assert await edit_order(manager, actor(acme.manager), order_id, draft) is True
    row = await order_row(order_id)
    assert (row["status"], row["revision"]) == ("submitted", 2)
    await evaluate_order(order_id, BASE_URL)
    # The earlier approval was for revision 1: the admin decides again on revision 2.
    await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    assert await status_of(order_id) == "pending_approval"
    assert await OrderDecision.count() == 2


async def test_only_the_requester_edits_and_not_once_decided(acme: Tenant) -> None:
    order_id = await place_and_evaluate(acme.manager, "100.00")  # no policy: approved
    draft, _ = check_order({"kind": "new", "item": "firewall", "quantity": "1"})
    assert draft is not None
    with pytest.raises(OrderError) as decided:
        await edit_order(await principal_of(acme.manager), actor(acme.manager), order_id, draft)
    assert decided.value.status == 409
    with pytest.raises(OrderError) as other:
        await edit_order(await principal_of(acme.admin), actor(acme.admin), order_id, draft)
    assert other.value.status == 403


async def test_a_policy_changed_later_does_not_change_pending_orders(acme: Tenant) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    policy_id = await add_policy(acme, "Finance check", "50.00", users=[finance.id])
    order_id = await place_and_evaluate(acme.manager, "100.00")
    snapshot = (await order_row(order_id))["snapshot"]
    changed, errors = check_policy(
        {"name": "Finance check", "threshold": "5000.00", "approver_users": [str(acme.admin.id)]}
    )
    assert changed is not None, errors
    await save_policy(actor(acme.admin), changed, policy_id)
    assert (await order_row(order_id))["snapshot"] == snapshot
    with pytest.raises(DecisionRefused):
        await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    assert (
        await decide(actor(finance), order_id, approve=True, base_url=BASE_URL)
    ).state == "approved"
    # A new order meets the policy as it is now: under 5,000, nothing applies.
    assert await status_of(await place_and_evaluate(acme.manager, "100.00")) == "approved"


async def test_a_deactivated_approver_no_longer_counts(acme: Tenant) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    await add_policy(acme, "Finance check", "50.00", users=[finance.id])
    order_id = await place_and_evaluate(acme.manager, "100.00")
    named = await approver_queue(finance.id, acme.id)
    assert [i.row.id for i in named.items] == [order_id]
    assert (await approver_queue(acme.manager.id, acme.id)).total == 0
    assert (await approver_queue(acme.admin.id, acme.id)).total == 0
    assert await emails_to(acme.admin.email, "order_fallen") == []
    await deactivate(actor(acme.admin), finance.id, BASE_URL)
    # The admins hear of it at once, in the deactivation's transaction.
    assert await emails_to(acme.admin.email, "order_fallen") == ["order_fallen"]
    assert (await event_kinds(order_id))[-1] == "fell_to_admins"
    with pytest.raises(DecisionRefused):
        await decide(actor(finance), order_id, approve=True, base_url=BASE_URL)
    # Left with nobody, the level falls to the admins.
    assert [i.row.id for i in (await approver_queue(acme.admin.id, acme.id)).items] == [order_id]
    assert (
        await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    ).state == "approved"


async def test_reminders_and_escalation_go_out_once(acme: Tenant) -> None:
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    await add_policy(acme, "Finance check", "50.00", users=[finance.id])
    order_id = await place_and_evaluate(acme.manager, "100.00")
    now = datetime.now(UTC)
    await remind_and_escalate_due(now, BASE_URL)
    assert await emails_to(finance.email, "order_reminder") == []
    await remind_and_escalate_due(now + timedelta(hours=25), BASE_URL)
    await remind_and_escalate_due(now + timedelta(hours=26), BASE_URL)
    assert await emails_to(finance.email, "order_reminder") == ["order_reminder"]
    assert (await approver_queue(acme.admin.id, acme.id)).total == 0
    await remind_and_escalate_due(now + timedelta(hours=73), BASE_URL)
    await remind_and_escalate_due(now + timedelta(hours=74), BASE_URL)
    assert await emails_to(acme.admin.email, "order_escalated") == ["order_escalated"]
    assert (await event_kinds(order_id)).count("escalated") == 1
    assert (await event_kinds(order_id)).count("reminded") == 1
    # Escalated: the admins may decide now, beside the named approver.
    assert (await approver_queue(acme.admin.id, acme.id)).total == 1
    assert (
        await decide(actor(acme.admin), order_id, approve=True, base_url=BASE_URL)
    ).state == "approved"


async def test_another_organisation_cannot_decide_or_see(acme: Tenant, globex: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00")
    order_id = await place_and_evaluate(acme.manager, "100.00")
    with pytest.raises(DecisionRefused) as refused:
        await decide(actor(globex.admin), order_id, approve=True, base_url=BASE_URL)
    assert refused.value.status == 404
    assert (await approver_queue(globex.admin.id, globex.id)).total == 0
    # A policy may not name another organisation's people.
    policy, _ = check_policy(
        {"name": "Sneaky", "threshold": "1", "approver_users": [str(acme.admin.id)]}
    )
    assert policy is not None
    with pytest.raises(PolicyError) as foreign:
        await save_policy(actor(globex.admin), policy)
    assert foreign.value.status == 422
    assert "this organisation" in foreign.value.errors["approver_users"]


async def test_twenty_concurrent_decisions_make_one_transition(acme: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00")
    approvers = [acme.admin] + [await add_person(acme, f"Admin {n}") for n in range(3)]
    order_id = await place_and_evaluate(acme.manager, "100.00")

    async def attempt(index: int) -> str:
        approver = approvers[index % len(approvers)]
        try:
            outcome = await decide(
                actor(approver),
                order_id,
                approve=index % 3 != 0,
                reason=f"reason {index}",
                base_url=BASE_URL,
            )
        except DecisionRefused as error:
            return f"refused {error.status}"
        return outcome.state

    results = await asyncio.gather(*(attempt(index) for index in range(20)))
    decided = [result for result in results if not result.startswith("refused")]
    assert len(decided) == 1, results
    assert all(result == "refused 409" for result in results if result.startswith("refused"))
    decisions = await OrderDecision.select(OrderDecision.approve)
    assert len(decisions) == 1
    final = "approved" if decisions[0]["approve"] else "rejected"
    assert decided == [final] and await status_of(order_id) == final
    kinds = await event_kinds(order_id)
    assert kinds.count("approved") + kinds.count("rejected") == 1
