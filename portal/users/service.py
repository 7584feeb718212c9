"""The user lifecycle: deactivate and reactivate. Users are never deleted."""

from __future__ import annotations

from uuid import UUID

from portal.activity.log import Actor, log_action
from portal.db import lock_organisation, write_transaction
from portal.invitations.service import InvitationError, NotFound, send_invitation
from portal.invitations.tables import Invitation
from portal.users.tables import User

MAX_REASON_LENGTH = 500


class LifecycleError(ValueError):
    """A rule of the organisation refuses the change; nothing was written."""


async def deactivate(actor: Actor, user_id: UUID, reason: str = "") -> None:
    """Stop sign-in, end sessions and API access on the next request, cancel any invitation."""
    reason = reason.strip()[:MAX_REASON_LENGTH]
    async with write_transaction():
        await lock_organisation(actor.organisation_id)
        user = await _user(actor.organisation_id, user_id)
        if user["status"] == "inactive":
            return
        if user["is_owner"] and user_id != actor.user_id:
            raise LifecycleError("The owner of the organisation cannot be deactivated by others.")
        if user["status"] == "active" and user["tier"] == "admin":
            await _require_another_active_admin(actor.organisation_id, user_id)
        await Invitation.update({Invitation.status: "cancelled"}).where(
            (Invitation.user == user_id) & (Invitation.status == "pending")
        )
        await User.update(
            {User.status: "inactive", User.session_epoch: User.session_epoch + 1}
        ).where(User.id == user_id)
        await log_action(
            "user.deactivated",
            organisation_id=actor.organisation_id,
            actor_id=actor.user_id,
            subject_id=user_id,
            origin=actor.origin,
            reason=reason[:64],
            data={"before": user["status"], "after": "inactive", "reason": reason},
        )


async def reactivate(actor: Actor, user_id: UUID, base_url: str, reason: str = "") -> UUID | None:
    """Restore the same account. One that never set a password is invited again: the id of
    the invitation email is returned, for waking the workers after the commit."""
    reason = reason.strip()[:MAX_REASON_LENGTH]
    async with write_transaction():
        user = await _user(actor.organisation_id, user_id)
        if user["status"] != "inactive":
            raise LifecycleError("Only inactive users can be reactivated.")
        never_activated = user["password_hash"] is None
        await User.update({User.status: "invited" if never_activated else "active"}).where(
            User.id == user_id
        )
        await log_action(
            "user.reactivated",
            organisation_id=actor.organisation_id,
            actor_id=actor.user_id,
            subject_id=user_id,
            origin=actor.origin,
            reason=reason[:64],
            data={"reason": reason, "invited_again": never_activated},
        )
    if never_activated:
        try:
            return await send_invitation(actor, user_id, base_url)
        except InvitationError as error:
            raise LifecycleError(str(error)) from None
    return None


async def _user(organisation_id: UUID, user_id: UUID) -> dict[str, object]:
    user = (
        await User.select(User.status, User.tier, User.is_owner, User.password_hash)
        .where((User.id == user_id) & (User.organisation == organisation_id))
        .first()
    )
    if user is None:
        raise NotFound("user")
    return user


async def _require_another_active_admin(organisation_id: UUID, user_id: UUID) -> None:
    others = await User.count().where(
        (User.organisation == organisation_id)
        & (User.status == "active")
        & (User.tier == "admin")
        & (User.id != user_id)
    )
    if others == 0:
        raise LifecycleError("The last active admin of the organisation cannot be deactivated.")
