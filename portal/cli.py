"""The `portal` command: run, worker, migrate, and the operator's `org create`."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from portal.demo import DemoSignIn

from portal.settings import Settings, SettingsError, load_settings


def _apply_data_dir(data_dir: Path | None) -> None:
    # Settings and piccolo's engine both read the environment; set it before either is loaded.
    if data_dir is not None:
        os.environ["PORTAL_DATA_DIR"] = str(data_dir.resolve())


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise click.ClickException(f"configuration error: {error}") from None


@click.group()
def main() -> None:
    """The customer self-service portal."""


@main.command()
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Where the embedded mode keeps its files."
)
def migrate(data_dir: Path | None) -> None:
    """Apply the database migrations."""
    _apply_data_dir(data_dir)
    _settings_or_exit()
    from portal.migrate import migrate as run_migrations
    from portal.migrate import summary

    click.echo(summary(asyncio.run(run_migrations())))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Where the embedded mode keeps its files."
)
@click.option(
    "--web-workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Web processes (production shape only).",
)
def run(host: str, port: int, data_dir: Path | None, web_workers: int) -> None:
    """Serve the portal. With nothing configured: SQLite, in-process workers and a demo."""
    _apply_data_dir(data_dir)
    settings = _settings_or_exit()
    if "BASE_URL" not in os.environ:
        os.environ["BASE_URL"] = f"http://{host}:{port}"
        settings = _settings_or_exit()
    import uvicorn

    from portal.demo import demo_password
    from portal.migrate import migrate as run_migrations

    asyncio.run(run_migrations())
    if settings.uses_sqlite or os.environ.get("PORTAL_DEMO") == "1":
        password = demo_password(settings.data_dir, settings.demo_password)
        demo = asyncio.run(_seed_demo(password))
        click.echo('Demo organisation "Acme" ' + ("created." if demo.created else "is ready."))
        for email in demo.emails:
            click.echo(f"  sign in as {email}")
        click.echo(f"  password: {demo.password}")

    workers = None
    if settings.embedded:
        if not settings.uses_sqlite:
            # The in-process workers run on their own event loop; a pool cannot span two loops.
            os.environ["DATABASE_POOL_MAX"] = "0"
        from workflows.inprocess import InProcessWorkers

        workers = InProcessWorkers()
        workers.start()
        click.echo("Workers: in-process (no REDIS_URL set)")
    else:
        click.echo("Workers: start them with `portal worker` (REDIS_URL is set)")
    click.echo(f"Portal running at {settings.base_url}/")
    try:
        uvicorn.run(
            "portal.asgi:app",
            host=host,
            port=port,
            workers=1 if settings.uses_sqlite else web_workers,
            log_level="info",
            proxy_headers=False,
        )
    finally:
        if workers is not None:
            workers.stop()


async def _seed_demo(password: str) -> DemoSignIn:
    from portal import db
    from portal.demo import ensure_demo_organisation

    await db.start()
    try:
        return await ensure_demo_organisation(password)
    finally:
        await db.stop()


@main.command()
@click.option("--processes", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    show_default=True,
    help="Also wake the periodic jobs (safe in several places: each period runs once).",
)
def worker(processes: int, threads: int, scheduler: bool) -> None:
    """Run dramatiq worker processes against REDIS_URL."""
    settings = _settings_or_exit()
    if settings.redis_url is None:
        raise click.ClickException("REDIS_URL is not set; `portal run` runs the workers in-process")
    import subprocess

    from dramatiq.cli import main as dramatiq_main

    scheduler_process = None
    if scheduler:
        # Its own process, not a thread: dramatiq forks its workers next, and a fork taken
        # while another thread holds a lock deadlocks the child.
        scheduler_process = subprocess.Popen([sys.executable, "-m", "portal.cli", "scheduler"])

    sys.argv = [
        "dramatiq",
        "workflows.actors",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    try:
        code = dramatiq_main()
    finally:
        if scheduler_process is not None:
            scheduler_process.terminate()
    sys.exit(code)


@main.command()
def scheduler() -> None:
    """Wake the periodic jobs (sweeps, expiry, reminders) until stopped."""
    settings = _settings_or_exit()
    if settings.redis_url is None:
        raise click.ClickException("REDIS_URL is not set; `portal run` schedules in-process")
    import logging
    import threading

    from workflows.schedule import start_scheduler

    logging.basicConfig(
        level=logging.INFO,
        format="[%(asctime)s] [PID %(process)d] [scheduler] [%(name)s] [%(levelname)s] %(message)s",
    )
    stop = threading.Event()
    start_scheduler(stop)
    parent = os.getppid()
    # Started by `portal worker`: end with it, even if it was killed without a word.
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


@main.group()
def org() -> None:
    """The provider operator's commands."""


@org.command("create")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--owner-email", required=True)
@click.option("--owner-name", required=True)
@click.option("--data-dir", type=click.Path(path_type=Path))
def org_create(name: str, owner_email: str, owner_name: str, data_dir: Path | None) -> None:
    """Create an organisation and its owner, and print the owner's first password."""
    _apply_data_dir(data_dir)
    _settings_or_exit()
    from portal import db
    from portal.organisations.service import NewMember, OrganisationError, create_organisation
    from portal.permissions.model import Tier

    password = secrets.token_urlsafe(18)

    async def create() -> None:
        await db.start()
        try:
            await create_organisation(
                name, NewMember(owner_email, owner_name, Tier.ADMIN, password)
            )
        finally:
            await db.stop()

    try:
        asyncio.run(create())
    except OrganisationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Organisation {name!r} created; owner {owner_email.strip().casefold()}.")
    click.echo(f"Initial password for the owner (shown once; hand it over securely): {password}")


if __name__ == "__main__":
    main()
