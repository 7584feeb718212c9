"""Inviting from a CSV file in Chromium, against `portal run` with its in-process workers and an
aiosmtpd server: the result table, the progress bar polling to 100%, then stopping, and the
final per-row results swapped in without a reload."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, Request, expect

from tests.browser.conftest import RunningPortal

if TYPE_CHECKING:
    from tests.conftest import MailSink

pytestmark = pytest.mark.browser

ADMIN = "admin@acme.example"
CSV = (
    b"name,email,tier\r\n"
    b"Katherine Johnson,katherine@acme.example,manager\r\n"
    b"Bad Address,not-an-email,user\r\n"
    b"Dorothy Vaughan,dorothy@acme.example,user\r\n"
)


@pytest.fixture
def mailing_portal(
    request: pytest.FixtureRequest,
    smtp_server: tuple[MailSink, str],
    monkeypatch: pytest.MonkeyPatch,
) -> RunningPortal:
    """`portal run` sending its emails to the aiosmtpd server (SMTP_URL set before it starts)."""
    _, smtp_url = smtp_server
    monkeypatch.setenv("SMTP_URL", smtp_url)
    running: RunningPortal = request.getfixturevalue("portal")
    return running


async def test_upload_shows_each_row_and_the_progress_reaches_100_percent(
    page: Page, mailing_portal: RunningPortal, smtp_server: tuple[MailSink, str]
) -> None:
    portal = mailing_portal
    sink, _ = smtp_server
    await page.goto(portal.url("/sign-in"))
    await page.locator("#email").fill(ADMIN)
    await page.locator("#password").fill(portal.demo_password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(portal.url("/"))

    await page.goto(portal.url("/settings/users"))
    await page.get_by_role("link", name="Invite from a CSV file", exact=True).click()
    await expect(page).to_have_url(portal.url("/settings/users/import"))
    await page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": "team.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    progress_requests: list[str] = []

    def count_progress(sent: Request) -> None:
        if sent.url.endswith("/progress"):
            progress_requests.append(sent.url)

    page.on("request", count_progress)
    await page.get_by_role("button", name="Check and invite", exact=True).click()
    await expect(page).to_have_url(re.compile(r".*/settings/users/import/[0-9a-f-]{36}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Invitations from team.csv")
    bad_row = page.locator("#batch-rows tbody tr").filter(has_text="not-an-email")
    await expect(bad_row).to_contain_text("Refused Email: This is not a valid email address.")

    progress = page.locator("#batch-progress")
    await expect(progress).to_contain_text("100%", timeout=30_000)
    await expect(progress).to_contain_text("2 of 2 invitations sent · 1 row refused")
    await expect(progress).not_to_have_attribute("hx-trigger", re.compile(".*"))
    # The final results arrived with the last poll, without reloading the page.
    await expect(page.locator("#batch-rows").get_by_text("Invited, email sent")).to_have_count(2)
    assert progress_requests, "the page never polled"
    polled = len(progress_requests)
    await asyncio.sleep(2.5)
    assert len(progress_requests) == polled, "the page kept polling after 100%"
    addresses = sorted(to for mail in sink.received for to in mail.to)
    assert addresses == ["dorothy@acme.example", "katherine@acme.example"]
