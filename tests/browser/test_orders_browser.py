"""Orders and approvals in a real Chromium against `portal run` and its in-process workers: an
admin sets up approval policies in Settings, the manager orders, the approvers decide in their
queue (htmx swaps the row in place) and the manager reads the outcome on the order's page."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.async_api import Browser, BrowserContext, Dialog, Locator, Page, expect

from tests.browser.conftest import TIMEOUT_MS, RunningPortal
from tests.browser.test_sign_in_browser import ADMIN, MANAGER, USER, main_nav, sign_in

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT_MS)

DEMO_POLICIES = ("Orders over 500", "Orders over 5,000")

ADMIN_NAME = "Ada Admin"
USER_NAME = "Uma User"
LEASED_LINE = "leased-line-10g"  # 1,250.00 per unit and month
QUEUE_SCREENSHOT = "/tmp/portal-approvals.png"  # noqa: S108 (a fixed path for people to look at)
ORDER_SCREENSHOT = "/tmp/portal-order.png"  # noqa: S108
# The in-process worker evaluates a submitted order within moments; a slow machine gets longer.
EVALUATION_SECONDS = 20.0
SUBMITTED = "Submitted, waiting for evaluation"
WAITING = "Waiting for approval"
LEFT = " It has left your queue."
NO_REASON = "Give a reason for the rejection; the requester will see it."
ORDER_PATH = re.compile(r"^/orders/([0-9a-f-]{36})$")

OpenPage = Callable[[], Awaitable[Page]]


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    id: str
    number: str

    @property
    def path(self) -> str:
        return f"/orders/{self.id}"


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """A page in a further fresh browser profile (another person); all closed after the test."""
    opened: list[BrowserContext] = []

    async def open_one() -> Page:
        fresh = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
        fresh.set_default_timeout(TIMEOUT_MS)
        fresh.set_default_navigation_timeout(TIMEOUT_MS)
        opened.append(fresh)
        return await fresh.new_page()

    try:
        yield open_one
    finally:
        for context in opened:
            await context.close()


async def deactivate_demo_policies(page: Page, portal: RunningPortal) -> None:
    """The demo organisation starts with a chain of its own; these journeys set their own."""
    for name in DEMO_POLICIES:
        await page.goto(portal.url("/settings/approval-policies"))
        await page.get_by_role("link", name=name, exact=True).click()
        await page.get_by_label("Active", exact=True).uncheck()
        await page.get_by_role("button", name="Save policy", exact=True).click()
        await expect(page).to_have_url(portal.url("/settings/approval-policies?done=saved"))


async def create_policy(
    page: Page,
    portal: RunningPortal,
    name: str,
    threshold: str,
    approvers: tuple[str, ...] = (),
    level: str = "1",
) -> None:
    """Settings → Approval policies → New policy, one approval required; no approver chosen
    means all admins."""
    if name not in DEMO_POLICIES:
        await deactivate_demo_policies(page, portal)
    await page.goto(portal.url("/settings/approval-policies"))
    await page.get_by_role("link", name="New policy", exact=True).click()
    await expect(page).to_have_url(portal.url("/settings/approval-policies/new"))
    await expect(page.get_by_role("heading", name="New approval policy")).to_be_visible()
    await page.locator("#name").fill(name)
    await page.locator("#threshold").fill(threshold)
    if approvers:
        await page.locator("#approver_users").select_option(label=list(approvers))
    await expect(page.locator("#required_approvals")).to_have_value("1")
    await page.locator("#level").fill(level)
    await page.get_by_role("button", name="Save policy", exact=True).click()
    await expect(page).to_have_url(portal.url("/settings/approval-policies?done=saved"))
    await expect(page.get_by_role("status")).to_have_text("Saved.")
    row = page.locator("#policies tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )
    await expect(row.locator("td")).to_have_text(
        [
            level,
            name,
            f"GBP {Decimal(threshold):,.2f}",
            "any type; any cost centre",
            ", ".join(approvers) or "All admins",
            "1",
            "Yes",
        ]
    )


async def place_order(page: Page, portal: RunningPortal) -> PlacedOrder:
    """One 10 Gbps leased line (1,250.00 a month, the estimate left to the catalogue),
    submitted for approval through the form."""
    await page.goto(portal.url("/orders"))
    await page.get_by_role("link", name="Place an order", exact=True).click()
    await expect(page).to_have_url(portal.url("/orders/new"))
    await page.locator("input[name=kind][value=new]").check()
    await page.locator("#item").select_option(LEASED_LINE)
    await page.locator("#quantity").fill("1")
    await page.locator("#estimated_cost").fill("")
    await page.locator("#cost_centre").select_option("IT-100")
    await page.locator("#notes").fill("For the new data centre.")
    await page.get_by_role("button", name="Submit for approval", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}\?done=submitted$"))
    await expect(page.get_by_role("status")).to_have_text(
        "Order submitted. It is checked against the approval policies now."
    )
    path = page.url.removeprefix(portal.base_url).split("?", 1)[0]
    found = ORDER_PATH.match(path)
    assert found is not None, page.url
    heading = (await page.get_by_role("heading", level=1).inner_text()).strip()
    number = heading.removeprefix("Order ")
    assert number.isdigit(), heading
    return PlacedOrder(found.group(1), number)


async def wait_for_status(
    page: Page, portal: RunningPortal, order: PlacedOrder, label: str
) -> None:
    """Open the order's page, reloading it until the worker has moved the order to `label`
    (the page does not refresh itself)."""
    status = page.locator("#order-status")
    deadline = time.monotonic() + EVALUATION_SECONDS
    seen = ""
    while True:
        await page.goto(portal.url(order.path))
        seen = (await status.inner_text()).strip()
        if seen == label:
            return
        if seen != SUBMITTED or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    pytest.fail(
        f"order {order.number} is {seen!r}, not {label!r}, after up to {EVALUATION_SECONDS:.0f} s;"
        f" `portal run` output:\n{portal.output()}"
    )


def queue_row(page: Page, order: PlacedOrder) -> Locator:
    return page.locator(f"#queue-{order.id}")


async def mark_page(page: Page) -> None:
    """A flag on the window: still there later means no full page load happened in between."""
    await page.evaluate("window.__noReload = true")


async def assert_not_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__noReload === true"), "the page was loaded again"


def timeline_entry(page: Page, text: str) -> Locator:
    return page.locator("ol.timeline li").filter(has_text=text)


async def test_admin_rejects_an_order_from_the_queue_and_the_manager_reads_why(
    page: Page, portal: RunningPortal, open_page: OpenPage
) -> None:
    await sign_in(page, portal, ADMIN)
    await create_policy(page, portal, "Large orders", "500.00")

    manager = await open_page()
    await sign_in(manager, portal, MANAGER)
    await expect(main_nav(manager).get_by_role("link")).to_have_text(
        ["Dashboard", "Services", "Orders", "My account"]
    )
    order = await place_order(manager, portal)
    await wait_for_status(manager, portal, order, WAITING)
    await expect(manager.locator("#steps tbody tr td")).to_have_text(
        ["1", "Large orders", "0 of 1", ADMIN_NAME]
    )
    await expect(manager.locator("#decide")).to_have_count(0)
    await expect(timeline_entry(manager, "Approval policies evaluated")).to_contain_text(
        "Applies: Large orders (level 1, 1 approval)."
    )

    # The admin's dashboard counts it; the widget leads to the queue.
    await page.goto(portal.url("/"))
    widget = page.locator("#approvals-widget")
    await expect(widget.locator("#widget-count")).to_have_text("1")
    await expect(widget.get_by_role("listitem")).to_have_text(
        [re.compile(rf"^Order {order.number}: Leased line 10 Gbps, .*1,250\.00, from Max Manager")]
    )
    await widget.get_by_role("link", name=re.compile("^Waiting for your approval")).click()
    await expect(page).to_have_url(portal.url("/approvals"))
    await expect(page.locator("#queue-count")).to_have_text("1")
    row = queue_row(page, order)
    await expect(row).to_contain_text(f"Order {order.number}")
    await expect(row).to_contain_text("Max Manager")
    # The order's details and timeline open inline, fetched when first opened.
    await row.get_by_text("Details and timeline", exact=True).click()
    await expect(row.locator(".inline-timeline")).to_contain_text("Approval policies evaluated")
    await expect(row.locator(".inline-timeline")).to_contain_text("Submitted · Max Manager")
    await page.screenshot(path=QUEUE_SCREENSHOT, full_page=True)

    # Rejected in place: htmx swaps the row and the count, the page stays.
    await mark_page(page)
    await row.get_by_placeholder("Reason for rejecting").fill("Over this quarter's budget.")
    async with page.expect_response(
        lambda r: r.url == portal.url(f"{order.path}/reject") and r.request.method == "POST"
    ) as answer:
        await row.get_by_role("button", name="Reject", exact=True).click()
    response = await answer.value
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"
    await expect(row).to_have_text(
        f"Order {order.number} rejected; the requester is told your reason.{LEFT}"
    )
    await expect(page.locator("#queue-count")).to_have_text("0")
    await expect(page).to_have_url(portal.url("/approvals"))
    await assert_not_reloaded(page)

    await page.goto(portal.url("/approvals"))
    await expect(page.locator("#queue-count")).to_have_text("0")
    await expect(page.locator("#queue tbody")).to_have_text("Nothing is waiting for you.")

    # The manager sees the rejection and its reason.
    await manager.goto(portal.url(order.path))
    await expect(manager.locator("#order-status")).to_have_text("Rejected")
    await expect(manager.locator("#rejection")).to_have_text(
        "Rejected. Reason: Over this quarter's budget."
    )
    rejected = timeline_entry(manager, "Order rejected")
    await expect(rejected).to_contain_text(f"Order rejected · {ADMIN_NAME}")
    await expect(rejected).to_contain_text(
        "Rejected at level 1. Reason: Over this quarter's budget."
    )
    await expect(manager.get_by_role("link", name="Edit", exact=True)).to_have_count(0)


async def test_admin_approves_an_order_from_the_queue_and_the_timeline_says_who(
    page: Page, portal: RunningPortal, open_page: OpenPage
) -> None:
    await sign_in(page, portal, ADMIN)
    await create_policy(page, portal, "Large orders", "500.00")

    manager = await open_page()
    await sign_in(manager, portal, MANAGER)
    order = await place_order(manager, portal)
    await wait_for_status(manager, portal, order, WAITING)

    await page.goto(portal.url("/"))
    await expect(page.locator("#widget-count")).to_have_text("1")
    await main_nav(page).get_by_role("link", name="Approvals", exact=True).click()
    await expect(page).to_have_url(portal.url("/approvals"))
    await expect(page.locator("#queue-count")).to_have_text("1")

    await mark_page(page)
    row = queue_row(page, order)
    async with page.expect_response(
        lambda r: r.url == portal.url(f"{order.path}/approve") and r.request.method == "POST"
    ) as answer:
        await row.get_by_role("button", name="Approve", exact=True).click()
    assert (await answer.value).status == 200
    await expect(row).to_have_text(f"Order {order.number} approved.{LEFT}")
    await expect(page.locator("#queue-count")).to_have_text("0")
    await assert_not_reloaded(page)

    await page.goto(portal.url("/"))
    await expect(page.locator("#widget-count")).to_have_text("0")
    await expect(page.locator("#approvals-widget")).to_contain_text("Nothing is waiting for you.")

    await manager.goto(portal.url(order.path))
    await expect(manager.locator("#order-status")).to_have_text("Approved")
    await expect(manager.locator("#rejection")).to_have_count(0)
    await expect(timeline_entry(manager, "Approved by an approver")).to_contain_text(
        f"Approved by an approver · {ADMIN_NAME}"
    )
    await expect(timeline_entry(manager, "Order approved")).to_contain_text(
        "Every level is approved."
    )
    await manager.screenshot(path=ORDER_SCREENSHOT, full_page=True)


async def test_two_levels_wait_for_each_other_then_the_order_is_approved(
    page: Page, portal: RunningPortal, open_page: OpenPage
) -> None:
    await sign_in(page, portal, ADMIN)
    await create_policy(page, portal, "Team lead sign-off", "50.00", (USER_NAME,), level="1")
    await create_policy(page, portal, "Finance sign-off", "1000.00", (ADMIN_NAME,), level="2")

    manager = await open_page()
    await sign_in(manager, portal, MANAGER)
    order = await place_order(manager, portal)
    await wait_for_status(manager, portal, order, WAITING)
    steps = manager.locator("#steps tbody tr")
    await expect(steps.nth(0).locator("td")).to_have_text(
        ["1", "Team lead sign-off", "0 of 1", USER_NAME]
    )
    await expect(steps.nth(0)).to_have_attribute("aria-current", "step")
    await expect(steps.nth(1).locator("td")).to_have_text(
        ["2", "Finance sign-off", "After level 1", ADMIN_NAME]
    )

    # Level 1 is not the admin's to decide yet.
    await page.goto(portal.url("/approvals"))
    await expect(page.locator("#queue-count")).to_have_text("0")
    await expect(queue_row(page, order)).to_have_count(0)

    # Uma, a plain user named by the level-1 policy, finds it on her dashboard and approves.
    uma = await open_page()
    await sign_in(uma, portal, USER)
    await expect(uma.locator("#widget-count")).to_have_text("1")
    await uma.locator("#approvals-widget").get_by_role("link", name=re.compile("^Waiting")).click()
    await expect(uma).to_have_url(portal.url("/approvals"))
    await expect(uma.locator("#queue-count")).to_have_text("1")
    await mark_page(uma)
    uma_row = queue_row(uma, order)
    await uma_row.get_by_role("button", name="Approve", exact=True).click()
    await expect(uma_row).to_have_text(
        f"Order {order.number}: your approval is recorded; level 2 waits now.{LEFT}"
    )
    await expect(uma.locator("#queue-count")).to_have_text("0")
    await assert_not_reloaded(uma)

    await manager.goto(portal.url(order.path))
    await expect(manager.locator("#order-status")).to_have_text(WAITING)
    await expect(steps.nth(1)).to_have_attribute("aria-current", "step")
    await expect(steps.nth(1).locator("td")).to_have_text(
        ["2", "Finance sign-off", "0 of 1", ADMIN_NAME]
    )
    await expect(steps.nth(0).locator("td")).to_have_text(
        ["1", "Team lead sign-off", "Complete", USER_NAME]
    )
    await expect(timeline_entry(manager, "Waiting for the next approval level")).to_contain_text(
        "Level 1 is approved; level 2 is waiting."
    )

    # Now it is in the level-2 approver's queue; the admin approves it in bulk.
    await page.goto(portal.url("/approvals"))
    await expect(page.locator("#queue-count")).to_have_text("1")
    admin_row = queue_row(page, order)
    await expect(admin_row).to_contain_text("Level 2")
    await admin_row.get_by_label(f"Select order {order.number}").check()
    # Bulk approval asks first: answered no, nothing is sent; answered yes, it goes.
    questions: list[str] = []

    async def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        await (dialog.accept() if len(questions) > 1 else dialog.dismiss())

    page.on("dialog", answer)
    bulk_button = page.get_by_role("button", name="Approve the selected orders", exact=True)
    await bulk_button.click()
    await expect(page).to_have_url(portal.url("/approvals"))
    await expect(page.locator("#queue-count")).to_have_text("1")
    await bulk_button.click()
    # Post, redirect, get: back on the queue, the result shown once.
    await expect(page).to_have_url(portal.url("/approvals?done=bulk"))
    await expect(page.locator("#bulk-results li")).to_have_text([f"Order {order.number} approved."])
    assert questions == ["Approve every selected order? Each is approved on its own."] * 2
    await expect(page.locator("#queue-count")).to_have_text("0")
    await page.reload()
    await expect(page.locator("#bulk-results")).to_have_count(0)

    await manager.goto(portal.url(order.path))
    await expect(manager.locator("#order-status")).to_have_text("Approved")
    await expect(timeline_entry(manager, "Approved by an approver")).to_have_text(
        [
            re.compile(rf"Approved by an approver · {USER_NAME}\s+Approved level 1\."),
            re.compile(rf"Approved by an approver · {ADMIN_NAME}\s+Approved level 2\."),
        ]
    )
    await expect(timeline_entry(manager, "Order approved")).to_have_count(1)


async def test_rejecting_without_a_reason_is_refused_in_the_row(
    page: Page, portal: RunningPortal, open_page: OpenPage
) -> None:
    await sign_in(page, portal, ADMIN)
    await create_policy(page, portal, "Large orders", "500.00")

    manager = await open_page()
    await sign_in(manager, portal, MANAGER)
    order = await place_order(manager, portal)
    await wait_for_status(manager, portal, order, WAITING)

    await page.goto(portal.url("/approvals"))
    await expect(page.locator("#queue-count")).to_have_text("1")
    await mark_page(page)
    row = queue_row(page, order)
    async with page.expect_response(
        lambda r: r.url == portal.url(f"{order.path}/reject") and r.request.method == "POST"
    ) as answer:
        await row.get_by_role("button", name="Reject", exact=True).click()
    assert (await answer.value).status == 422
    await expect(row.get_by_role("alert")).to_have_text(NO_REASON)
    reason = row.get_by_placeholder("Reason for rejecting")
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(reason).to_have_value("")
    await expect(row.get_by_role("button", name="Approve", exact=True)).to_be_enabled()
    await expect(page.locator("#queue-count")).to_have_text("1")
    await assert_not_reloaded(page)

    # Nothing was decided: the order still waits, in the queue and on its page.
    await page.reload()
    await expect(page.locator("#queue-count")).to_have_text("1")
    await expect(queue_row(page, order).get_by_role("alert")).to_have_count(0)
    await manager.goto(portal.url(order.path))
    await expect(manager.locator("#order-status")).to_have_text(WAITING)
    await expect(manager.locator("#rejection")).to_have_count(0)
    await expect(timeline_entry(manager, "Order rejected")).to_have_count(0)
