"""A Redis outage in a worker process: one warning when it starts, one line when it ends.

While Redis is down, each of dramatiq's consumers (one per queue and delay queue) logs a
connection error and a restart every few seconds. The filter keeps only the first, as the
outage's warning (shared with `portal.jobs.wake`, so a sweep's failed wake-ups add nothing),
and the watcher pings Redis once a second while it is down to say when it is back.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from portal.jobs import QUEUES, REDIS

logger = logging.getLogger(__name__)
CONNECTION_ERROR = "Consumer encountered a connection error"
RESTARTING = "Restarting consumer in"


class OneLinePerOutage(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith(CONNECTION_ERROR):
            if not REDIS.failed():
                return False
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "Redis is unavailable (%s); the workers wait for it and lose nothing"
            return True
        return not (message.startswith(RESTARTING) and REDIS.down)


class RedisWatch(Middleware):
    """Installs the filter on the consumers' loggers and watches for Redis's return."""

    def __init__(self, every_seconds: float = 1.0) -> None:
        self.every_seconds = every_seconds
        self._stop = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        only_once = OneLinePerOutage()
        for queue in QUEUES:
            for name in (queue, f"{queue}.DQ"):
                logging.getLogger(f"dramatiq.worker.ConsumerThread({name})").addFilter(only_once)
        self._stop.clear()
        threading.Thread(
            target=self._watch, args=(broker,), name="portal-redis-watch", daemon=True
        ).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()

    def _watch(self, broker: dramatiq.Broker) -> None:
        client = getattr(broker, "client", None)
        while client is not None and not self._stop.wait(self.every_seconds):
            if not REDIS.down:
                continue
            try:
                client.ping()
            except Exception:  # noqa: S112 - still down: the outage was logged when it began
                continue
            if REDIS.succeeded():
                logger.warning("Redis is back; the workers go on")
