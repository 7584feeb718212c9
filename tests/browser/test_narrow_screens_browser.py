"""The portal on a phone-sized screen (390 x 844) in a real Chromium: the page itself never
scrolls sideways, wide tables scroll in their own box with their first column held in view, and
a menu button folds the navigation away; at 1280 px the navigation shows as it always did."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from tests.browser.conftest import TIMEOUT_MS, RunningPortal
from tests.browser.test_orders_browser import WAITING, place_order, queue_row, wait_for_status
from tests.browser.test_sign_in_browser import ADMIN, MANAGER, main_nav, nav_link, sign_in

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT_MS)

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
QUEUE_SCREENSHOT = "/tmp/portal-approvals-390.png"  # noqa: S108 (a fixed path for people to look at)

OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """A page in a fresh browser profile of the given size (one person each); closed after."""
    opened: list[BrowserContext] = []

    async def open_one(viewport: ViewportSize = PHONE, *, javascript: bool = True) -> Page:
        fresh = await browser.new_context(
            viewport=viewport, locale="en-GB", java_script_enabled=javascript
        )
        fresh.set_default_timeout(TIMEOUT_MS)
        fresh.set_default_navigation_timeout(TIMEOUT_MS)
        opened.append(fresh)
        return await fresh.new_page()

    try:
        yield open_one
    finally:
        for context in opened:
            await context.close()


def menu_button(page: Page) -> Locator:
    return page.locator("header").get_by_role("button", name="Menu", exact=True)


def hidden_menu_button(page: Page) -> Locator:
    """The menu button whether shown or not (role queries skip hidden elements)."""
    return page.locator("header button[aria-controls=main-nav]")


async def assert_no_sideways_scroll(page: Page) -> None:
    document_width, window_width = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert document_width <= window_width, (
        f"{page.url} is {document_width} px wide in a {window_width} px window"
    )


async def assert_inside(inner: Locator, outer: Locator) -> None:
    """`inner` is drawn wholly within `outer`'s box: in view, not clipped by it."""
    inner_box = await inner.bounding_box()
    outer_box = await outer.bounding_box()
    assert inner_box is not None and outer_box is not None
    assert inner_box["x"] >= outer_box["x"] - 1, (inner_box, outer_box)
    right, outer_right = inner_box["x"] + inner_box["width"], outer_box["x"] + outer_box["width"]
    assert right <= outer_right + 1, (inner_box, outer_box)


async def test_at_390_px_no_page_scrolls_sideways_and_the_menu_leads_to_the_queue(
    portal: RunningPortal, open_page: OpenPage
) -> None:
    # The demo's "Orders over 500" puts a 1,250.00 leased line in the admins' queue.
    manager = await open_page(DESKTOP)
    await sign_in(manager, portal, MANAGER)
    order = await place_order(manager, portal)
    await wait_for_status(manager, portal, order, WAITING)

    page = await open_page()
    await sign_in(page, portal, ADMIN)
    await assert_no_sideways_scroll(page)
    button = menu_button(page)
    await expect(button).to_be_visible()
    await expect(button).to_have_attribute("aria-expanded", "false")
    await expect(button).to_have_attribute("aria-controls", "main-nav")
    await expect(main_nav(page)).to_be_hidden()

    await button.click()
    await expect(button).to_have_attribute("aria-expanded", "true")
    await expect(main_nav(page)).to_be_visible()
    await assert_no_sideways_scroll(page)
    await button.click()
    await expect(main_nav(page)).to_be_hidden()
    await button.click()
    await nav_link(page, "Approvals").click()
    await expect(page).to_have_url(portal.url("/approvals"))
    await expect(main_nav(page)).to_be_hidden()

    row = queue_row(page, order)
    await expect(row).to_contain_text(f"Order {order.number}")
    await assert_no_sideways_scroll(page)
    # The table scrolls in its own box; scrolled to its end, the order still shows.
    box = page.locator(".scroll").filter(has=page.locator("#queue"))
    assert await box.evaluate("box => box.scrollWidth > box.clientWidth"), "the queue fits?"
    await box.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    await assert_inside(row.get_by_role("link", name=f"Order {order.number}"), box)
    await page.screenshot(path=QUEUE_SCREENSHOT, full_page=True)

    # Decided in place, the row's message wraps inside the box rather than running off it.
    await row.get_by_role("button", name="Approve", exact=True).click()
    await expect(row).to_have_text(f"Order {order.number} approved. It has left your queue.")
    await box.evaluate("box => { box.scrollLeft = 0; }")
    await assert_inside(row.locator(".row-note"), box)
    await assert_no_sideways_scroll(page)

    for path in ("/services", order.path, "/settings/users", "/settings/activity"):
        await page.goto(portal.url(path))
        await expect(page.locator("main table tbody tr").first).to_be_visible()
        await assert_no_sideways_scroll(page)


async def test_at_1280_px_the_navigation_shows_without_a_menu_button(
    portal: RunningPortal, open_page: OpenPage
) -> None:
    page = await open_page(DESKTOP)
    await sign_in(page, portal, ADMIN)
    await expect(main_nav(page)).to_be_visible()
    await expect(hidden_menu_button(page)).to_have_count(1)
    await expect(hidden_menu_button(page)).to_be_hidden()
    await assert_no_sideways_scroll(page)


async def test_without_javascript_the_navigation_stays_open_at_390_px(
    portal: RunningPortal, open_page: OpenPage
) -> None:
    page = await open_page(javascript=False)
    await sign_in(page, portal, ADMIN)
    await expect(hidden_menu_button(page)).to_have_count(1)
    await expect(hidden_menu_button(page)).to_be_hidden()
    await expect(nav_link(page, "Services")).to_be_visible()
    await nav_link(page, "Services").click()
    await expect(page).to_have_url(portal.url("/services"))
