"""Building blocks for order and approval tests: members, policies, orders, evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from portal import db
from portal.activity.log import Actor
from portal.approvals.engine import Outcome, evaluate_order
from portal.approvals.policies import check_policy, save_policy
from portal.costcentres.rules import check_centre
from portal.costcentres.service import create_centre, set_archived
from portal.orders.catalogue import CATALOGUE
from portal.orders.service import place_order
from portal.orders.tables import Order, OrderEvent
from portal.orders.validation import check_order
from portal.organisations.service import NewMember, add_member
from portal.permissions.model import Tier
from portal.permissions.principal import Principal, load_principal
from tests.conftest import BASE_URL, PASSWORD, Member, Tenant


async def add_person(tenant: Tenant, name: str, tier: Tier = Tier.ADMIN) -> Member:
    email = f"{name.lower().replace(' ', '.')}@{tenant.name.lower()}.example"
    async with db.write_transaction():
        user_id = await add_member(
            tenant.id, tenant.name, NewMember(email, f"{tenant.name} {name}", tier, PASSWORD)
        )
    return Member(user_id, tenant.id, email, tier)


async def add_policy(
    tenant: Tenant,
    name: str,
    threshold: str,
    *,
    level: int = 1,
    users: Sequence[UUID] = (),
    roles: Sequence[str] = (),
    required: int = 1,
    kinds: Sequence[str] = (),
    cost_centres: Sequence[str] = (),
) -> UUID:
    policy, errors = check_policy(
        {
            "name": name,
            "threshold": threshold,
            "approver_users": [str(user) for user in users],
            "approver_roles": list(roles),
            "required_approvals": required,
            "level": level,
            "order_kinds": list(kinds),
            "cost_centres": list(cost_centres),
        }
    )
    assert policy is not None, errors
    return await save_policy(Actor(tenant.admin.id, tenant.id), policy)


async def add_cost_centres(tenant: Tenant, *codes: str, archived: bool = False) -> None:
    """Cost centres of the tenant's list, as its admin adds (and archives) them."""
    actor = Actor(tenant.admin.id, tenant.id)
    for code in codes:
        centre, errors = check_centre({"code": code, "name": f"{code} centre"})
        assert centre is not None, errors
        centre_id = await create_centre(actor, centre)
        if archived:
            await set_archived(actor, centre_id, True)


async def principal_of(member: Member) -> Principal:
    principal = await load_principal(member.id)
    assert principal is not None
    return principal


def item_costing_at_most(cost: str) -> str:
    """The dearest catalogue item one unit of which fits the estimate: a typed estimate may
    add to the catalogue price, never take from it."""
    fitting = [item for item in CATALOGUE.values() if item.unit_price <= Decimal(cost)]
    assert fitting, f"no catalogue item costs at most {cost}"
    return max(fitting, key=lambda item: item.unit_price).code


async def place(
    member: Member,
    cost: str,
    *,
    submit: bool = True,
    cost_centre: str = "",
    item: str | None = None,
) -> UUID:
    draft, errors = check_order(
        {
            "kind": "new",
            "item": item or item_costing_at_most(cost),
            "quantity": "1",
            "estimated_cost": cost,
            "cost_centre": cost_centre,
        }
    )
    assert draft is not None, errors
    return await place_order(
        await principal_of(member), Actor(member.id, member.organisation_id), draft, submit
    )


async def place_and_evaluate(member: Member, cost: str, **options: Any) -> UUID:
    order_id = await place(member, cost, **options)
    outcome = await evaluate_order(order_id, BASE_URL)
    assert isinstance(outcome, Outcome)
    return order_id


async def order_row(order_id: UUID) -> dict[str, Any]:
    row = await Order.select().where(Order.id == order_id).first()
    assert row is not None
    return row


async def status_of(order_id: UUID) -> str:
    status: str = (await order_row(order_id))["status"]
    return status


async def event_kinds(order_id: UUID) -> list[str]:
    rows = (
        await OrderEvent.select(OrderEvent.kind)
        .where(OrderEvent.order == order_id)
        .order_by(OrderEvent.occurred_at)
        .order_by(OrderEvent.id)
    )
    return [row["kind"] for row in rows]
