"""Account access assistance: an admin's access email, the user's own "forgot password", and
setting a new password with the emailed link.

A link is a high-entropy token of which only the SHA-256 is stored; it works once, for one
hour, and a newer link supersedes the older ones. Each change and its email are written in one
transaction, and the workers are woken after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from portal.activity.log import Actor, RequestOrigin, log_action
from portal.auth.password_policy import PasswordRules, password_problems
from portal.auth.passwords import hash_password
from portal.auth.tokens import MAX_TOKEN_LENGTH, new_token, token_hash
from portal.db import for_update, write_transaction
from portal.errors import NotFound, Refusal
from portal.jobs import wake_delivery
from portal.mail.outbox import queue_email
from portal.mail.render import RenderedEmail, render_email
from portal.recovery.states import ResetState, reset_state
from portal.recovery.tables import PasswordReset
from portal.users.emails import MAX_EMAIL_LENGTH, is_valid_email, normalise_email
from portal.users.tables import User

LINK_LIFETIME = timedelta(hours=1)
# A user asking again within this time gets no second email (the first one is on its way).
REQUEST_INTERVAL = timedelta(minutes=1)


class AccessEmailRefused(Refusal):
    """The user's account cannot be sent an access email; nothing was written."""

    status = 409


class PasswordRefused(Refusal):
    """The new password breaks the organisation's rules; nothing was written."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


@dataclass(frozen=True, slots=True)
class AccessEmail:
    email_id: UUID
    expires_at: datetime


def forgot_password_problem(email: str) -> str | None:
    """The one message the forgot-password form can show; it never depends on the database."""
    address = normalise_email(email)
    if not address:
        return "Enter your email address."
    if len(address) > MAX_EMAIL_LENGTH or not is_valid_email(address):
        return "This is not a valid email address."
    return None


async def send_access_email(actor: Actor, user_id: UUID, base_url: str) -> AccessEmail:
    """An admin sends a user of their organisation a link to set a new password."""
    async with write_transaction():
        user = await _user_row(
            (User.id == user_id) & (User.organisation == actor.organisation_id), lock=True
        )
        if user is None:
            raise NotFound("user")
        if user["kind"] != "interactive":
            raise AccessEmailRefused("API users do not sign in with a password.")
        if user["status"] == "invited":
            raise AccessEmailRefused(
                "This user has not accepted their invitation yet: send the invitation again."
            )
        if user["status"] != "active":
            raise AccessEmailRefused(
                "This user is inactive. Reactivate them before sending an access email."
            )
        sender = await User.select(User.full_name).where(User.id == actor.user_id).first()
        link = _draft(user, sender["full_name"] if sender else "An administrator", base_url)
        email_id = await _store(link, user, requested_by=actor.user_id, kind="access_email")
        await log_action(
            "user.access_email_sent",
            organisation_id=actor.organisation_id,
            actor_id=actor.user_id,
            subject_id=user_id,
            origin=actor.origin,
            data={"expires_at": link.expires_at.isoformat()},
        )
    wake_delivery([email_id])
    return AccessEmail(email_id, link.expires_at)


async def request_reset(email: str, origin: RequestOrigin, base_url: str) -> UUID | None:
    """Someone asks for a reset link for an address. Only an active interactive account gets
    an email, at most one per REQUEST_INTERVAL. Every path runs the same reads, draws a token,
    renders the email and writes a log row: the time taken does not tell whether it exists."""
    address = normalise_email(email)[:MAX_EMAIL_LENGTH]
    email_id = None
    async with write_transaction():
        user = await _user_row(User.email == address, lock=True)
        link = _draft(user or _NOBODY, None, base_url)
        reason = _ineligible(user)
        recent = await _recent_link(user["id"] if user else _NO_USER)
        if reason is None and recent:
            reason = "recent_link"
        if user is not None and reason is None:
            email_id = await _store(link, user, requested_by=None, kind="password_reset")
        await log_action(
            "auth.password_reset_requested",
            organisation_id=user["organisation"] if user else None,
            subject_id=user["id"] if user else None,
            origin=origin,
            reason=reason or "",
            data={"email": address, "sent": email_id is not None},
        )
    wake_delivery([email_id] if email_id else [])
    return email_id


@dataclass(frozen=True, slots=True)
class ResetLink:
    """What the reset page shows for a link."""

    state: ResetState
    reset_id: UUID
    user_id: UUID
    email: str
    organisation: str
    password_min_length: int


async def view_reset(token: str) -> ResetLink | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return await _link_where(PasswordReset.token_hash == token_hash(token))


@dataclass(frozen=True, slots=True)
class PasswordChanged:
    user_id: UUID
    session_epoch: int


async def reset_password(
    link: ResetLink, password: str, origin: RequestOrigin
) -> PasswordChanged | ResetState:
    """Set the new password, end the user's other sessions and sign them in; the link's state
    instead if it cannot be used (any more)."""
    if link.state is not ResetState.USABLE:
        return link.state
    rules = PasswordRules(min_length=link.password_min_length)
    problems = password_problems(password, rules, link.email, link.organisation)
    if problems:
        raise PasswordRefused({"password": " ".join(problems)})
    hashed = hash_password(password)  # before the transaction: it is slow on purpose
    now = datetime.now(UTC)
    try:
        async with write_transaction():
            # The conditional update is the whole decision: a replay or a double submit finds
            # nothing pending and gets the link's new state instead of a second change.
            taken = await (
                PasswordReset.update({PasswordReset.status: "used", PasswordReset.used_at: now})
                .where(
                    (PasswordReset.id == link.reset_id)
                    & (PasswordReset.status == "pending")
                    & (PasswordReset.expires_at > now)
                )
                .returning(PasswordReset.organisation, PasswordReset.requested_by)
            )
            if not taken:
                fresh = await _link_where(PasswordReset.id == link.reset_id)
                return fresh.state if fresh else ResetState.SUPERSEDED
            # A new epoch ends every session issued before, on its next request.
            changed = await (
                User.update(
                    {
                        User.password_hash: hashed,
                        User.session_epoch: User.session_epoch + 1,
                        User.last_sign_in_at: now,
                    }
                )
                .where(
                    (User.id == link.user_id)
                    & (User.status == "active")
                    & (User.kind == "interactive")
                )
                .returning(User.session_epoch)
            )
            if not changed:
                raise _AccountInactive  # rolls the link back: it stays pending
            await PasswordReset.update({PasswordReset.status: "superseded"}).where(
                (PasswordReset.user == link.user_id) & (PasswordReset.status == "pending")
            )
            organisation_id = taken[0]["organisation"]
            requested_by = taken[0]["requested_by"]
            await log_action(
                "auth.password_reset",
                organisation_id=organisation_id,
                actor_id=link.user_id,
                subject_id=link.user_id,
                origin=origin,
                method="access_email" if requested_by else "forgot_password",
                data={"requested_by": str(requested_by) if requested_by else None},
            )
            await log_action(
                "auth.signed_in",
                organisation_id=organisation_id,
                actor_id=link.user_id,
                subject_id=link.user_id,
                origin=origin,
                method="password_reset",
            )
            return PasswordChanged(link.user_id, changed[0]["session_epoch"])
    except _AccountInactive:
        return ResetState.ACCOUNT_INACTIVE


class _AccountInactive(Exception):
    """Raised inside the transaction to undo taking the link."""


@dataclass(frozen=True, slots=True)
class _Draft:
    reset_id: UUID
    token_hash: str
    expires_at: datetime
    email: RenderedEmail


# Stand in for the account when none matches, so that the same work is done.
_NO_USER = UUID(int=0)
_NOBODY: dict[str, Any] = {
    "full_name": "there",
    "organisation_name": "the customer portal",
}


def _draft(user: dict[str, Any], sender: str | None, base_url: str) -> _Draft:
    token = new_token()
    expires_at = datetime.now(UTC) + LINK_LIFETIME
    subject = (
        f"{sender} sent you a link to set your password for {user['organisation_name']}"
        if sender
        else f"Reset your password for {user['organisation_name']}"
    )
    email = render_email(
        "password_reset",
        subject=subject,
        full_name=user["full_name"],
        organisation=user["organisation_name"],
        sender=sender,
        link=f"{base_url}/reset-password/{token}",
        expires=expires_at.strftime("%d %B %Y, %H:%M UTC"),
    )
    return _Draft(uuid.uuid4(), token_hash(token), expires_at, email)


async def _store(link: _Draft, user: dict[str, Any], requested_by: UUID | None, kind: str) -> UUID:
    """Save the link, superseding the user's pending ones, and queue its email. In a transaction."""
    await PasswordReset.update({PasswordReset.status: "superseded"}).where(
        (PasswordReset.user == user["id"]) & (PasswordReset.status == "pending")
    )
    await PasswordReset.insert(
        PasswordReset(
            id=link.reset_id,
            organisation=user["organisation"],
            user=user["id"],
            requested_by=requested_by,
            token_hash=link.token_hash,
            created_at=datetime.now(UTC),
            expires_at=link.expires_at,
        )
    )
    email_id = await queue_email(
        organisation_id=user["organisation"],
        event_key=f"password_reset:{link.reset_id}",
        kind=kind,
        to_address=user["email"],
        email=link.email,
    )
    assert email_id is not None  # a new link id is a new event
    return email_id


