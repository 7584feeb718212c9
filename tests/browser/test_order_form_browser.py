"""The order form and Settings → Cost centres in a real Chromium against `portal run`: the
form shows only the chosen kind's fields (all of them without JavaScript), offers the active
cost centres, and an admin adds and archives a cost centre."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from tests.browser.conftest import TIMEOUT_MS, RunningPortal
from tests.browser.test_sign_in_browser import ADMIN, MANAGER, sign_in

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT_MS)

SHOTS = Path("/tmp/shots-costs")  # noqa: S108 (a fixed path for people to look at)
WIDTHS = (1280, 390)


async def shoot(page: Page, name: str) -> None:
    """Full-page screenshots of what the page shows now, at a desktop and a phone width."""
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})


async def test_the_order_form_shows_only_the_chosen_kinds_fields(
    page: Page, portal: RunningPortal
) -> None:
    await sign_in(page, portal, MANAGER)
    await page.goto(portal.url("/orders/new"))
    item, service = page.locator("#item"), page.locator("#service")
    await expect(item).to_be_visible()
    await expect(service).to_be_hidden()
    await expect(page.locator("#description")).to_be_visible()
    centres = page.locator("#cost_centre option")
    await expect(centres).to_have_text(
        [
            "— None —",
            "FIN-400 · Finance",
            "IT-100 · IT and infrastructure",
            "OPS-200 · Operations",
            "SAL-300 · Sales",
        ]
    )
    await shoot(page, "order-form-new")
    await page.locator("input[name=kind][value=change]").check()
    await expect(service).to_be_visible()
    await expect(item).to_be_hidden()
    await shoot(page, "order-form-change")
    await page.locator("input[name=kind][value=new]").check()
    await expect(item).to_be_visible()
    await expect(service).to_be_hidden()
    # Placed with a cost centre from the list, which the order's page names.
    await item.select_option("firewall")
    await page.locator("#cost_centre").select_option("OPS-200")
    await page.get_by_role("button", name="Save as draft", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}\?done=drafted$"))
    await expect(page.locator("#cost-centre")).to_have_text("OPS-200 · Operations")


async def test_without_javascript_both_kinds_fields_show(
    browser: Browser, portal: RunningPortal
) -> None:
    context = await browser.new_context(java_script_enabled=False, locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in(page, portal, MANAGER)
        await page.goto(portal.url("/orders/new"))
        await expect(page.locator("#item")).to_be_visible()
        await expect(page.locator("#service")).to_be_visible()
    finally:
        await context.close()


async def test_an_admin_adds_and_archives_a_cost_centre(page: Page, portal: RunningPortal) -> None:
    await sign_in(page, portal, ADMIN)
    await page.locator("nav[aria-label=Main]").get_by_role("link", name="Cost centres").click()
    await expect(page).to_have_url(portal.url("/settings/cost-centres"))
    await page.locator("#code").fill("RND-600")
    await page.locator("#name").fill("Research")
    await page.get_by_role("button", name="Add cost centre", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("Cost centre added.")
    row = page.locator("#cost-centres tr", has_text="RND-600")
    await expect(row).to_contain_text("Active")

    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.once("dialog", accept)
    await row.get_by_role("button", name="Archive", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Cost centre archived")
    await expect(page.locator("#cost-centres tr", has_text="RND-600")).to_contain_text("Archived")
    await page.locator("#code").fill("rnd-600")
    await page.locator("#name").fill("Again")
    await page.get_by_role("button", name="Add cost centre", exact=True).click()
    await expect(page.locator("#code-error")).to_have_text("Another cost centre has that code.")
    await shoot(page, "cost-centres")
