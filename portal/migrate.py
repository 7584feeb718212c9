"""Applying the piccolo migrations, from the CLI and from the test suite.

Piccolo prints its own tally, which on a fresh database says "12 migrations already complete"
and then "12 migrations not yet run"; the portal keeps that to itself and says what it did."""

from __future__ import annotations

import contextlib
import io
import re

from piccolo.apps.migrations.commands.forwards import run_forwards

from portal import db

_APPLIED = re.compile(r"^\s*- (\S+) \[forwards\]\.\.\. ok!", re.MULTILINE)


class MigrationError(RuntimeError):
    pass


async def migrate() -> list[str]:
    """The ids of the migrations this run applied (none: the database was up to date)."""
    await db.start()
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            result = await run_forwards(app_name="portal")
    finally:
        await db.stop()
    if not result.success:
        raise MigrationError(f"{result.message}\n{said.getvalue()}")
    return _APPLIED.findall(said.getvalue())


def summary(applied: list[str]) -> str:
    if not applied:
        return "The database is up to date: no migration to apply."
    return f"Applied {len(applied)} migration{'s' if len(applied) != 1 else ''}: " + ", ".join(
        applied
    )
