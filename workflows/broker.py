"""The one broker module; imported before any actor is declared.

Redis when REDIS_URL is set (production shape), otherwise an in-memory broker whose workers
run inside the web process (embedded mode). Actors are async: the AsyncIO middleware gives
each worker process one event loop, on which the database middleware opens the pool once.
"""

from __future__ import annotations

import os
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware

from portal import db
from portal.settings import load_settings


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


def _make_broker() -> dramatiq.Broker:
    redis_url = load_settings().redis_url
    broker: dramatiq.Broker
    if redis_url:
        namespace = os.environ.get("PORTAL_QUEUE_NAMESPACE", "portal")
        broker = RedisBroker(url=redis_url, namespace=namespace)
    else:
        broker = StubBroker()
    broker.add_middleware(AsyncIO())
    broker.add_middleware(Database())
    return broker


broker = _make_broker()
dramatiq.set_broker(broker)
