"""Waking the workers, after the commit. The database says what work is owed; a message only
wakes a worker, so a message lost with Redis down is made good by the sweeps.

Messages go by actor name: the portal never imports the worker layer (`workflows`), whose actors
are declared with the names and queues below.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import dramatiq
import dramatiq.broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from portal.db import engine
from portal.outage import Outage
from portal.settings import Settings, load_settings

logger = logging.getLogger(__name__)
# This process's view of Redis: one warning when it goes, one line when it is back.
REDIS = Outage()


@dataclass(frozen=True, slots=True)
class Job:
    actor_name: str
    queue_name: str


DELIVER_EMAIL = Job("deliver_email", "mail")
EVALUATE_ORDER = Job("evaluate_submitted_order", "approvals")
INVITE_BATCH = Job("process_invitation_batch", "invitations")
QUEUES = ("default", "mail", "approvals", "invitations")


def process_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """The one broker of this process, made on first use: Redis when REDIS_URL is set, else
    in memory for the embedded mode's in-process workers. Never dramatiq's default, which
    would reach for a RabbitMQ on localhost."""
    existing = dramatiq.broker.global_broker
    if existing is not None:
        return existing
    settings = settings or load_settings()
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(url=settings.redis_url, namespace=settings.queue_namespace)
    else:
        broker = StubBroker()
    for queue in QUEUES:
        broker.declare_queue(queue)
    dramatiq.set_broker(broker)
    return broker


def wake(job: Job, *args: str, delay_seconds: float = 0) -> bool:
    """Send one wake-up (after a delay, if given); False if the broker is down: the sweep
    makes it good. An outage is logged once when it starts and once when it ends."""
    if engine().transaction_exists():
        # A worker woken before the commit finds nothing, or an order in its old state.
        raise RuntimeError(f"{job.actor_name} woken inside a transaction; wake after the commit")
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name=job.queue_name, actor_name=job.actor_name, args=args, kwargs={}, options={}
    )
    delay = round(delay_seconds * 1000) if delay_seconds > 0 else None
    try:
        process_broker().enqueue(message, delay=delay)
    except Exception as error:
        if REDIS.failed():
            logger.warning(
                "Redis is unavailable (%s: %s); work waits in the database for the sweeps "
                "until it is back",
                type(error).__name__,
                error,
            )
        return False
    if REDIS.succeeded():
        logger.warning("Redis is back; the sweeps wake the work that waited")
    return True


def wake_delivery(email_ids: Iterable[UUID]) -> None:
    """Wake the delivery of each email; stop at the first failure, the sweep sends the rest."""
    for email_id in email_ids:
        if not wake(DELIVER_EMAIL, str(email_id)):
            return


def wake_delivery_at(email_id: UUID, at: datetime) -> None:
    """Wake the delivery of an email when its next attempt is due."""
    wake(DELIVER_EMAIL, str(email_id), delay_seconds=(at - datetime.now(UTC)).total_seconds())


def wake_evaluation(order_id: UUID) -> None:
    wake(EVALUATE_ORDER, str(order_id))


def wake_batch(batch_id: UUID) -> None:
    wake(INVITE_BATCH, str(batch_id))
