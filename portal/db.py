"""The database engine and the few helpers every domain uses for transactions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString
from piccolo.table import Table

from portal.settings import database_pool_max_from

PICCOLO_CONF = "portal.piccolo_conf"

# What a unique index raises on each database, for callers that turn a race into a message.
UNIQUE_VIOLATIONS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.exceptions.UniqueViolationError,
)
os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)


def engine_for(database_url: str) -> Engine:  # type: ignore[type-arg]
    if database_url.startswith("sqlite:"):
        path = Path(urlsplit(database_url).path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A long busy timeout: the embedded mode serialises writers on the file lock.
        return SQLiteEngine(path=str(path), timeout=30)
    return PostgresEngine(config={"dsn": database_url})


def pool_size() -> int:
    return database_pool_max_from(os.environ)


_engine: Engine | None = None  # type: ignore[type-arg]


def engine() -> Engine:  # type: ignore[type-arg]
    """The configured engine, looked up once: piccolo's finder imports the conf module on every
    call, a cost every request paid."""
    global _engine
    if _engine is None:
        found = engine_finder()
        if found is None:
            raise RuntimeError("no piccolo engine configured (PICCOLO_CONF)")
        _engine = found
    return _engine


class HotQuery:
    """A statement run on every request, compiled once: on PostgreSQL with a pool it goes to
    asyncpg straight (a prepared statement per connection, no query builder, no row copies);
    elsewhere (SQLite, no pool, inside a transaction) through piccolo. The SQL names its
    parameters `{}`, as piccolo's QueryString does."""

    def __init__(self, template: str) -> None:
        self.template = template
        parts = template.split("{}")
        self.postgres = "".join(
            part + (f"${index}" if index < len(parts) else "")
            for index, part in enumerate(parts, start=1)
        )

    async def fetch_row(self, *args: Any) -> Any:
        rows = await self.fetch(*args)
        return rows[0] if rows else None

    async def fetch(self, *args: Any) -> Sequence[Any]:
        """Every row, each read by column name (asyncpg records or piccolo's dicts)."""
        db = engine()
        if isinstance(db, PostgresEngine) and db.pool is not None and not db.transaction_exists():
            async with db.pool.acquire() as connection:
                rows: Sequence[Any] = await connection.fetch(self.postgres, *args)
                return rows
        found: Sequence[Any] = await db.run_querystring(QueryString(self.template, *args))
        return found


def write_transaction() -> AbstractAsyncContextManager[Any]:
    """A transaction for read-then-write work: IMMEDIATE on SQLite so the write lock is taken
    up front instead of failing on upgrade."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    transaction: AbstractAsyncContextManager[Any] = db.transaction()
    return transaction


async def lock_organisation(organisation_id: object) -> None:
    """Serialise changes that check organisation-wide rules (such as "at least one active
    admin"). Call inside write_transaction(): PostgreSQL locks the organisation's row; SQLite's
    IMMEDIATE transaction already holds the only write lock.

    FOR NO KEY UPDATE, not FOR UPDATE: it excludes the other callers all the same, but not the
    KEY SHARE lock every insert of a row referencing the organisation takes. An engine step
    holding an order and inserting its timeline would otherwise deadlock with a change that
    holds the organisation and then waits for that order (eligibility.refresh_for_organisation).
    """
    db = _inside_a_transaction("lock_organisation")
    if isinstance(db, PostgresEngine):
        await db.run_querystring(
            QueryString(
                'SELECT "id" FROM "organisation" WHERE "id" = {} FOR NO KEY UPDATE',
                organisation_id,
            )
        )


def for_update(query: Select[Any]) -> Select[Any]:
    """Lock the rows of the query's own table until the transaction ends (not those of joined
    tables). Call inside write_transaction(): PostgreSQL locks the rows; SQLite's IMMEDIATE
    transaction already holds the only write lock (and knows no FOR UPDATE)."""
    if isinstance(_inside_a_transaction("for_update"), PostgresEngine):
        return query.lock_rows(of=(query.table,))
    return query


def row_lock_clause(alias: str) -> str:
    """What ends a hand-written SELECT that locks the rows of its table `alias` until the
    transaction ends: FOR UPDATE OF on PostgreSQL, nothing on SQLite (its IMMEDIATE
    transaction already holds the only write lock). Call inside write_transaction()."""
    if isinstance(_inside_a_transaction("row_lock_clause"), PostgresEngine):
        return f' FOR UPDATE OF "{alias}"'
    return ""


# SQLite binds at most 32,766 values per statement.
_MAX_BOUND_VALUES = 30_000


async def insert_many(
    table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Rows of `columns` (database names; JSON values as text) in as few statements as the
    bound-value limit allows: SQL text, values bound. Piccolo's insert makes a Table instance
    per row and builds its SQL anew each time, which costs the engine's hot path more CPU than
    the round trip."""
    per_statement = max(1, min(1000, _MAX_BOUND_VALUES // len(columns)))
    names = ", ".join(f'"{column}"' for column in columns)
    head = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES '  # noqa: S608
    row = "(" + ", ".join(["{}"] * len(columns)) + ")"
    for start in range(0, len(rows), per_statement):
        batch = rows[start : start + per_statement]
        await engine().run_querystring(
            QueryString(head + ", ".join([row] * len(batch)), *(v for r in batch for v in r))
        )


def _inside_a_transaction(helper: str) -> Engine:  # type: ignore[type-arg]
    """The engine, once sure a transaction is open. Outside one the lock would be a silent
    no-op: PostgreSQL releases it when the statement ends, SQLite never takes one."""
    db = engine()
    if not db.transaction_exists():
        raise RuntimeError(
            f"{helper}() was called outside a transaction, where it locks nothing: "
            "call it inside write_transaction()"
        )
    return db


async def start() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        if pool_size() > 0:
            # Sizes go here, not in the engine config: piccolo also hands that config to
            # asyncpg.connect, which knows no pool sizes.
            await db.start_connection_pool(
                min_size=1, max_size=pool_size(), reset=_reset_released_connection
            )
    elif isinstance(db, SQLiteEngine):
        # WAL lets readers go on while a writer holds the lock; the setting lives in the file.
        await db.run_ddl("PRAGMA journal_mode=WAL")


async def _reset_released_connection(connection: asyncpg.Connection) -> None:
    """asyncpg's default reset costs a round trip on every release. The portal sets no session
    state (no SET, LISTEN, session advisory locks or open cursors), so only a connection given
    back inside a transaction, after a cancelled request, needs the full reset."""
    if connection.is_in_transaction():
        await connection.reset()


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()


async def ping() -> None:
    await engine().run_ddl("SELECT 1")
