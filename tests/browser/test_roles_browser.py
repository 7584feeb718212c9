"""Settings → Roles in a real Chromium: a policy through the form, then a role whose
effective-permissions table follows the ticked policies (htmx), and a refused save."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, RunningPortal
from tests.browser.test_sign_in_browser import ADMIN, sign_in

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT_MS)

SCREENSHOT = "/tmp/portal-role.png"  # noqa: S108 (a fixed path for people to look at)


async def test_admin_builds_a_role_and_sees_what_it_adds_up_to(
    page: Page, portal: RunningPortal
) -> None:
    await sign_in(page, portal, ADMIN)
    await page.goto(portal.url("/settings/roles"))
    await page.get_by_role("link", name="New policy", exact=True).click()
    await page.locator("#name").fill("Auditors")
    await page.locator("#grant-activity_log").select_option("read")
    await page.locator("#grant-approvals").select_option("approve")
    await page.get_by_role("button", name="Create policy").click()
    await expect(page.get_by_role("heading", name="Auditors")).to_be_visible()
    await expect(page.get_by_role("status")).to_have_text("Policy created.")

    await page.goto(portal.url("/settings/roles/new"))
    await expect(page.locator("#effective tr", has_text="Activity log")).to_contain_text("none")
    await page.get_by_label("Auditors").check()
    # htmx asks for the table of the ticked policies and swaps it in place.
    await expect(page.locator("#effective tr", has_text="Activity log")).to_contain_text("read")
    await expect(page.locator("#effective tr", has_text="Approvals")).to_contain_text("approve")

    await page.locator("#name").fill("   ")
    await page.get_by_role("button", name="Create role").click()
    await expect(page.locator("#name-error")).to_have_text("Enter a name.")
    await expect(page.get_by_label("Auditors")).to_be_checked()
    await page.locator("#name").fill("Auditor")
    await page.get_by_role("button", name="Create role").click()
    await expect(page.get_by_role("heading", name="Auditor", exact=True)).to_be_visible()
    await expect(page.locator("#effective tr", has_text="Activity log")).to_contain_text("read")
    await page.screenshot(path=SCREENSHOT, full_page=True)
