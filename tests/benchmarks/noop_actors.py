"""A no-op actor on the portal's broker, for bench_engine's baseline.

Workers: `dramatiq tests.benchmarks.noop_actors --processes 1 --threads 4` with the portal's
environment (REDIS_URL, PORTAL_QUEUE_NAMESPACE, DATABASE_URL, SECRET_KEY): the same broker, the
same middleware (AsyncIO, Database) and the same worker shape as `portal worker --processes 1`.
Each message only counts itself done: INCR of the key it names, in Redis.
"""

from __future__ import annotations

import os

import dramatiq
import redis.asyncio

import workflows.broker  # noqa: F401 - the broker must exist before actors are declared

QUEUE = "bench_noop"
_client: redis.asyncio.Redis | None = None


def _redis() -> redis.asyncio.Redis:
    # One per worker process, made on its event loop (the AsyncIO middleware's only loop).
    global _client
    if _client is None:
        _client = redis.asyncio.Redis.from_url(os.environ["REDIS_URL"])
    return _client


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=60_000)
async def noop(done_key: str) -> None:
    await _redis().incr(done_key)
