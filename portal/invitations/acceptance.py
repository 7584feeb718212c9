"""Accepting an invitation: what its link shows, and the one-time activation of the account
with its first password (a replayed or double-submitted link finds nothing pending)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from portal.activity.log import RequestOrigin, log_action
from portal.approvals.eligibility import refresh_for_organisation
from portal.auth.password_policy import PasswordRules, password_problems
from portal.auth.passwords import hash_password
from portal.auth.tokens import MAX_TOKEN_LENGTH, token_hash
from portal.db import write_transaction
from portal.invitations.service import InvitationError
from portal.invitations.states import LinkState, link_state
from portal.invitations.tables import Invitation
from portal.users.tables import User


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
        user = await User.select(User.session_epoch).where(User.id == link.user_id).first()
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
        await refresh_for_organisation(organisation_id)  # a new admin may decide fallen levels
    return Accepted(link.user_id, user["session_epoch"])


async def view_link_by_id(invitation_id: UUID) -> LinkState | None:
    row = (
        await Invitation.select(Invitation.status, Invitation.expires_at)
        .where(Invitation.id == invitation_id)
        .first()
    )
    return link_state(row["status"], row["expires_at"], datetime.now(UTC)) if row else None
