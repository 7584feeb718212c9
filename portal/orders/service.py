"""Placing, editing, submitting and cancelling orders: the requester's side.

Evaluation and decisions are the engine's (workflows/approval_engine.py). A submission only
marks the order submitted in the database and wakes a worker after the commit; if the broker
is down the order waits for the sweep, so submitting never fails because of Redis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from piccolo.query.functions.aggregate import Max

from portal.activity.log import Actor
from portal.approvals.eligibility import clear_for_order
from portal.costcentres.queries import centres_of
from portal.costcentres.rules import choose_code
from portal.db import for_update, lock_organisation, write_transaction
from portal.errors import FIELDS_MESSAGE, Refusal
from portal.jobs import wake_evaluation
from portal.money import format_money
from portal.orders.states import OrderKind
from portal.orders.tables import Order
from portal.orders.timeline import EventKind, record
from portal.orders.validation import OrderDraft
from portal.organisations.queries import currency_of
from portal.permissions.principal import Principal
from portal.services.queries import visible_to
from portal.services.tables import Service

UNDECIDED = ("draft", "submitted", "pending_approval")
AWAITING = ("submitted", "pending_approval")
MAX_CANCEL_REASON = 1000


class OrderError(Refusal):
    """A refused change; nothing was stored. `status`: 404, 403, 409 or 422 (with `errors`)."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message, errors, status)


def _check_actor(principal: Principal, actor: Actor) -> None:
    if (principal.user_id, principal.organisation_id) != (actor.user_id, actor.organisation_id):
        raise ValueError("the actor must be the principal")


async def _check_service(principal: Principal, draft: OrderDraft) -> None:
    if draft.kind is OrderKind.CHANGE and not await Service.exists().where(
        visible_to(principal) & (Service.id == draft.service_id)
    ):
        raise OrderError(422, "Some fields need another look.", {"service": "Choose a service."})


async def _with_cost_centre(
    organisation_id: UUID, draft: OrderDraft, kept: Iterable[str] = ()
) -> OrderDraft:
    """The draft naming an active cost centre of the organisation by its code (or none);
    the one the order already names (`kept`) stays allowed after it was archived."""
    try:
        code = choose_code(draft.cost_centre, await centres_of(organisation_id), kept)
    except ValueError as error:
        raise OrderError(422, FIELDS_MESSAGE, {"cost_centre": str(error)}) from None
    return replace(draft, cost_centre=code)


def _fields(draft: OrderDraft) -> dict[Any, Any]:
    return {
        Order.kind: draft.kind.value,
        Order.item: draft.item,
        Order.service: draft.service_id,
        Order.description: draft.description,
        Order.quantity: draft.quantity,
        Order.estimated_cost: draft.estimated_cost,
        Order.cost_centre: draft.cost_centre,
        Order.notes: draft.notes,
    }


async def place_order(principal: Principal, actor: Actor, draft: OrderDraft, submit: bool) -> UUID:
    """A new order of the principal's, saved as a draft or submitted for approval."""
    _check_actor(principal, actor)
    now = datetime.now(UTC)
    async with write_transaction():
        # Serialises the numbering within the organisation; the unique index backs it up.
        await lock_organisation(actor.organisation_id)
        await _check_service(principal, draft)
        draft = await _with_cost_centre(actor.organisation_id, draft)
        currency = await currency_of(actor.organisation_id)
        last = (
            await Order.select(Max(Order.number, alias="last"))
            .where(Order.organisation == actor.organisation_id)
            .first()
        )
        order = Order(
            organisation=actor.organisation_id,
            number=((last or {}).get("last") or 1000) + 1,
            requester=actor.user_id,
            currency=currency,
            status="submitted" if submit else "draft",
            revision=1 if submit else 0,
            submitted_at=now if submit else None,
        )
        for column, value in _fields(draft).items():
            setattr(order, column._meta.name, value)
        await order.save()
        kind = EventKind.SUBMITTED if submit else EventKind.DRAFTED
        await record(
            order.id,
            actor.organisation_id,
            kind,
            f"{draft.description}, quantity {draft.quantity}, "
            f"{format_money(draft.estimated_cost, currency)}.",
            actor_id=actor.user_id,
            origin=actor.origin,
            data={"number": order.number},
        )
    order_id: UUID = order.id
    if submit:
        wake_evaluation(order_id)
    return order_id


async def _own_order(actor: Actor, order_id: UUID) -> dict[str, Any]:
    order: dict[str, Any] | None = await for_update(
        Order.select().where((Order.id == order_id) & (Order.organisation == actor.organisation_id))
    ).first()
    if order is None:
        raise OrderError(404, "No such order.")
    if order["requester"] != actor.user_id:
        raise OrderError(403, "Only the person who placed an order can change it.")
    return order


