"""Inviting a colleague end to end, with real components only: the admin invites in Chromium,
`portal run`'s in-process workers send the email over SMTP to an aiosmtpd server on loopback,
and the colleague opens the link from that email in another browser, activates the account and
signs in with the new password."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.conftest import TIMEOUT_MS, RunningPortal

if TYPE_CHECKING:
    from tests.conftest import MailSink, ReceivedMail

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT_MS)

ADMIN = "admin@acme.example"
GRACE_NAME = "Grace Hopper"
GRACE_EMAIL = "grace@acme.example"
TOO_SHORT = "short password"  # 14 characters: one below the minimum
GRACE_PASSWORD = "quiet orchard of seven lanterns"
MAIL_WAIT_SECONDS = 20.0
USERS_SCREENSHOT = "/tmp/portal-users.png"  # noqa: S108 (a fixed path for people to look at)
ACCEPT_SCREENSHOT = "/tmp/portal-accept.png"  # noqa: S108

OpenContext = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture
def mailing_portal(
    request: pytest.FixtureRequest,
    smtp_server: tuple[MailSink, str],
    monkeypatch: pytest.MonkeyPatch,
) -> RunningPortal:
    """The conftest's `portal run`, sending its emails to the aiosmtpd server.

    The server's environment is a copy of this process's (BASE_URL removed, so `portal run`
    derives http://127.0.0.1:PORT), hence SMTP_URL is set here first and `portal` is requested
    only afterwards. It stops before the SMTP server does, and monkeypatch restores the
    environment after both.
    """
    _, smtp_url = smtp_server
    monkeypatch.setenv("SMTP_URL", smtp_url)
    monkeypatch.delenv("MAIL_FROM", raising=False)
    running: RunningPortal = request.getfixturevalue("portal")
    return running


@pytest.fixture
async def open_context(browser: Browser) -> AsyncIterator[OpenContext]:
    """Opens further fresh browser profiles (other people), all closed after the test."""
    opened: list[BrowserContext] = []

    async def open_one() -> BrowserContext:
        fresh = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
        fresh.set_default_timeout(TIMEOUT_MS)
        fresh.set_default_navigation_timeout(TIMEOUT_MS)
        opened.append(fresh)
        return fresh

    try:
        yield open_one
    finally:
        for context in opened:
            await context.close()


def nav_link(page: Page, label: str) -> Locator:
    return page.locator("nav[aria-label=Main]").get_by_role("link", name=label, exact=True)


def user_row(page: Page, full_name: str) -> Locator:
    return page.locator("#users tbody tr").filter(
        has=page.get_by_role("link", name=full_name, exact=True)
    )


async def sign_in(page: Page, portal: RunningPortal, email: str, password: str) -> None:
    """Sign in through the form and land on the dashboard."""
    await page.goto(portal.url("/sign-in"))
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(portal.url("/"))


async def mail_to(
    sink: MailSink, address: str, portal: RunningPortal, within: float = MAIL_WAIT_SECONDS
) -> ReceivedMail:
    """The first email the SMTP server received for the address, waiting up to `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for mail in list(sink.received):
            if address in mail.to:
                return mail
        await asyncio.sleep(0.1)
    pytest.fail(
        f"no email to {address} within {within:.0f} s; the SMTP server received "
        f"{[(m.to, m.message['Subject']) for m in sink.received]}; `portal run` output:\n"
        f"{portal.output()}"
    )


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, f"no text/plain part in {message.get_content_type()}"
    text: str = body.get_content()
    return text


async def test_invited_colleague_activates_the_account_from_the_emailed_link(
    page: Page,
    mailing_portal: RunningPortal,
    smtp_server: tuple[MailSink, str],
    open_context: OpenContext,
) -> None:
    portal = mailing_portal
    sink, _ = smtp_server

    # The admin invites Grace as a manager, the invitation to be sent now.
    await sign_in(page, portal, ADMIN, portal.demo_password)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada Admin")
    await nav_link(page, "Users").click()
    await expect(page).to_have_url(portal.url("/settings/users"))
    await expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    await page.get_by_role("link", name="Invite a colleague", exact=True).click()
    await expect(page).to_have_url(portal.url("/settings/users/invite"))
    await page.get_by_label("Full name", exact=True).fill(GRACE_NAME)
    await page.get_by_label("Email", exact=True).fill(GRACE_EMAIL)
    await page.get_by_label("Permission level", exact=True).select_option("manager")
    send_now = page.get_by_label("Send the invitation now")
    await expect(send_now).to_be_checked()
    await page.get_by_role("button", name="Invite", exact=True).click()

    await expect(page).to_have_url(portal.url("/settings/users?done=invited"))
    await expect(page.get_by_role("status")).to_have_text("Invitation sent.")
    grace_row = user_row(page, GRACE_NAME)
    await expect(grace_row.locator("td")).to_have_text(
        [GRACE_NAME, GRACE_EMAIL, "Manager", "—", "Invited (pending)", "Never"]
    )
    await page.screenshot(path=USERS_SCREENSHOT, full_page=True)

    # The in-process worker sends the invitation over SMTP.
    mail = await mail_to(sink, GRACE_EMAIL, portal)
    assert mail.to == [GRACE_EMAIL]
    assert mail.message["To"] == GRACE_EMAIL
    subject = str(mail.message["Subject"])
    assert "Acme" in subject, subject
    assert "Ada Admin" in subject, subject
    text = plain_text(mail.message)
    links = re.findall(re.escape(portal.url("/invitations/")) + r"[A-Za-z0-9_-]{20,}", text)
    assert len(set(links)) == 1, f"expected one invitation link in:\n{text}"
    link = links[0]

    # Grace, in her own browser, opens the link.
    grace_context = await open_context()
    grace = await grace_context.new_page()
    opened = await grace.goto(link)
    assert opened is not None
    assert opened.status == 200
    await expect(grace.get_by_role("heading", level=1)).to_have_text("Join Acme")
    await expect(grace.locator("main")).to_contain_text("Ada Admin invited you")
    await grace.screenshot(path=ACCEPT_SCREENSHOT, full_page=True)

    # A too-short password is refused next to the field, and nothing is activated.
    await grace.locator("#password").fill(TOO_SHORT)
    await grace.locator("#password_again").fill(TOO_SHORT)
    async with grace.expect_response(
        lambda r: r.url == link and r.request.method == "POST"
    ) as refused:
        await grace.get_by_role("button", name="Activate my account", exact=True).click()
    assert (await refused.value).status == 422
    await expect(grace).to_have_url(link)
    await expect(grace.locator("#password-error")).to_have_text("Use at least 15 characters.")
    await expect(grace.locator("#password")).to_have_attribute(
        "aria-describedby", re.compile(r"\bpassword-error\b")
    )
    await expect(grace.locator("nav[aria-label=Main]")).to_have_count(0)
    assert not [c for c in await grace_context.cookies() if c.get("name") == "portal_session"]
    await page.goto(portal.url("/settings/users"))
    await expect(user_row(page, GRACE_NAME).locator("td").nth(4)).to_have_text("Invited (pending)")

    # A good password, twice: the account is active and Grace is signed in.
    await grace.locator("#password").fill(GRACE_PASSWORD)
    await grace.locator("#password_again").fill(GRACE_PASSWORD)
    await grace.get_by_role("button", name="Activate my account", exact=True).click()
    await expect(grace).to_have_url(portal.url("/"))
    await expect(grace.get_by_role("heading", level=1)).to_have_text(f"Welcome, {GRACE_NAME}")

    # The link works once.
    again = await grace.goto(link)
    assert again is not None
    assert again.status == 409
    await expect(grace.get_by_role("heading", level=1)).to_have_text(
        "This invitation has already been used"
    )

    # Grace signs out and back in with the password she chose.
    await grace.locator("header").get_by_role("button", name="Sign out", exact=True).click()
    await expect(grace).to_have_url(portal.url("/sign-in?signed_out=1"))
    await sign_in(grace, portal, GRACE_EMAIL, GRACE_PASSWORD)
    await expect(grace.get_by_role("heading", level=1)).to_have_text(f"Welcome, {GRACE_NAME}")

    # The admin sees her active.
    await page.goto(portal.url("/settings/users"))
    await expect(user_row(page, GRACE_NAME).locator("td")).to_have_text(
        [
            GRACE_NAME,
            GRACE_EMAIL,
            "Manager",
            "—",
            "Active",
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"),
        ]
    )
    # One invitation, one email.
    assert [m.to for m in sink.received] == [[GRACE_EMAIL]]
