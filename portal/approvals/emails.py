"""The approval engine's emails: what approvers and requesters are told, and when. Each email
is queued in the caller's transaction, keyed by its event, so a step run twice queues it once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from portal.approvals.rules import Directory, Progress
from portal.mail.outbox import queue_email
from portal.mail.render import render_email
from portal.money import format_money

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
    order: Mapping[str, Any], state: Progress, kind: str, base_url: str, directory: Directory
) -> list[UUID]:
    """Queue one email per active decider of the waiting level (their addresses from the
    directory the step already read); returns their ids."""
    subject, sentence = APPROVER_EMAILS[kind]
    emails = []
    for person_id in sorted(state.deciders):
        if person_id not in directory.contacts:
            continue
        address, full_name = directory.contacts[person_id]
        email = render_email(
            "order_notice",
            subject.format(number=order["number"]),
            full_name=full_name,
            sentence=f"Order {order['number']} in {order['organisation_name']} {sentence}.",
            details=_details(order),
            reason="",
            link=_link(order, base_url),
        )
        key = f"order-{kind}:{order['id']}:{order['revision']}:{state.level}:{person_id}"
        email_id = await queue_email(
            organisation_id=order["organisation"],
            event_key=key,
            kind=f"order_{kind}",
            to_address=address,
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
    directory: Directory | None = None,
) -> UUID:
    """`directory`: the one the decision read, which names who decided."""
    subject, sentence = REQUESTER_EMAILS[kind]
    details = _details(order)
    if decided_by is not None:
        known = directory.contacts.get(decided_by) if directory else None
        details.append(("Decided by", known[1] if known else "—"))
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