def _draft_of(order: dict[str, Any]) -> OrderDraft:
    return OrderDraft(
        kind=OrderKind(order["kind"]),
        item=order["item"],
        service_id=order["service"],
        description=order["description"],
        quantity=order["quantity"],
        estimated_cost=order["estimated_cost"],
        cost_centre=order["cost_centre"],
        notes=order["notes"],
    )


def _changes(before: OrderDraft, after: OrderDraft, currency: str) -> str:
    """What an edit changed, for the timeline: "estimated cost: GBP 6,200.00 → GBP 5,800.00"."""

    def shown(draft: OrderDraft, name: str) -> object:
        value = getattr(draft, name)
        return format_money(value, currency) if name == "estimated_cost" else value

    labels = {
        "description": "item",
        "quantity": "quantity",
        "estimated_cost": "estimated cost",
        "cost_centre": "cost centre",
        "notes": "notes",
    }
    parts = [
        f"{label}: {shown(before, name)} → {shown(after, name)}"
        for name, label in labels.items()
        if getattr(before, name) != getattr(after, name)
    ]
    return "; ".join(parts)


async def edit_order(principal: Principal, actor: Actor, order_id: UUID, draft: OrderDraft) -> bool:
    """Change an undecided order. Returns whether its approvals were reset: an edit of what
    policies read or approvers weighed, while it waits, starts its evaluation again."""
    _check_actor(principal, actor)
    now = datetime.now(UTC)
    async with write_transaction():
        order = await _own_order(actor, order_id)
        if order["status"] not in UNDECIDED:
            raise OrderError(409, f"This order is {order['status']}; it can no longer be edited.")
        await _check_service(principal, draft)
        draft = await _with_cost_centre(actor.organisation_id, draft, [order["cost_centre"]])
        before = _draft_of(order)
        if before == draft:
            return False
        reset = order["status"] in AWAITING and draft.differs_for_approval(before)
        changes = _fields(draft) | {Order.updated_at: now}
        if reset:
            changes |= {
                Order.status: "submitted",
                Order.revision: order["revision"] + 1,
                Order.snapshot: "{}",
                Order.current_level: None,
                Order.level_started_at: None,
                Order.remind_at: None,
                Order.escalate_at: None,
                Order.escalated: False,
                Order.submitted_at: now,
            }
        await Order.update(changes).where(Order.id == order_id)
        if reset:
            await clear_for_order(order_id)
        note = " Approvals were reset; the order is evaluated again." if reset else ""
        await record(
            order_id,
            actor.organisation_id,
            EventKind.EDITED,
            _changes(before, draft, order["currency"]) + "." + note,
            actor_id=actor.user_id,
            origin=actor.origin,
            data={"reset": reset},
        )
    if reset:
        wake_evaluation(order_id)
    return reset


async def submit_order(actor: Actor, order_id: UUID) -> None:
    async with write_transaction():
        order = await _own_order(actor, order_id)
        if order["status"] != "draft":
            raise OrderError(409, "This order was already submitted.")
        now = datetime.now(UTC)
        await Order.update(
            {
                Order.status: "submitted",
                Order.revision: order["revision"] + 1,
                Order.submitted_at: now,
                Order.updated_at: now,
            }
        ).where((Order.id == order_id) & (Order.status == "draft"))
        await record(
            order_id,
            actor.organisation_id,
            EventKind.SUBMITTED,
            "Submitted for approval.",
            actor_id=actor.user_id,
            origin=actor.origin,
        )
    wake_evaluation(order_id)


async def cancel_order(actor: Actor, order_id: UUID, reason: str = "") -> None:
    reason = reason.strip()
    if len(reason) > MAX_CANCEL_REASON:
        raise OrderError(
            422, "Some fields need another look.", {"reason": "Use at most 1000 characters."}
        )
    async with write_transaction():
        order = await _own_order(actor, order_id)
        if order["status"] not in UNDECIDED:
            raise OrderError(
                409, f"This order is {order['status']}; it can no longer be cancelled."
            )
        now = datetime.now(UTC)
        await Order.update(
            {
                Order.status: "cancelled",
                Order.decided_at: now,
                Order.updated_at: now,
                Order.current_level: None,
                Order.remind_at: None,
                Order.escalate_at: None,
            }
        ).where(Order.id == order_id)
        await clear_for_order(order_id)
        await record(
            order_id,
            actor.organisation_id,
            EventKind.CANCELLED,
            f"Cancelled by the requester.{' Reason: ' + reason if reason else ''}",
            actor_id=actor.user_id,
            origin=actor.origin,
        )
