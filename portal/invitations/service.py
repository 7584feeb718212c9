"""Inviting colleagues: invite, send (or resend), cancel and accept.

Every change and its email are written in one transaction, and the workers are woken after
the commit (a lost wake-up is made good by the sweep). The email ids are returned too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from portal.activity.log import Actor, RequestOrigin, log_action
from portal.auth.password_policy import PasswordRules, password_problems
from portal.auth.passwords import hash_password
from portal.auth.tokens import MAX_TOKEN_LENGTH, new_token, token_hash
from portal.db import UNIQUE_VIOLATIONS, engine, write_transaction
from portal.errors import NotFound, Refusal
from portal.invitations.states import LinkState, link_state
from portal.invitations.tables import Invitation
from portal.jobs import wake_delivery
from portal.mail.outbox import queue_email
from portal.mail.render import render_email
from portal.organisations.service import MAX_NAME_LENGTH
from portal.permissions.model import Tier
from portal.permissions.tables import Role, UserRole
from portal.users.emails import MAX_EMAIL_LENGTH, is_valid_email, normalise_email
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
    elif len(name) > MAX_NAME_LENGTH:
        errors["full_name"] = f"Use at most {MAX_NAME_LENGTH} characters."
    email = normalise_email(invitee.email)
    if not email:
        errors["email"] = "Enter the colleague's email address."
    elif len(email) > MAX_EMAIL_LENGTH or not is_valid_email(email):
        errors["email"] = "This is not a valid email address."
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
            if role_ids and await Role.count().where(
                Role.id.is_in(role_ids) & (Role.organisation == actor.organisation_id)
            ) != len(role_ids):
                raise InvitationError({"roles": "Choose roles of this organisation."})
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


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the acceptance page shows for a link."""

    state: LinkState
    invitation_id: UUID
    user_id: UUID
    email: str
    full_name: str
    organisation: str
    inviter: str
    password_min_length: int


async def view_link(token: str) -> LinkView | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = (
        await Invitation.select(
            Invitation.id,
            Invitation.status,
            Invitation.expires_at,
            Invitation.user.id.as_alias("user_id"),
            Invitation.user.email.as_alias("email"),
            Invitation.user.full_name.as_alias("full_name"),
            Invitation.organisation.name.as_alias("organisation"),
            Invitation.organisation.password_min_length.as_alias("password_min_length"),
            Invitation.invited_by.full_name.as_alias("inviter"),
        )
        .where(Invitation.token_hash == token_hash(token))
        .first()
    )
    if row is None:
        return None
    return LinkView(
        state=link_state(row["status"], row["expires_at"], datetime.now(UTC)),
        invitation_id=row["id"],
        user_id=row["user_id"],
        email=row["email"],
        full_name=row["full_name"],
        organisation=row["organisation"],
        inviter=row["inviter"] or "an administrator",
        password_min_length=row["password_min_length"],
    )


@dataclass(frozen=True, slots=True)
class Accepted:
    user_id: UUID
    session_epoch: int
    idle_timeout_seconds: int


async def accept(link: LinkView, password: str, origin: RequestOrigin) -> Accepted | LinkState:
    """Activate the invited account with its first password; the link's state if it cannot."""
    if link.state is not LinkState.USABLE:
        return link.state
    rules = PasswordRules(min_length=link.password_min_length)
    problems = password_problems(password, rules, link.email, link.organisation)
    if problems:
        raise InvitationError({"password": " ".join(problems)})
    hashed = hash_password(password)  # before the transaction: it is slow on purpose
    now = datetime.now(UTC)
    async with write_transaction():
        # The conditional update is the whole decision: a replay or a double submit finds
        # nothing pending and gets the link's new state instead of a second account.
        taken = await (
            Invitation.update({Invitation.status: "accepted", Invitation.decided_at: now})
            .where(
                (Invitation.id == link.invitation_id)
                & (Invitation.status == "pending")
                & (Invitation.expires_at > now)
            )
            .returning(Invitation.organisation)
        )
        if not taken:
            fresh = await view_link_by_id(link.invitation_id)
            return fresh or LinkState.CANCELLED
        await User.update(
            {User.status: "active", User.password_hash: hashed, User.last_sign_in_at: now}
        ).where((User.id == link.user_id) & (User.status == "invited"))
        user = await (
            User.select(
                User.session_epoch,
                User.organisation.idle_timeout_minutes.as_alias("idle_timeout_minutes"),
            )
            .where(User.id == link.user_id)
            .first()
        )
        assert user is not None
        organisation_id = taken[0]["organisation"]
        await log_action(
            "invitation.accepted",
            organisation_id=organisation_id,
            actor_id=link.user_id,
            subject_id=link.user_id,
            origin=origin,
        )
        await log_action(
            "auth.signed_in",
            organisation_id=organisation_id,
            actor_id=link.user_id,
            subject_id=link.user_id,
            origin=origin,
            method="invitation",
        )
    return Accepted(link.user_id, user["session_epoch"], user["idle_timeout_minutes"] * 60)


