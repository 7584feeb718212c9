"""Password sign-in. The answer never tells whether an email exists: the same message, and
the same work (one argon2 verification and one log write) on every path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from piccolo.columns import Column

from portal.activity.log import RequestOrigin, log_action
from portal.auth.passwords import hash_password, needs_rehash, verify_password
from portal.db import write_transaction
from portal.users.emails import MAX_EMAIL_LENGTH, normalise_email
from portal.users.tables import User

# Beyond this, argon2 would be made to hash megabytes on an attacker's behalf.
MAX_PASSWORD_LENGTH = 1024
GENERIC_FAILURE = "That email and password do not match an active account."


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: UUID
    session_epoch: int


async def authenticate(email: str, password: str, origin: RequestOrigin) -> SignedIn | None:
    """Check a password sign-in and record it; None on any failure, with the reason logged."""
    address = normalise_email(email)[:MAX_EMAIL_LENGTH]
    user = (
        await User.select(
            User.id,
            User.organisation,
            User.password_hash,
            User.status,
            User.kind,
            User.session_epoch,
        )
        .where(User.email == address)
        .first()
    )
    too_long = len(password) > MAX_PASSWORD_LENGTH
    password_ok = verify_password(
        None if user is None or too_long else user["password_hash"], password[:MAX_PASSWORD_LENGTH]
    )
    reason = _failure_reason(user, password_ok)
    async with write_transaction():
        if reason is not None:
            await log_action(
                "auth.sign_in_failed",
                organisation_id=user["organisation"] if user else None,
                subject_id=user["id"] if user else None,
                origin=origin,
                method="password",
                reason=reason,
                data={"email": address},
            )
            return None
        assert user is not None
        changes: dict[Column | str, Any] = {User.last_sign_in_at: datetime.now(UTC)}
        if needs_rehash(user["password_hash"]):
            changes[User.password_hash] = hash_password(password)
        await User.update(changes).where(User.id == user["id"])
        await log_action(
            "auth.signed_in",
            organisation_id=user["organisation"],
            actor_id=user["id"],
            subject_id=user["id"],
            origin=origin,
            method="password",
        )
    return SignedIn(user["id"], user["session_epoch"])


def _failure_reason(user: dict[str, object] | None, password_ok: bool) -> str | None:
    if user is None:
        return "unknown_email"
    if not password_ok:
        return "wrong_password"
    if user["kind"] != "interactive":
        return "api_user"
    if user["status"] != "active":
        return f"user_{user['status']}"
    return None
