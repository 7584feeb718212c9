"""The database engine and the few helpers every domain uses for transactions."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

PICCOLO_CONF = "portal.piccolo_conf"
os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)


def engine_for(database_url: str) -> Engine:  # type: ignore[type-arg]
    if database_url.startswith("sqlite:"):
        path = Path(urlsplit(database_url).path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A long busy timeout: the embedded mode serialises writers on the file lock.
        return SQLiteEngine(path=str(path), timeout=30)
    config: dict[str, object] = {"dsn": database_url}
    if pool_size() > 0:
        # Without a pool piccolo hands the config to asyncpg.connect, which knows no sizes.
        config.update(min_size=1, max_size=pool_size())
    return PostgresEngine(config=config)


def pool_size() -> int:
    """DATABASE_POOL_MAX connections per process; 0 opens a connection per query instead (the
    test suite does, because its client runs the app on another event loop)."""
    raw = os.environ.get("DATABASE_POOL_MAX", "10")
    if not raw.isdigit() or int(raw) > 1000:
        raise ValueError(f"DATABASE_POOL_MAX: expected a whole number from 0 to 1000, got {raw!r}")
    return int(raw)


def engine() -> Engine:  # type: ignore[type-arg]
    found = engine_finder()
    if found is None:
        raise RuntimeError("no piccolo engine configured (PICCOLO_CONF)")
    return found


def write_transaction():  # type: ignore[no-untyped-def]
    """A transaction for read-then-write work: IMMEDIATE on SQLite so the write lock is taken
    up front instead of failing on upgrade."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


async def start() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        if pool_size() > 0:
            await db.start_connection_pool()
    elif isinstance(db, SQLiteEngine):
        # WAL lets readers go on while a writer holds the lock; the setting lives in the file.
        await db.run_ddl("PRAGMA journal_mode=WAL")


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


async def ping() -> None:
    await engine().run_ddl("SELECT 1")
