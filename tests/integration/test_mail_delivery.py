"""Delivery survives its faults: Redis down when the event happens, a worker killed mid-batch.

Real components only: PostgreSQL or SQLite, Redis, `portal worker` processes, aiosmtpd.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import time_machine
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker

from portal.activity.log import Actor
from portal.invitations.service import Invitee, invite
from portal.jobs import wake_delivery
from portal.mail.outbox import owed_emails
from portal.mail.tables import OutboundEmail
from portal.settings import Settings
from tests.conftest import MailSink, Tenant, broker_in_use

PORTAL = str(Path(sys.executable).parent / "portal")
REDIS_URL = "redis://127.0.0.1:6379/11"
NOTHING_LISTENS = "redis://127.0.0.1:1/0"


async def test_redis_down_delays_email_but_loses_none(acme: Tenant, settings: Settings) -> None:
    with broker_in_use(RedisBroker(url=NOTHING_LISTENS)):
        invited = await invite(
            Actor(acme.admin.id, acme.id), Invitee("Ada", "ada@acme.example", "user"), "http://x"
        )
        wake_delivery(invited.email_ids)  # the broker is down: logged, not raised
    row = await OutboundEmail.select(OutboundEmail.status).first()
    assert row == {"status": "pending"}
    lease = timedelta(seconds=settings.mail_lease_seconds)
    assert await owed_emails(lease) == []  # too fresh: its wake-up may still be on the way
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1)):
        assert await owed_emails(lease) == list(invited.email_ids)


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PORTAL, "worker", "--processes", "1", "--threads", "4"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the kill takes the children too
    )


async def _wait_for(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_worker_killed_mid_batch_leaves_no_invitation_unsent(
    acme: Tenant, smtp_server: tuple[MailSink, str]
) -> None:
    sink, smtp_url = smtp_server
    actor = Actor(acme.admin.id, acme.id)
    email_ids: list[UUID] = []
    for number in range(500):
        invited = await invite(
            actor, Invitee(f"Colleague {number}", f"c{number}@acme.example", "user"), "http://x"
        )
        email_ids += invited.email_ids
    namespace = f"portal-kill-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=REDIS_URL, namespace=namespace)
    broker.declare_queue("mail")
    for email_id in email_ids:
        broker.enqueue(
            Message(
                queue_name="mail",
                actor_name="deliver_email",
                args=(str(email_id),),
                kwargs={},
                options={},
            )
        )
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "PORTAL_QUEUE_NAMESPACE": namespace,
        "SMTP_URL": smtp_url,
        "PORTAL_MAIL_LEASE_SECONDS": "3",
        "PORTAL_SWEEP_INTERVAL_SECONDS": "2",
    }
    log = Path(os.environ["PORTAL_DATA_DIR"]) / "worker.log"
    first = _worker(env, log)
    second = None
    try:

        async def some_sent() -> bool:
            return len(sink.received) >= 100

        await _wait_for(some_sent, 60, "the first worker to send 100 emails: " + str(log))
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        received_at_kill = len(sink.received)
        assert received_at_kill < 500, "the batch finished before the kill: nothing was tested"
        second = _worker(env, log)

        async def all_sent() -> bool:
            sent: int = await OutboundEmail.count().where(OutboundEmail.status == "sent")
            return sent == 500

        await _wait_for(all_sent, 120, "every email to be sent after the restart")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        broker.flush_all()
        broker.close()
    per_message = Counter(mail.message["Message-ID"] for mail in sink.received)
    per_address = Counter(to for mail in sink.received for to in mail.to)
    # Every invitation arrived, each event has one Message-ID.
    assert len(per_message) == 500
    assert set(per_address) == {f"c{n}@acme.example" for n in range(500)}
    # A worker killed after the SMTP server accepted a message but before the database heard
    # of it cannot know; that message is sent again with the same Message-ID. At most one per
    # worker thread that was in flight when the kill came.
    retransmitted = sum(count - 1 for count in per_message.values())
    assert retransmitted <= 4, per_message.most_common(5)
