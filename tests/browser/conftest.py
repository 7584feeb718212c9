"""Browser fixtures: the real `portal run` command serving the demo organisation on a free port,
and Debian's headless Chromium driven through Playwright.

Chromium is never downloaded: the tests use /usr/bin/chromium (Debian packages `chromium` and
`chromium-driver`) and fail, rather than skip, when it is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.database import backend

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# 20+ characters, not a common password, and containing neither "acme" nor any demo member's
# email local part (admin, manager, user): the password policy would refuse the demo otherwise.
DEMO_PASSWORD = "violet kettle drums beneath nine moons"
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
# Playwright's waits, in milliseconds: generous for a slow CI machine, short enough to fail fast.
TIMEOUT_MS = 10_000


@dataclass(frozen=True, slots=True)
class RunningPortal:
    base_url: str
    demo_password: str
    data_dir: Path
    log_file: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def output(self) -> str:
        return self.log_file.read_text(errors="replace")


def _portal_command() -> str:
    beside_python = Path(sys.executable).parent / "portal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("portal")
    if found is None:
        pytest.fail("the `portal` command is not installed: run `pip install -e '.[test]'`")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_environment(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PORTAL_DEMO_PASSWORD"] = DEMO_PASSWORD
    env["PORTAL_DATA_DIR"] = str(data_dir)
    # `portal run` derives BASE_URL from --host/--port when it is not set.
    env.pop("BASE_URL", None)
    # The test process needs no pool (its client shares no loop with the app); the server, run
    # for real, keeps its default pool.
    env.pop("DATABASE_POOL_MAX", None)
    env["PYTHONUNBUFFERED"] = "1"
    if backend() == "postgres":
        # DATABASE_URL (the test database) passes through; the demo is seeded only on request.
        env["PORTAL_DEMO"] = "1"
    else:
        env.pop("DATABASE_URL", None)
        env.pop("PORTAL_DEMO", None)
    return env


def _wait_until_healthy(process: subprocess.Popen[bytes], portal: RunningPortal) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"`portal run` exited with status {process.returncode} before answering "
                f"/health; its output:\n{portal.output()}"
            )
        try:
            response = httpx.get(portal.url("/health"), timeout=1.0)
        except httpx.TransportError as error:
            last_error = repr(error)
        else:
            if response.status_code == 200:
                return
            last_error = f"HTTP {response.status_code}: {response.text[:200]}"
        time.sleep(0.1)
    pytest.fail(
        f"`portal run` did not answer GET /health with 200 within {STARTUP_TIMEOUT_SECONDS:.0f} s "
        f"(last: {last_error}); its output:\n{portal.output()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


@pytest.fixture
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningPortal]:
    """`portal run` in a subprocess, with the demo organisation Acme freshly seeded.

    One server per test keeps the tests independent (the activity log, the sessions) for about
    two seconds each. On PostgreSQL the tables are emptied first, as the demo seeding skips when
    an organisation named Acme already exists.
    """
    if backend() == "postgres":
        request.getfixturevalue("database")
    data_dir = tmp_path / "portal-data"
    data_dir.mkdir()
    log_file = tmp_path / "portal.log"
    port = _free_port()
    running = RunningPortal(f"http://127.0.0.1:{port}", DEMO_PASSWORD, data_dir, log_file)
    command = [
        _portal_command(),
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=_server_environment(data_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_healthy(process, running)
        yield running
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; its absence fails the tests (CI installs it), it never skips them."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(`apt-get install -y chromium chromium-driver`); "
            "do not download one with `playwright install`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile per test: no cookies carried over."""
    fresh = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    fresh.set_default_timeout(TIMEOUT_MS)
    fresh.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield fresh
    finally:
        await fresh.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
