"""Periodic upkeep that no request does on its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dramatiq
from litestar.stores.file import FileStore

from workflows.broker import settings


def session_directory() -> Path:
    return settings.data_dir / "sessions"


# Redis expires session keys itself; the file store of the embedded mode only hides expired
# entries, so they are deleted here. Idempotent: a second run finds nothing to delete.
@dramatiq.actor(max_retries=3, time_limit=60_000, max_age=3_600_000)
def purge_expired_sessions() -> None:
    if settings.redis_url is None:
        directory = session_directory()
        if directory.exists():
            asyncio.run(FileStore(path=directory).delete_expired())
