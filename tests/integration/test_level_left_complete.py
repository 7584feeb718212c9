"""A level the approvers left have all approved: the approvals needed are capped at how many
people could give them, so a departure, a demotion or the different-person rule can leave a
waiting level complete with nobody to decide it. The change that did so moves the order on,
in its own transaction; before, the order stayed pending with an empty queue and any decision
on it failed with a 500."""

from __future__ import annotations

from uuid import UUID

import pytest

from portal.activity.log import Actor
from portal.approvals.decisions import DecisionRefused, decide
from portal.approvals.organisation import save_distinct_levels
from portal.approvals.queue import approver_queue
from portal.mail.tables import OutboundEmail
from portal.orders.tables import OrderEvent
from portal.permissions.model import Tier
from portal.users.service import UserChanges, change_user, deactivate
from tests.conftest import BASE_URL, Member, Tenant
from tests.integration.orders_support import (
    add_person,
    add_policy,
    event_kinds,
    order_row,
    place_and_evaluate,
    status_of,
)


def actor(member: Member) -> Actor:
    return Actor(member.id, member.organisation_id)


async def approve(member: Member, order_id: UUID, level: int = 1) -> str:
    return (
        await decide(actor(member), order_id, approve=True, level=level, base_url=BASE_URL)
    ).state


async def emails_of(order_number: int, kind: str) -> list[str]:
    rows = await OutboundEmail.select(OutboundEmail.to_address, OutboundEmail.subject).where(
        OutboundEmail.kind == kind
    )
    return sorted(row["to_address"] for row in rows if f" {order_number} " in row["subject"])


async def last_event_text(order_id: UUID) -> str:
    rows = (
        await OrderEvent.select(OrderEvent.message)
        .where(OrderEvent.order == order_id)
        .order_by(OrderEvent.occurred_at, ascending=False)
        .order_by(OrderEvent.id, ascending=False)
        .limit(1)
    )
    return str(rows[0]["message"])


async def test_a_departure_that_leaves_the_level_complete_approves_the_order(
    acme: Tenant,
) -> None:
    first = await add_person(acme, "First", Tier.MANAGER)
    second = await add_person(acme, "Second", Tier.MANAGER)
    await add_policy(acme, "Two checks", "50.00", users=[first.id, second.id], required=2)
    order_id = await place_and_evaluate(acme.manager, "100.00")
    assert await approve(first, order_id) == "pending_approval"
    assert (await approver_queue(second.id, acme.id)).total == 1

    await deactivate(actor(acme.admin), second.id, BASE_URL)

    assert await status_of(order_id) == "approved"
    assert (await event_kinds(order_id))[-1] == "approved"
    assert "fewer people are left to approve it" in await last_event_text(order_id)
    number = (await order_row(order_id))["number"]
    assert await emails_of(number, "order_approved") == [acme.manager.email]
    # Decided, so a late click is a clear refusal, not a server error.
    with pytest.raises(DecisionRefused) as refused:
        await approve(acme.admin, order_id)
    assert refused.value.status == 409
    assert (await approver_queue(acme.admin.id, acme.id)).total == 0


async def test_a_departure_that_completes_level_one_hands_the_order_to_level_two(
    acme: Tenant,
) -> None:
    first = await add_person(acme, "First", Tier.MANAGER)
    second = await add_person(acme, "Second", Tier.MANAGER)
    finance = await add_person(acme, "Finance", Tier.MANAGER)
    await add_policy(acme, "Two checks", "50.00", users=[first.id, second.id], required=2)
    await add_policy(acme, "Finance", "50.00", level=2, users=[finance.id])
    order_id = await place_and_evaluate(acme.manager, "100.00")
    await approve(first, order_id)

    await deactivate(actor(acme.admin), second.id, BASE_URL)

    row = await order_row(order_id)
    assert (row["status"], row["current_level"]) == ("pending_approval", 2)
    assert (await event_kinds(order_id))[-1] == "level_reached"
    assert [item.row.id for item in (await approver_queue(finance.id, acme.id)).items] == [order_id]
    assert await emails_of(row["number"], "order_pending") == sorted(
        [first.email, second.email, finance.email]
    )
    # A replay of level 1 is refused as decided; level 2 is finance's to decide.
    with pytest.raises(DecisionRefused):
        await approve(first, order_id, level=1)
    assert await approve(finance, order_id, level=2) == "approved"


async def test_a_demotion_that_leaves_a_fallen_level_complete_moves_it_on(acme: Tenant) -> None:
    gone = await add_person(acme, "Gone", Tier.MANAGER)
    second_admin = await add_person(acme, "Second admin", Tier.ADMIN)
    await add_policy(acme, "Two checks", "50.00", users=[gone.id], required=2)
    order_id = await place_and_evaluate(acme.manager, "100.00")
    await deactivate(actor(acme.admin), gone.id, BASE_URL)  # the level falls to both admins
    assert await approve(acme.admin, order_id) == "pending_approval"

    await change_user(
        actor(acme.admin), second_admin.id, UserChanges(tier=Tier.MANAGER.value), base_url=BASE_URL
    )

    assert await status_of(order_id) == "approved"


async def test_the_different_person_rule_can_complete_a_level_and_moves_it_on(
    acme: Tenant,
) -> None:
    first = await add_person(acme, "First", Tier.MANAGER)
    second = await add_person(acme, "Second", Tier.MANAGER)
    await add_policy(acme, "One check", "50.00", users=[first.id])
    await add_policy(acme, "Two more", "50.00", level=2, users=[first.id, second.id], required=2)
    order_id = await place_and_evaluate(acme.manager, "100.00")
    await approve(first, order_id, level=1)
    assert await approve(second, order_id, level=2) == "pending_approval"  # 1 of 2

    # first approved level 1, so may no longer give level 2's second approval: second's is
    # every approval level 2 can have now.
    await save_distinct_levels(actor(acme.admin), True, BASE_URL)

    assert await status_of(order_id) == "approved"


async def test_a_departure_that_leaves_the_level_short_changes_nothing_else(
    acme: Tenant,
) -> None:
    first, second, third = [
        await add_person(acme, name, Tier.MANAGER) for name in ("First", "Second", "Third")
    ]
    await add_policy(acme, "Two checks", "50.00", users=[first.id, second.id, third.id], required=2)
    order_id = await place_and_evaluate(acme.manager, "100.00")
    await approve(first, order_id)
    before = await event_kinds(order_id)

    await deactivate(actor(acme.admin), second.id, BASE_URL)

    # third can still give the second approval: the order waits for them.
    assert await status_of(order_id) == "pending_approval"
    assert await event_kinds(order_id) == before
    assert (await approver_queue(third.id, acme.id)).total == 1
    assert await approve(third, order_id) == "approved"
