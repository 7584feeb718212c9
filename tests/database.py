"""The database a test run uses: SQLite by default, PostgreSQL with PORTAL_TEST_DB=postgres.

Chosen before any portal module is imported, because piccolo binds its engine at import.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from piccolo.table import Table

POSTGRES_ADMIN_DSN = os.environ.get(
    "PORTAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def backend() -> str:
    return os.environ.get("PORTAL_TEST_DB", "sqlite")


def configure_environment() -> Path:
    """Point settings at a fresh data dir and a fresh database; returns the data dir."""
    data_dir = Path(tempfile.mkdtemp(prefix="portal-test-"))
    os.environ["PORTAL_DATA_DIR"] = str(data_dir)
    os.environ["SECRET_KEY"] = "test-secret-key-" + "x" * 32
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("SMTP_URL", None)
    # The test client serves the app on its own event loop; a pool cannot span two loops.
    os.environ["DATABASE_POOL_MAX"] = "0"
    if backend() == "postgres":
        name = f"portal_test_{os.getpid()}"
        asyncio.run(_recreate_postgres_database(name))
        os.environ["DATABASE_URL"] = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
        os.environ["PORTAL_TEST_DB_NAME"] = name
    else:
        os.environ.pop("DATABASE_URL", None)
    return data_dir


def drop_database() -> None:
    name = os.environ.get("PORTAL_TEST_DB_NAME")
    if backend() == "postgres" and name:
        asyncio.run(_drop_postgres_database(name))


async def _recreate_postgres_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_postgres_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def empty_tables(tables: Sequence[type[Table]]) -> None:
    """Empty every table in one transaction (one connection), the append-only activity log
    included, which its triggers refuse to any normal session: PostgreSQL's replica role skips
    triggers (superuser only) and TRUNCATE takes them all at once; SQLite's triggers are dropped
    and put back in the same transaction."""
    from piccolo.engine.postgres import PostgresEngine
    from piccolo.querystring import QueryString

    from portal.db import engine, write_transaction

    database = engine()
    # IMMEDIATE on SQLite: the write lock up front, waiting out a worker of the last test.
    async with write_transaction():
        if isinstance(database, PostgresEngine):
            names = ", ".join(f'"{table._meta.tablename}"' for table in tables)
            await database.run_querystring(
                QueryString("SET LOCAL session_replication_role = replica")
            )
            await database.run_querystring(QueryString(f"TRUNCATE {names}"))
            return
        triggers = await database.run_querystring(
            QueryString(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'activity_event'"
            )
        )
        for trigger in triggers:
            await database.run_querystring(QueryString(f'DROP TRIGGER "{trigger["name"]}"'))
        for table in reversed(tables):
            await database.run_querystring(
                QueryString(f'DELETE FROM "{table._meta.tablename}"')  # noqa: S608
            )
        for trigger in triggers:
            await database.run_querystring(QueryString(trigger["sql"]))
