"""Inviting colleagues: invite, send (or resend) and cancel; accepting is in `acceptance`.

Every change and its email are written in one transaction, and the workers are woken after
the commit (a lost wake-up is made good by the sweep). The email ids are returned too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from portal.activity.log import Actor, log_action
from portal.db import UNIQUE_VIOLATIONS, engine, lock_organisation, write_transaction
from portal.errors import NotFound, Refusal
from portal.invitations.links import new_link
from portal.invitations.tables import Invitation
from portal.jobs import wake_delivery
from portal.organisations.service import MAX_NAME_LENGTH
from portal.permissions.model import Tier
from portal.permissions.queries import NOT_ASSIGNABLE, all_assignable
from portal.permissions.tables import UserRole
from portal.text import CONTROL_MESSAGE, has_control_characters
from portal.users.emails import email_problem, normalise_email
from portal.users.tables import User


class InvitationError(Refusal):
    """Refused input, one message per field; nothing was written."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


@dataclass(frozen=True, slots=True)
class Invitee:
    full_name: str
    email: str
    tier: str
    role_ids: Sequence[UUID] = ()
    send_now: bool = True


@dataclass(frozen=True, slots=True)
class Invited:
    user_id: UUID
    email_ids: tuple[UUID, ...]


def validate_invitee(invitee: Invitee) -> dict[str, str]:
    """Field errors of an invitation, without touching the database."""
    errors = {}
    name = " ".join(invitee.full_name.split())
    if not name:
        errors["full_name"] = "Enter the colleague's name."
    elif has_control_characters(name):
        errors["full_name"] = CONTROL_MESSAGE
    elif len(name) > MAX_NAME_LENGTH:
        errors["full_name"] = f"Use at most {MAX_NAME_LENGTH} characters."
    email = normalise_email(invitee.email)
    if not email:
        errors["email"] = "Enter the colleague's email address."
    elif problem := email_problem(email):
        errors["email"] = problem
    if invitee.tier not in {tier.value for tier in Tier}:
        errors["tier"] = "Choose admin, manager or user."
    return errors


async def invite(actor: Actor, invitee: Invitee, base_url: str) -> Invited:
    errors = validate_invitee(invitee)
    if errors:
        raise InvitationError(errors)
    email = normalise_email(invitee.email)
    # Joined to a caller's transaction (a batch row), the caller wakes the emails after its commit.
    owns_transaction = not engine().transaction_exists()
    try:
        async with write_transaction():
            if await User.exists().where(User.email == email):
                raise InvitationError({"email": "This email is already in use."})
            role_ids = list(dict.fromkeys(invitee.role_ids))
            if role_ids:
                # Serialised with archiving, which refuses a role that someone holds.
                await lock_organisation(actor.organisation_id)
                if not await all_assignable(actor.organisation_id, role_ids):
                    raise InvitationError({"roles": NOT_ASSIGNABLE})
            user = User(
                organisation=actor.organisation_id,
                email=email,
                full_name=" ".join(invitee.full_name.split()),
                tier=invitee.tier,
                status="invited",
            )
            await user.save()
            for role_id in role_ids:
                await UserRole(user=user.id, role=role_id).save()
            await log_action(
                "user.invited",
                organisation_id=actor.organisation_id,
                actor_id=actor.user_id,
                subject_id=user.id,
                origin=actor.origin,
                data={"email": email, "tier": invitee.tier, "send_now": invitee.send_now},
            )
            email_ids: tuple[UUID, ...] = ()
            if invitee.send_now:
                email_ids = (await _issue(actor, user.id, base_url),)
    except UNIQUE_VIOLATIONS:
        # Another admin invited the same address a moment ago: theirs stands.
        raise InvitationError({"email": "This email is already in use."}) from None
    if owns_transaction:
        wake_delivery(email_ids)
    return Invited(user.id, email_ids)


async def send_invitation(actor: Actor, user_id: UUID, base_url: str) -> UUID:
    """Send (or resend) the invitation of an invited user: a new link; older ones stop working."""
    try:
        async with write_transaction():
            user = await _user_in(actor.organisation_id, user_id)
            if user["status"] != "invited":
                raise InvitationError({"user": "Only invited users can be sent an invitation."})
            email_id = await _issue(actor, user_id, base_url)
            await log_action(
                "invitation.sent",
                organisation_id=actor.organisation_id,
                actor_id=actor.user_id,
                subject_id=user_id,
                origin=actor.origin,
            )
    except UNIQUE_VIOLATIONS:
        raise InvitationError({"user": "An invitation was just sent; try again."}) from None
    wake_delivery([email_id])
    return email_id


async def cancel_invitation(actor: Actor, user_id: UUID) -> None:
    """Kill the pending link; the invited user leaves the pending list (history is kept)."""
    async with write_transaction():
        user = await _user_in(actor.organisation_id, user_id)
        if user["status"] != "invited":
            raise InvitationError({"user": "This user has no invitation to cancel."})
        await _close_pending(user_id, "cancelled")
        await User.update({User.status: "inactive"}).where(User.id == user_id)
        await log_action(
            "invitation.cancelled",
            organisation_id=actor.organisation_id,
            actor_id=actor.user_id,
            subject_id=user_id,
            origin=actor.origin,
        )


async def _user_in(organisation_id: UUID, user_id: UUID) -> dict[str, Any]:
    user = (
        await User.select(User.id, User.status, User.email, User.full_name)
        .where((User.id == user_id) & (User.organisation == organisation_id))
        .first()
    )
    if user is None:
        raise NotFound("user")
    return user


async def _close_pending(user_id: UUID, status: str) -> None:
    await Invitation.update(
        {Invitation.status: status, Invitation.decided_at: datetime.now(UTC)}
    ).where((Invitation.user == user_id) & (Invitation.status == "pending"))


async def _issue(actor: Actor, user_id: UUID, base_url: str) -> UUID:
    """A fresh link for the user, superseding any pending one, and its email. In a transaction."""
    await _close_pending(user_id, "superseded")
    lifetime = (
        await User.select(User.organisation.invitation_lifetime_hours.as_alias("hours"))
        .where(User.id == user_id)
        .first()
    )
    assert lifetime is not None
    return await new_link(
        organisation_id=actor.organisation_id,
        user_id=user_id,
        invited_by=actor.user_id,
        expires_at=datetime.now(UTC) + timedelta(hours=lifetime["hours"]),
        base_url=base_url,
        template="invitation",
        reminder=False,
    )
