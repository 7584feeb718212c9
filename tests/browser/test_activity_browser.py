"""Settings → Activity log in a real Chromium: filter, search, a subject's history, the
CSV export of exactly the filtered events, and a person's Activity tab; at 1280 and 390 px."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, RunningPortal
from tests.browser.test_sign_in_browser import ADMIN, MANAGER, sign_in

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT_MS)

SCREENSHOTS = "/tmp/portal-activity-{}.png"  # noqa: S108 (a fixed path for people to look at)


async def test_an_auditor_filters_searches_and_exports_the_log(
    page: Page, portal: RunningPortal
) -> None:
    # The manager signs in and out first: the log then has something of theirs to find.
    await sign_in(page, portal, MANAGER)
    await page.locator("header").get_by_role("button", name="Sign out").click()
    await sign_in(page, portal, ADMIN)
    await page.goto(portal.url("/settings/activity"))
    rows = page.locator("#activity tbody tr")
    await expect(rows.first).to_be_visible()

    await page.get_by_label("What").select_option(label="Signed out")
    await page.get_by_role("button", name="Apply").click()
    await expect(page).to_have_url(re.compile(r"action=auth\.signed_out"))
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Max Manager")

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Export CSV").click()
    download = await waiting.value
    path = await download.path()
    exported = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [row["action"] for row in exported] == ["auth.signed_out"]
    assert exported[0]["actor_email"] == MANAGER

    await page.get_by_role("link", name="Clear").click()
    await page.get_by_label("Search").fill("max manager")
    await page.get_by_role("button", name="Apply").click()
    await expect(rows.first).to_contain_text("Max Manager")
    texts = await rows.all_inner_texts()
    assert texts and all("Max Manager" in text or "manager@acme.example" in text for text in texts)

    await page.get_by_label("From", exact=True).fill("2999-01-01")
    await page.get_by_label("To", exact=True).fill("2001-01-01")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.locator("#to-error")).to_have_text("The end date is before the start date.")

    await page.goto(portal.url("/settings/users"))
    await page.get_by_role("link", name="Max Manager").click()
    await page.get_by_role("link", name="Activity", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Max Manager (manager@acme.example)"
    )
    await expect(page.locator("#activity tbody tr", has_text="Signed out")).to_have_count(1)

    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.goto(portal.url("/settings/activity"))
        await expect(rows.first).to_be_visible()
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        await page.screenshot(path=SCREENSHOTS.format(width), full_page=True)
        assert overflow <= 0, f"the page scrolls sideways at {width} px"
