"""Account access assistance: access emails sent by an admin, "forgot password", and setting a
new password with the emailed link, through the pages and the API as browsers send them."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.log import Actor, RequestOrigin
from portal.activity.tables import ActivityEvent
from portal.mail.delivery import deliver
from portal.mail.tables import OutboundEmail
from portal.organisations.tables import Organisation
from portal.recovery.service import (
    PasswordChanged,
    reset_password,
    send_access_email,
    view_reset,
)
from portal.recovery.states import ResetState
from portal.recovery.tables import PasswordReset
from portal.settings import Settings
from portal.users.tables import User
from tests.conftest import BASE_URL, PASSWORD, MailSink, Tenant, sign_in

NEW_PASSWORD = "amber kettles drift past nine lighthouses"


async def post_form(client: AsyncTestClient[Litestar], url: str, **fields: Any) -> Any:
    token = client.cookies.get("csrftoken")
    if token is None:
        await client.get("/sign-in")  # a first page sets the CSRF cookie
        token = client.cookies["csrftoken"]
    return await client.post(url, data={**fields, "_csrf_token": token}, follow_redirects=False)


async def api_post(client: AsyncTestClient[Litestar], url: str) -> Any:
    return await client.post(url, headers={"x-csrftoken": client.cookies["csrftoken"]})


def links_in(text: str) -> list[str]:
    return re.findall(r"/reset-password/([A-Za-z0-9_-]+)", text)


async def outbox_links() -> list[str]:
    """The reset tokens of every queued email, oldest first."""
    rows = await OutboundEmail.select(OutboundEmail.text_body).order_by(OutboundEmail.created_at)
    return [link for row in rows for link in links_in(row["text_body"])]


async def set_new_password(
    client: AsyncTestClient[Litestar], token: str, password: str = NEW_PASSWORD, again: str = ""
) -> Any:
    return await post_form(
        client, f"/reset-password/{token}", password=password, password_again=again or password
    )


async def password_hash_of(user_id: UUID) -> str:
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    assert row is not None
    hashed: str = row["password_hash"]
    return hashed


async def events(action: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ActivityEvent.select(
            ActivityEvent.organisation,
            ActivityEvent.actor,
            ActivityEvent.subject,
            ActivityEvent.reason,
            ActivityEvent.method,
            ActivityEvent.data,
        )
        .where(ActivityEvent.action == action)
        .order_by(ActivityEvent.occurred_at)
        .output(load_json=True)
    )
    return rows


async def test_access_email_arrives_over_smtp_and_the_reset_ends_the_other_sessions(
    client: AsyncTestClient[Litestar],
    app: Litestar,
    acme: Tenant,
    settings: Settings,
    smtp_server: tuple[MailSink, str],
) -> None:
    sink, url = smtp_server
    async with AsyncTestClient(app, base_url=BASE_URL) as old_session:
        await sign_in(old_session, acme.user.email)
        assert (await old_session.get("/api/v1/me")).status_code == 200

        await sign_in(client, acme.admin.email)
        page = await client.get(f"/settings/users/{acme.user.id}")
        assert "Send access email" in page.text
        sent = await post_form(client, f"/settings/users/{acme.user.id}/access-email")
        assert sent.status_code == 303
        notice = await client.get(sent.headers["location"])
        assert "Access email sent." in notice.text

        (email_id,) = [r["id"] for r in await OutboundEmail.select(OutboundEmail.id)]
        assert await deliver(email_id, dataclasses.replace(settings, smtp_url=url)) == "sent"
        assert len(sink.received) == 1
        mail = sink.received[0]
        assert mail.to == [acme.user.email]
        assert "Acme Admin" in mail.message["Subject"]
        text = mail.message.get_body(("plain",)).get_content()
        html = mail.message.get_body(("html",)).get_content()
        (token,) = links_in(text)
        assert f"{settings.base_url}/reset-password/{token}" in text and token in html
        # Only the token's hash is stored.
        assert await PasswordReset.count().where(PasswordReset.token_hash == token) == 0
        (logged,) = await events("user.access_email_sent")
        assert logged["actor"] == acme.admin.id and logged["subject"] == acme.user.id
        assert token not in str(logged["data"])

        async with AsyncTestClient(app, base_url=BASE_URL) as browser:
            form = await browser.get(f"/reset-password/{token}")
            assert form.status_code == 200 and acme.user.email in form.text
            done = await set_new_password(browser, token)
            assert done.status_code == 303 and done.headers["location"] == "/"
            me = await browser.get("/api/v1/me")
            assert me.status_code == 200 and me.json()["email"] == acme.user.email
            # A double click from the same browser lands on the dashboard: still one change.
            hashed = await password_hash_of(acme.user.id)
            again = await set_new_password(browser, token, "yet another long passphrase here")
            assert again.status_code == 303 and again.headers["location"] == "/"
            assert await password_hash_of(acme.user.id) == hashed
        # The session from before the reset is over.
        assert (await old_session.get("/api/v1/me")).status_code == 401

    (reset,) = await events("auth.password_reset")
    assert reset["subject"] == acme.user.id and reset["method"] == "access_email"
    assert reset["data"] == {"requested_by": str(acme.admin.id)}
    async with AsyncTestClient(app, base_url=BASE_URL) as stranger:
        assert (await sign_in(stranger, acme.user.email, PASSWORD)).status_code == 401
        assert (await sign_in(stranger, acme.user.email, NEW_PASSWORD)).status_code == 303
        replay = await stranger.get(f"/reset-password/{token}")
        assert replay.status_code == 409 and "already been used" in replay.text
    async with AsyncTestClient(app, base_url=BASE_URL) as attacker:
        replayed = await set_new_password(attacker, token, "an attacker's chosen passphrase")
        assert replayed.status_code == 409 and "already been used" in replayed.text
        assert (await attacker.get("/api/v1/me")).status_code == 401
    assert await password_hash_of(acme.user.id) == hashed


async def test_access_email_through_the_api(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    sent = await api_post(client, f"/api/v1/users/{acme.manager.id}/access-email")
    assert sent.status_code == 202, sent.text
    body = sent.json()
    assert body["user_id"] == str(acme.manager.id)
    expires = datetime.fromisoformat(body["link_expires_at"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert await PasswordReset.count().where(PasswordReset.user == acme.manager.id) == 1
    # A second one supersedes the first.
    assert (await api_post(client, f"/api/v1/users/{acme.manager.id}/access-email")).is_success
    statuses = await PasswordReset.select(PasswordReset.status).order_by(PasswordReset.created_at)
    assert [row["status"] for row in statuses] == ["superseded", "pending"]

    before = (await PasswordReset.count(), await OutboundEmail.count())
    foreign = await api_post(client, f"/api/v1/users/{globex.user.id}/access-email")
    unknown = await api_post(client, f"/api/v1/users/{UUID(int=7)}/access-email")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["error"] == unknown.json()["error"]
    await User.update({User.status: "inactive"}).where(User.id == acme.user.id)
    inactive = await api_post(client, f"/api/v1/users/{acme.user.id}/access-email")
    assert inactive.status_code == 409
    assert "inactive" in inactive.json()["error"]["message"]
    assert (await PasswordReset.count(), await OutboundEmail.count()) == before


async def test_access_email_is_refused_for_inactive_invited_and_api_users_on_the_page(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await User.update({User.status: "inactive"}).where(User.id == acme.user.id)
    await User.update({User.status: "invited"}).where(User.id == acme.manager.id)
    robot = User(
        organisation=acme.id,
        email="robot@acme.example",
        full_name="Billing integration",
        kind="api",
        status="active",
    )
    await robot.save()
    await sign_in(client, acme.admin.email)
    for user_id, message in (
        (acme.user.id, "This user is inactive. Reactivate them"),
        (acme.manager.id, "has not accepted their invitation yet"),
        (robot.id, "API users do not sign in with a password."),
    ):
        assert "Send access email" not in (await client.get(f"/settings/users/{user_id}")).text
        refused = await post_form(client, f"/settings/users/{user_id}/access-email")
        assert refused.status_code == 422 and message in refused.text
    foreign = await post_form(client, f"/settings/users/{globex.user.id}/access-email")
    assert foreign.status_code == 404
    assert await PasswordReset.count() == 0 and await OutboundEmail.count() == 0
    assert await events("user.access_email_sent") == []


async def test_managers_and_users_cannot_send_access_emails(app: Litestar, acme: Tenant) -> None:
    for member in (acme.manager, acme.user):
        async with AsyncTestClient(app, base_url=BASE_URL) as client:
            await sign_in(client, member.email)
            page = await post_form(client, f"/settings/users/{acme.admin.id}/access-email")
            api = await api_post(client, f"/api/v1/users/{acme.admin.id}/access-email")
            assert (page.status_code, api.status_code) == (403, 403)
    assert await PasswordReset.count() == 0 and await OutboundEmail.count() == 0


async def test_forgot_password_answers_alike_for_every_address_and_emails_only_the_active(
    client: AsyncTestClient[Litestar],
    acme: Tenant,
    globex: Tenant,
    settings: Settings,
    smtp_server: tuple[MailSink, str],
) -> None:
    sink, url = smtp_server
    await User.update({User.status: "inactive"}).where(User.id == acme.manager.id)
    await User.update({User.status: "invited"}).where(User.id == globex.manager.id)
    await User(
        organisation=acme.id,
        email="robot@acme.example",
        full_name="Robot",
        kind="api",
        status="active",
    ).save()
    sign_in_page = await client.get("/sign-in")
    assert 'href="/forgot-password"' in sign_in_page.text
    assert (await client.get("/forgot-password")).status_code == 200
    answers = []
    for address in (
        "nobody@nowhere.example",
        acme.manager.email,  # inactive
        globex.manager.email,  # invited, never activated
        "robot@acme.example",  # an API identity
        f"  {acme.user.email.upper()} ",  # active: the only one that gets an email
    ):
        response = await post_form(client, "/forgot-password", email=address)
        answers.append((response.status_code, response.text))
    assert {status for status, _ in answers} == {200}
    assert len({text for _, text in answers}) == 1, "the answer must not depend on the address"
    assert "If an account exists for that address, we have sent a link" in answers[0][1]

    requested = await events("auth.password_reset_requested")
    assert [(e["reason"], e["data"]["sent"]) for e in requested] == [
        ("unknown_email", False),
        ("user_inactive", False),
        ("user_invited", False),
        ("api_user", False),
        ("", True),
    ]
    assert requested[0]["organisation"] is None
    assert requested[4]["subject"] == acme.user.id and requested[4]["organisation"] == acme.id

    for row in await OutboundEmail.select(OutboundEmail.id):
        await deliver(row["id"], dataclasses.replace(settings, smtp_url=url))
    assert [mail.to for mail in sink.received] == [[acme.user.email]]
    text = sink.received[0].message.get_body(("plain",)).get_content()
    assert "Someone, hopefully you, asked" in text
    (token,) = links_in(text)
    async with AsyncTestClient(client.app, base_url=BASE_URL) as browser:
        assert (await set_new_password(browser, token)).status_code == 303
    (reset,) = await events("auth.password_reset")
    assert reset["method"] == "forgot_password" and reset["data"] == {"requested_by": None}


async def test_a_second_request_within_a_minute_sends_nothing_more(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    first = await post_form(client, "/forgot-password", email=acme.user.email)
    second = await post_form(client, "/forgot-password", email=acme.user.email)
    assert first.status_code == second.status_code == 200 and first.text == second.text
    assert await OutboundEmail.count() == 1
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61)):
        third = await post_form(client, "/forgot-password", email=acme.user.email)
        assert third.text == first.text
    assert await OutboundEmail.count() == 2
    older, newer = await outbox_links()
    assert (await view_reset(older)).state is ResetState.SUPERSEDED  # type: ignore[union-attr]
    assert (await view_reset(newer)).state is ResetState.USABLE  # type: ignore[union-attr]
    reasons = [e["reason"] for e in await events("auth.password_reset_requested")]
    assert reasons == ["", "recent_link", ""]


async def test_forgot_password_refuses_bad_input_and_keeps_it(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    empty = await post_form(client, "/forgot-password", email="   ")
    assert empty.status_code == 422 and "Enter your email address." in empty.text
    typo = await post_form(client, "/forgot-password", email="user at acme.example")
    assert typo.status_code == 422 and "This is not a valid email address." in typo.text
    assert 'value="user at acme.example"' in typo.text
    huge = await post_form(client, "/forgot-password", email="a" * 100_000 + "@acme.example")
    assert huge.status_code == 422 and "not a valid email address" in huge.text
    assert len(huge.text) < 20_000
    assert await OutboundEmail.count() == 0 and await PasswordReset.count() == 0
    assert await events("auth.password_reset_requested") == []


async def test_superseded_expired_and_unknown_links_each_say_so(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    for _ in range(2):
        assert (
            await post_form(client, f"/settings/users/{acme.user.id}/access-email")
        ).status_code == 303
    older, newer = await outbox_links()
    before = await password_hash_of(acme.user.id)
    async with AsyncTestClient(app, base_url=BASE_URL) as browser:
        superseded = await browser.get(f"/reset-password/{older}")
        assert superseded.status_code == 410 and "A newer link was sent" in superseded.text
        refused = await set_new_password(browser, older)
        assert refused.status_code == 410 and "A newer link was sent" in refused.text
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=59)):
            assert (await browser.get(f"/reset-password/{newer}")).status_code == 200
        with time_machine.travel(datetime.now(UTC) + timedelta(hours=1, minutes=1)):
            expired = await browser.get(f"/reset-password/{newer}")
            assert expired.status_code == 410 and "This link has expired" in expired.text
            assert "Forgot password?" in expired.text  # what to do
            late = await set_new_password(browser, newer)
            assert late.status_code == 410 and "This link has expired" in late.text
        unknown = await browser.get("/reset-password/" + "x" * 43)
        assert unknown.status_code == 404 and "This link is not valid" in unknown.text
        unknown_post = await set_new_password(browser, "x" * 43)
        assert unknown_post.status_code == 404
        huge = await browser.get("/reset-password/" + "x" * 5000)
        assert huge.status_code == 404
        assert (await browser.get("/api/v1/me")).status_code == 401
    assert await password_hash_of(acme.user.id) == before
    assert await events("auth.password_reset") == []


async def test_a_link_of_a_deactivated_user_stops_working(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    await post_form(client, f"/settings/users/{acme.user.id}/access-email")
    (token,) = await outbox_links()
    await post_form(client, f"/settings/users/{acme.user.id}/deactivate")
    async with AsyncTestClient(app, base_url=BASE_URL) as browser:
        page = await browser.get(f"/reset-password/{token}")
        assert page.status_code == 410 and "This account is not active" in page.text
        refused = await set_new_password(browser, token)
        assert refused.status_code == 410 and "not active" in refused.text
        assert (await browser.get("/api/v1/me")).status_code == 401
    assert await events("auth.password_reset") == []


async def test_deactivation_between_opening_and_submitting_changes_nothing(acme: Tenant) -> None:
    await _send_access_email_for(acme)
    (token,) = await outbox_links()
    link = await view_reset(token)
    assert link is not None and link.state is ResetState.USABLE
    await User.update({User.status: "inactive"}).where(User.id == acme.user.id)
    before = await password_hash_of(acme.user.id)
    assert await reset_password(link, NEW_PASSWORD, RequestOrigin()) is (
        ResetState.ACCOUNT_INACTIVE
    )
    assert await password_hash_of(acme.user.id) == before
    # The link itself was not spent: it stays pending (and useless while the user is inactive).
    assert await PasswordReset.select(PasswordReset.status).first() == {"status": "pending"}


async def test_a_bad_new_password_is_explained_next_to_the_field_and_changes_nothing(
    app: Litestar, acme: Tenant
) -> None:
    await _send_access_email_for(acme)
    (token,) = await outbox_links()
    await Organisation.update({Organisation.password_min_length: 20}).where(
        Organisation.id == acme.id
    )
    before = await User.select(User.password_hash, User.session_epoch).where(
        User.id == acme.user.id
    )
    async with AsyncTestClient(app, base_url=BASE_URL) as browser:
        cases = [
            ("short", "", "Use at least 20 characters."),
            ("sixteen chars ok", "", "Use at least 20 characters."),  # the organisation's rule
            (NEW_PASSWORD, "something else entirely", "The two passwords are not the same."),
            ("acme acme acme acme acme", "", "must not contain the organisation&#39;s name"),
            ("user-of-acme-but-longer-than-twenty", "", "must not contain your email address"),
            ("x" * 100_000, "", "Use at most 1024 characters."),
        ]
        for password, again, message in cases:
            response = await set_new_password(browser, token, password, again)
            assert response.status_code == 422, password[:40]
            assert message in response.text, (password[:40], response.text[-2000:])
            assert 'class="field-error"' in response.text
        assert (await browser.get(f"/reset-password/{token}")).status_code == 200
    after = await User.select(User.password_hash, User.session_epoch).where(User.id == acme.user.id)
    assert after == before
    assert await PasswordReset.select(PasswordReset.status).first() == {"status": "pending"}


async def test_two_submits_at_once_make_one_change(acme: Tenant) -> None:
    await _send_access_email_for(acme)
    (token,) = await outbox_links()
    link = await view_reset(token)
    assert link is not None
    epoch_before = await User.select(User.session_epoch).where(User.id == acme.user.id).first()
    outcomes = await asyncio.gather(
        reset_password(link, NEW_PASSWORD, RequestOrigin()),
        reset_password(link, "a different but equally long passphrase", RequestOrigin()),
    )
    changed = [o for o in outcomes if isinstance(o, PasswordChanged)]
    assert len(changed) == 1 and ResetState.USED in outcomes, outcomes
    epoch_after = await User.select(User.session_epoch).where(User.id == acme.user.id).first()
    assert epoch_before is not None and epoch_after is not None
    assert epoch_after["session_epoch"] == epoch_before["session_epoch"] + 1
    assert len(await events("auth.password_reset")) == 1


async def _send_access_email_for(acme: Tenant) -> None:
    await send_access_email(Actor(acme.admin.id, acme.id), acme.user.id, "http://portal.test")
