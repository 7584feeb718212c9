"""Periodic upkeep that no request does on its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dramatiq
from litestar.stores.file import FileStore

import workflows.broker  # noqa: F401 - the broker must exist before actors are declared
from portal.settings import load_settings


def session_directory() -> Path:
    return load_settings().data_dir / "sessions"


# Redis expires session keys itself; the file store of the embedded mode only hides expired
# entries, so they are deleted here. Idempotent: a second run finds nothing to delete.
@dramatiq.actor(max_retries=3, time_limit=60_000, max_age=3_600_000)
def purge_expired_sessions() -> None:
    if load_settings().redis_url is None:
        directory = session_directory()
        if directory.exists():
            asyncio.run(FileStore(path=directory).delete_expired())
