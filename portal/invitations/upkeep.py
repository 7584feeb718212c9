"""The scheduled upkeep of invitations: a reminder a day before expiry, then expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from portal.activity.log import Actor, log_action
from portal.db import write_transaction
from portal.invitations.links import new_link
from portal.invitations.tables import Invitation
from portal.jobs import wake_delivery

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
        email_id = await new_link(
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
