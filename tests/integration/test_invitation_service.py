"""Invitations through the service layer, delivered over real SMTP (aiosmtpd)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.activity.log import Actor, RequestOrigin
from portal.invitations.acceptance import accept, view_link
from portal.invitations.service import (
    InvitationError,
    Invitee,
    cancel_invitation,
    invite,
    send_invitation,
)
from portal.invitations.states import LinkState
from portal.invitations.tables import Invitation
from portal.mail.delivery import deliver
from portal.mail.tables import OutboundEmail
from portal.settings import Settings
from portal.users.tables import User
from tests.conftest import MailSink, Tenant

BASE = "http://portal.test"
GOOD_PASSWORD = "a long and unusual passphrase 7"


def link_of(mail_text: str) -> str:
    found = re.search(r"http://portal\.test/invitations/(\S+)", mail_text)
    assert found, mail_text
    return found.group(1)


async def deliver_all(settings: Settings) -> list[str]:
    ids = [row["id"] for row in await OutboundEmail.select(OutboundEmail.id)]
    return [await deliver(email_id, settings) for email_id in ids]


async def test_invited_colleague_receives_a_link_and_accepts_it(
    acme: Tenant, settings: Settings, smtp_server: tuple[MailSink, str]
) -> None:
    sink, url = smtp_server
    actor = Actor(acme.admin.id, acme.id)
    invited = await invite(actor, Invitee("Grace Hopper", "Grace@Acme.example", "manager"), BASE)
    assert len(invited.email_ids) == 1
    outcomes = await deliver_all(dataclasses.replace(settings, smtp_url=url))
    assert outcomes == ["sent"]
    assert len(sink.received) == 1
    mail = sink.received[0].message
    assert sink.received[0].to == ["grace@acme.example"]
    assert "Acme" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    token = link_of(text)
    assert token in html
    assert await Invitation.count().where(Invitation.token_hash == token) == 0  # only a hash kept

    link = await view_link(token)
    assert link is not None and link.state is LinkState.USABLE
    assert link.organisation == "Acme" and link.inviter == "Acme Admin"
    outcome = await accept(link, GOOD_PASSWORD, RequestOrigin("127.0.0.1", "pytest"))
    assert not isinstance(outcome, LinkState)
    user = await User.select().where(User.id == invited.user_id).first()
    assert user is not None and user["status"] == "active" and user["tier"] == "manager"
    # The same link again: refused, one account.
    again = await view_link(token)
    assert again is not None and again.state is LinkState.ACCEPTED
    assert await accept(again, GOOD_PASSWORD, RequestOrigin()) is LinkState.ACCEPTED


async def test_delivery_is_idempotent(acme: Tenant, settings: Settings) -> None:
    await invite(Actor(acme.admin.id, acme.id), Invitee("Ada", "ada@acme.example", "user"), BASE)
    assert await deliver_all(settings) == ["kept locally"]
    assert await deliver_all(settings) == ["not owed"]


async def test_resend_kills_the_old_link_and_cancel_kills_the_new(
    acme: Tenant, settings: Settings
) -> None:
    actor = Actor(acme.admin.id, acme.id)
    invited = await invite(actor, Invitee("Alan", "alan@acme.example", "user"), BASE)
    await send_invitation(actor, invited.user_id, BASE)
    bodies = [
        r["text_body"]
        for r in await OutboundEmail.select(OutboundEmail.text_body).order_by(
            OutboundEmail.created_at
        )
    ]
    first, second = link_of(bodies[0]), link_of(bodies[1])
    assert (await view_link(first)).state is LinkState.SUPERSEDED  # type: ignore[union-attr]
    assert (await view_link(second)).state is LinkState.USABLE  # type: ignore[union-attr]
    await cancel_invitation(actor, invited.user_id)
    assert (await view_link(second)).state is LinkState.CANCELLED  # type: ignore[union-attr]
    assert await User.select(User.status).where(User.id == invited.user_id).first() == {
        "status": "inactive"
    }


async def test_an_expired_link_is_refused(acme: Tenant, settings: Settings) -> None:
    actor = Actor(acme.admin.id, acme.id)
    await invite(actor, Invitee("Alan", "alan@acme.example", "user"), BASE)
    body = (await OutboundEmail.select(OutboundEmail.text_body).first())["text_body"]  # type: ignore[index]
    token = link_of(body)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=72, minutes=1)):
        link = await view_link(token)
        assert link is not None and link.state is LinkState.EXPIRED
        assert await accept(link, GOOD_PASSWORD, RequestOrigin()) is LinkState.EXPIRED
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=71)):
        link = await view_link(token)
        assert link is not None and link.state is LinkState.USABLE


async def test_two_admins_inviting_one_email_at_once_make_one_invitation(
    acme: Tenant,
) -> None:
    results = await asyncio.gather(
        invite(Actor(acme.admin.id, acme.id), Invitee("A", "same@acme.example", "user"), BASE),
        invite(Actor(acme.admin.id, acme.id), Invitee("B", "SAME@acme.example", "user"), BASE),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], InvitationError), results
    assert await User.count().where(User.email == "same@acme.example") == 1
    assert await Invitation.count() == 1
    assert await OutboundEmail.count() == 1


async def test_bad_invitations_are_refused_and_change_nothing(acme: Tenant, globex: Tenant) -> None:
    actor = Actor(acme.admin.id, acme.id)
    users_before = await User.count()
    cases = [
        (Invitee("", "x@acme.example", "user"), "full_name"),
        (Invitee("x" * 10_000, "x@acme.example", "user"), "full_name"),
        (Invitee("X", "not an email", "user"), "email"),
        (Invitee("X", "x@acme.example", "owner"), "tier"),
        (Invitee("X", globex.user.email.upper(), "user"), "email"),
    ]
    for invitee, field in cases:
        with pytest.raises(InvitationError) as refused:
            await invite(actor, invitee, BASE)
        assert field in refused.value.errors
    assert await User.count() == users_before
    assert await OutboundEmail.count() == 0


async def test_weak_password_on_acceptance_is_refused(acme: Tenant) -> None:
    await invite(Actor(acme.admin.id, acme.id), Invitee("Al", "al@acme.example", "user"), BASE)
    token = link_of((await OutboundEmail.select(OutboundEmail.text_body).first())["text_body"])  # type: ignore[index]
    link = await view_link(token)
    assert link is not None
    for weak in ("short", "password", "acme acme acme acme", "al@acme.example-and-more"):
        with pytest.raises(InvitationError):
            await accept(link, weak, RequestOrigin())
    assert (await view_link(token)).state is LinkState.USABLE  # type: ignore[union-attr]


async def test_an_admin_who_accepts_finds_the_orders_that_fell_to_the_admins(
    acme: Tenant, settings: Settings, smtp_server: tuple[MailSink, str]
) -> None:
    from portal.approvals.queue import approver_queue
    from tests.integration.orders_support import add_policy, place_and_evaluate

    await add_policy(acme, "Over 50", "50.00")
    order_id = await place_and_evaluate(acme.admin, "100.00")  # the only admin asks
    sink, url = smtp_server
    actor = Actor(acme.admin.id, acme.id)
    await invite(actor, Invitee("Second Admin", "second@acme.example", "admin"), BASE)
    await deliver_all(dataclasses.replace(settings, smtp_url=url))
    token = link_of(sink.received[0].message.get_body(("plain",)).get_content())
    link = await view_link(token)
    assert link is not None
    accepted = await accept(link, GOOD_PASSWORD, RequestOrigin("127.0.0.1", "pytest"))
    assert not isinstance(accepted, LinkState)
    second = await User.select(User.id).where(User.email == "second@acme.example").first()
    assert second is not None
    queue = await approver_queue(second["id"], acme.id)
    assert [item.row.id for item in queue.items] == [order_id]
