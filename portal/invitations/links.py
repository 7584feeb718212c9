"""A new invitation link and its email, written together: only the token's hash is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from portal.auth.tokens import new_token, token_hash
from portal.invitations.tables import Invitation
from portal.mail.outbox import queue_email
from portal.mail.render import render_email
from portal.users.tables import User


async def new_link(
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