async def _user_row(condition: Any, lock: bool = False) -> dict[str, Any] | None:
    query = User.select(
        User.id,
        User.organisation,
        User.email,
        User.full_name,
        User.status,
        User.kind,
        User.organisation.name.as_alias("organisation_name"),
    ).where(condition)
    if lock:
        # Serialises two links issued for one user at once.
        query = for_update(query)
    row: dict[str, Any] | None = await query.first()
    return row


def _ineligible(user: dict[str, Any] | None) -> str | None:
    """Why an address gets no reset email (for the log only, never for the answer)."""
    if user is None:
        return "unknown_email"
    if user["kind"] != "interactive":
        return "api_user"
    if user["status"] != "active":
        return f"user_{user['status']}"
    return None


async def _recent_link(user_id: UUID) -> bool:
    since = datetime.now(UTC) - REQUEST_INTERVAL
    found: bool = await PasswordReset.exists().where(
        (PasswordReset.user == user_id)
        & (PasswordReset.status == "pending")
        & (PasswordReset.created_at > since)
    )
    return found


async def _link_where(condition: Any) -> ResetLink | None:
    row = (
        await PasswordReset.select(
            PasswordReset.id,
            PasswordReset.status,
            PasswordReset.expires_at,
            PasswordReset.user.id.as_alias("user_id"),
            PasswordReset.user.email.as_alias("email"),
            PasswordReset.user.status.as_alias("user_status"),
            PasswordReset.user.kind.as_alias("user_kind"),
            PasswordReset.organisation.name.as_alias("organisation"),
            PasswordReset.organisation.password_min_length.as_alias("min_length"),
        )
        .where(condition)
        .first()
    )
    if row is None:
        return None
    active = row["user_status"] == "active" and row["user_kind"] == "interactive"
    return ResetLink(
        state=reset_state(row["status"], row["expires_at"], datetime.now(UTC), active),
        reset_id=row["id"],
        user_id=row["user_id"],
        email=row["email"],
        organisation=row["organisation"],
        password_min_length=row["min_length"],
    )
