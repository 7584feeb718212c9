"""The one broker module; imported before any actor is declared.

Redis when REDIS_URL is set (production shape), otherwise an in-memory broker whose workers
run inside the web process (embedded mode).
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from portal.settings import load_settings


def _make_broker() -> dramatiq.Broker:
    redis_url = load_settings().redis_url
    if redis_url:
        return RedisBroker(
            url=redis_url, namespace=os.environ.get("PORTAL_QUEUE_NAMESPACE", "portal")
        )
    return StubBroker()


broker = _make_broker()
dramatiq.set_broker(broker)
