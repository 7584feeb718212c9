"""The one broker module; imported before any actor is declared.

The process's broker (`portal.jobs`): Redis when REDIS_URL is set (production shape), otherwise
an in-memory broker whose workers run inside the web process (embedded mode). Actors are
async: the AsyncIO middleware gives each worker process one event loop, on which the database
middleware opens the pool once.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import AsyncIO, Middleware

from portal import db
from portal.jobs import process_broker
from portal.settings import load_settings
from workflows.redis_watch import RedisWatch


class Database(Middleware):
    """Starts the database engine on the workers' event loop, and stops it at shutdown."""

    # Before, not after: dramatiq starts the worker threads before after_worker_boot, so early
    # messages would run on plain connections while the pool appeared under their transaction.
    # AsyncIO (added first) has made the event loop by now.
    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(db.start())

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(db.stop())


# Settings are read once per worker process and handed to the services the actors call.
settings = load_settings()
broker = process_broker(settings)
broker.add_middleware(AsyncIO())
broker.add_middleware(Database())
broker.add_middleware(RedisWatch())