async def view_link_by_id(invitation_id: UUID) -> LinkState | None:
    row = (
        await Invitation.select(Invitation.status, Invitation.expires_at)
        .where(Invitation.id == invitation_id)
        .first()
    )
    return link_state(row["status"], row["expires_at"], datetime.now(UTC)) if row else None


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
    return await _new_link(
        organisation_id=actor.organisation_id,
        user_id=user_id,
        invited_by=actor.user_id,
        expires_at=datetime.now(UTC) + timedelta(hours=lifetime["hours"]),
        base_url=base_url,
        template="invitation",
        reminder=False,
    )


async def _new_link(
    *,
    organisation_id: UUID,
    user_id: UUID,
    invited_by: UUID | None,
    expires_at: datetime,
    base_url: str,
    template: str,
    reminder: bool,
) -> UUID:
    """Store a new pending invitation (only its token's hash) and queue its email."""
    details = (
        await User.select(
            User.email, User.full_name, User.organisation.name.as_alias("organisation")
        )
        .where(User.id == user_id)
        .first()
    )
    assert details is not None
    inviter = (
        await User.select(User.full_name).where(User.id == invited_by).first()
        if invited_by
        else None
    )
    token = new_token()
    invitation = Invitation(
        organisation=organisation_id,
        user=user_id,
        invited_by=invited_by,
        token_hash=token_hash(token),
        expires_at=expires_at,
        reminder_sent_at=datetime.now(UTC) if reminder else None,
    )
    await invitation.save()
    inviter_name = inviter["full_name"] if inviter else "An administrator"
    subject = (
        f"Reminder: your invitation to {details['organisation']} expires soon"
        if reminder
        else f"{inviter_name} invited you to {details['organisation']}"
    )
    email = render_email(
        template,
        subject=subject,
        full_name=details["full_name"],
        inviter=inviter_name,
        organisation=details["organisation"],
        link=f"{base_url}/invitations/{token}",
        expires=expires_at.strftime("%d %B %Y, %H:%M UTC"),
    )
    email_id = await queue_email(
        organisation_id=organisation_id,
        event_key=f"{template}:{invitation.id}",
        kind=template,
        to_address=details["email"],
        email=email,
    )
    assert email_id is not None  # a new invitation id is a new event
    return email_id


REMIND_BEFORE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Upkeep:
    reminder_email_ids: tuple[UUID, ...]
    expired: int


async def remind_and_expire(base_url: str) -> Upkeep:
    """The scheduled upkeep: one reminder a day before expiry, then expiry itself.

    Tokens are never stored, so a reminder carries a fresh link with the same expiry; the
    older link then says a newer invitation was sent. Each invitation is settled in its own
    transaction by a conditional update, so concurrent runs remind once.
    """
    now = datetime.now(UTC)
    due = await Invitation.select(Invitation.id).where(
        (Invitation.status == "pending")
        & Invitation.reminder_sent_at.is_null()
        & (Invitation.expires_at > now)
        & (Invitation.expires_at <= now + REMIND_BEFORE)
    )
    email_ids = []
    for row in due:
        email_id = await _remind(row["id"], base_url)
        if email_id is not None:
            wake_delivery([email_id])
            email_ids.append(email_id)
    async with write_transaction():
        expired = await (
            Invitation.update({Invitation.status: "expired", Invitation.decided_at: now})
            .where((Invitation.status == "pending") & (Invitation.expires_at <= now))
            .returning(Invitation.organisation, Invitation.user)
        )
        for invitation in expired:
            await log_action(
                "invitation.expired",
                organisation_id=invitation["organisation"],
                subject_id=invitation["user"],
            )
    return Upkeep(tuple(email_ids), len(expired))


async def _remind(invitation_id: UUID, base_url: str) -> UUID | None:
    now = datetime.now(UTC)
    async with write_transaction():
        taken = await (
            Invitation.update({Invitation.status: "superseded", Invitation.decided_at: now})
            .where(
                (Invitation.id == invitation_id)
                & (Invitation.status == "pending")
                & Invitation.reminder_sent_at.is_null()
            )
            .returning(
                Invitation.organisation,
                Invitation.user,
                Invitation.invited_by,
                Invitation.expires_at,
            )
        )
        if not taken:
            return None  # accepted, cancelled or reminded meanwhile
        old = taken[0]
        actor = Actor(old["invited_by"], old["organisation"]) if old["invited_by"] else None
        email_id = await _new_link(
            organisation_id=old["organisation"],
            user_id=old["user"],
            invited_by=old["invited_by"],
            expires_at=old["expires_at"],
            base_url=base_url,
            template="invitation_reminder",
            reminder=True,
        )
        await log_action(
            "invitation.reminded",
            organisation_id=old["organisation"],
            actor_id=actor.user_id if actor else None,
            subject_id=old["user"],
        )
    return email_id
