"""Applying the piccolo migrations, from the CLI and from the test suite."""

from __future__ import annotations

from piccolo.apps.migrations.commands.forwards import run_forwards

from portal import db


class MigrationError(RuntimeError):
    pass


async def migrate() -> None:
    await db.start()
    try:
        result = await run_forwards(app_name="portal")
    finally:
        await db.stop()
    if not result.success:
        raise MigrationError(result.message)
