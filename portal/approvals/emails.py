"""The approval engine's emails: what approvers and requesters are told, and when. Each email
is queued in the caller's transaction, keyed by its event, so a step run twice queues it once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from portal.approvals.rules import Progress
from portal.mail.outbox import queue_email
from portal.mail.render import render_email
from portal.money import format_money
from portal.users.tables import User

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
        ("Estimated cost", format_money(order["estimated_cost"], order["currency"])),
        ("Cost centre", order["cost_centre"] or "—"),
        ("Requested by", order["requester_name"]),
    ]


def _link(order: Mapping[str, Any], base_url: str) -> str:
    return f"{base_url.rstrip('/')}/orders/{order['id']}"


async def email_approvers(
    order: Mapping[str, Any], state: Progress, kind: str, base_url: str
) -> list[UUID]:
    """Queue one email per active decider of the waiting level; returns their ids."""
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
            link=_link(order, base_url),
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


async def email_requester(
    order: Mapping[str, Any],
    kind: str,
    reason: str,
    base_url: str,
    decided_by: UUID | None = None,
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
        link=_link(order, base_url),
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
