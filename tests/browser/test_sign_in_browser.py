"""Signing in and out in a real Chromium against the real `portal run` and its demo organisation."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.browser.conftest import TIMEOUT_MS, RunningPortal

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT_MS)

ADMIN = "admin@acme.example"
MANAGER = "manager@acme.example"
USER = "user@acme.example"
SCREENSHOT = "/tmp/portal-dashboard.png"  # noqa: S108 (a fixed path for people to look at)
SESSION_COOKIE = "portal_session"  # plain http: no __Host- prefix
GENERIC_FAILURE = "That email and password do not match an active account."


def main_nav(page: Page) -> Locator:
    return page.locator("nav[aria-label=Main]")


def nav_link(page: Page, label: str) -> Locator:
    return main_nav(page).get_by_role("link", name=label, exact=True)


async def fill_sign_in_form(page: Page, portal: RunningPortal, email: str, password: str) -> None:
    await page.goto(portal.url("/sign-in"))
    await expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)


async def sign_in(page: Page, portal: RunningPortal, email: str) -> None:
    """Sign in through the form and land on the dashboard."""
    await fill_sign_in_form(page, portal, email, portal.demo_password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(portal.url("/"))


async def test_admin_signs_in_sees_admin_navigation_and_their_sign_in_in_the_log(
    page: Page, portal: RunningPortal
) -> None:
    await sign_in(page, portal, ADMIN)

    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada Admin")
    await expect(page.locator("header .who .org")).to_have_text("Acme")
    nav = main_nav(page)
    await expect(nav).to_be_visible()
    await expect(nav.get_by_role("link")).to_have_text(
        [
            "Dashboard",
            "Services",
            "Orders",
            "Approvals",
            "Users",
            "Roles",
            "Approval policies",
            "Cost centres",
            "Activity log",
            "My account",
        ]
    )
    await expect(nav_link(page, "Dashboard")).to_have_attribute("aria-current", "page")
    await expect(nav_link(page, "Roles")).to_have_attribute("href", "/settings/roles")
    await page.screenshot(path=SCREENSHOT, full_page=True)

    await nav_link(page, "Activity log").click()
    await expect(page).to_have_url(portal.url("/settings/activity"))
    await expect(page.get_by_role("heading", name="Activity log", level=1)).to_be_visible()
    signed_in_rows = page.locator("table tbody tr").filter(
        has=page.get_by_role("cell", name="Signed in", exact=True)
    )
    await expect(signed_in_rows).to_have_count(1)
    await expect(signed_in_rows.locator("td")).to_have_text(
        [
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"),
            "Signed in",
            "Ada Admin",
            # The subject, and the link to its whole history.
            re.compile(r"^Ada Admin \(admin@acme\.example\)\s+history$"),
            re.compile(r"^—\s*$"),
            "127.0.0.1",
            "password",
        ]
    )
    await expect(nav_link(page, "Activity log")).to_have_attribute("aria-current", "page")


async def test_user_sees_no_admin_navigation_and_gets_the_friendly_403(
    page: Page, portal: RunningPortal
) -> None:
    await sign_in(page, portal, USER)

    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Uma User")
    nav = main_nav(page)
    # The nav is there and holds the user's own links, so the absences below mean something.
    await expect(nav.get_by_role("link")).to_have_text(["Dashboard", "Services", "My account"])
    await expect(nav_link(page, "Roles")).to_have_count(0)
    await expect(nav_link(page, "Activity log")).to_have_count(0)
    await expect(page.locator("main .tile h2")).to_have_text(["Services", "My account"])
    await expect(page.locator("#tile-monthly-cost")).to_contain_text("Monthly cost: GBP ")

    response = await page.goto(portal.url("/settings/roles"))
    assert response is not None
    assert response.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "You do not have access to this"
    )
    await expect(page.locator("main .status")).to_have_text("Error 403")
    # Still signed in, still without the admin links.
    await expect(nav.get_by_role("link")).to_have_text(["Dashboard", "Services", "My account"])


async def test_wrong_password_shows_the_generic_message_and_keeps_the_email(
    page: Page, portal: RunningPortal
) -> None:
    await fill_sign_in_form(page, portal, ADMIN, "not the demo password, clearly")
    async with page.expect_response(
        lambda r: r.url == portal.url("/sign-in") and r.request.method == "POST"
    ) as answer:
        await page.get_by_role("button", name="Sign in", exact=True).click()
    assert (await answer.value).status == 401

    alert = page.get_by_role("alert")
    await expect(alert).to_have_text(GENERIC_FAILURE)
    await expect(page.locator("#email")).to_have_value(ADMIN)
    await expect(page.locator("#email")).to_have_attribute("aria-describedby", "sign-in-error")
    await expect(page.locator("#password")).to_have_value("")
    await expect(main_nav(page)).to_have_count(0)

    # Not signed in: the dashboard still sends the browser to the sign-in page.
    await page.goto(portal.url("/"))
    await expect(page).to_have_url(portal.url("/sign-in"))


async def test_sign_out_returns_to_sign_in_and_ends_the_session(
    page: Page, context: BrowserContext, portal: RunningPortal
) -> None:
    await sign_in(page, portal, MANAGER)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Max Manager")
    session_cookies = [c for c in await context.cookies() if c.get("name") == SESSION_COOKIE]
    assert len(session_cookies) == 1
    assert session_cookies[0].get("httpOnly") is True
    old_token = session_cookies[0].get("value")
    assert old_token

    await page.locator("header").get_by_role("button", name="Sign out", exact=True).click()
    await expect(page).to_have_url(portal.url("/sign-in?signed_out=1"))
    await expect(page.get_by_role("status")).to_have_text("You are signed out.")
    await expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    await expect(main_nav(page)).to_have_count(0)
    assert not [c for c in await context.cookies() if c.get("name") == SESSION_COOKIE]

    response = await page.goto(portal.url("/"))
    assert response is not None
    assert response.status == 200
    assert response.request.redirected_from is not None
    assert response.request.redirected_from.url == portal.url("/")
    await expect(page).to_have_url(portal.url("/sign-in"))

    # The session is gone on the server too: replaying the old cookie does not sign back in.
    await context.add_cookies(
        [{"name": SESSION_COOKIE, "value": old_token, "url": portal.url("/")}]
    )
    await page.goto(portal.url("/"))
    await expect(page).to_have_url(portal.url("/sign-in"))
    await expect(main_nav(page)).to_have_count(0)
