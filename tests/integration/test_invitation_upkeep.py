"""One reminder a day before an invitation expires, then expiry; concurrent runs remind once."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import time_machine

from portal.activity.log import Actor
from portal.invitations.acceptance import view_link
from portal.invitations.service import Invitee, invite
from portal.invitations.states import LinkState
from portal.invitations.tables import Invitation
from portal.invitations.upkeep import remind_and_expire
from portal.mail.tables import OutboundEmail
from tests.conftest import Tenant

BASE = "http://portal.test"


async def links() -> list[str]:
    bodies = await OutboundEmail.select(OutboundEmail.text_body).order_by(OutboundEmail.created_at)
    return [re.findall(r"/invitations/(\S+)", b["text_body"])[0] for b in bodies]


async def test_one_reminder_a_day_before_expiry_then_expiry(acme: Tenant) -> None:
    await invite(Actor(acme.admin.id, acme.id), Invitee("Ada", "ada@acme.example", "user"), BASE)
    start = datetime.now(UTC)
    with time_machine.travel(start + timedelta(hours=40)):
        assert (await remind_and_expire(BASE)).reminder_email_ids == ()  # not due yet
    with time_machine.travel(start + timedelta(hours=49)):
        results = await asyncio.gather(remind_and_expire(BASE), remind_and_expire(BASE))
        reminders = [e for r in results for e in r.reminder_email_ids]
        assert len(reminders) == 1
        assert (await remind_and_expire(BASE)).reminder_email_ids == ()
        first, reminder = await links()
        assert (await view_link(first)).state is LinkState.SUPERSEDED  # type: ignore[union-attr]
        assert (await view_link(reminder)).state is LinkState.USABLE  # type: ignore[union-attr]
        subject = (
            await OutboundEmail.select(OutboundEmail.subject)
            .where(OutboundEmail.kind == "invitation_reminder")
            .first()
        )
        assert subject is not None and "expires soon" in subject["subject"]
    expiries = await Invitation.select(Invitation.expires_at).where(
        Invitation.status != "superseded"
    )
    with time_machine.travel(start + timedelta(hours=72, minutes=5)):
        upkeep = await remind_and_expire(BASE)
        assert upkeep.expired == 1 and upkeep.reminder_email_ids == ()
        assert (await view_link(reminder)).state is LinkState.EXPIRED  # type: ignore[union-attr]
    # The reminder kept the original expiry: it reminds, it does not extend.
    assert len(expiries) == 1
    assert abs(expiries[0]["expires_at"] - (start + timedelta(hours=72))) < timedelta(seconds=5)
