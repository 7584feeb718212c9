"""Workers as one cluster: each periodic job runs once per period however many schedulers
run; an SMTP server that refuses for a while loses no email and sends none twice; a Redis
outage is logged once each way.

Real components only: the database, Redis, `portal worker` processes, aiosmtpd. Time is
scaled down through settings (short periods, short backoff), never by mocking the clock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from portal.activity.log import Actor
from portal.invitations.service import Invitee, invite
from portal.jobs import QUEUES, REDIS, Job, wake, wake_delivery
from portal.mail.tables import OutboundEmail
from portal.periodic.rules import period_of
from portal.periodic.tables import ScheduledJob
from tests.conftest import MailSink, Tenant, broker_in_use
from tests.integration.test_order_delivery import free_port, start_redis
from workflows.actors import sweep_owed_emails
from workflows.redis_watch import RedisWatch
from workflows.schedule import Periodic, Scheduler

PORTAL = str(Path(sys.executable).parent / "portal")
REDIS_URL = "redis://127.0.0.1:6379/11"
NOTHING_LISTENS = "redis://127.0.0.1:1/0"
WOKE = re.compile(r"woke (\w+) for period (\d+)")


@pytest.fixture
def redis_broker() -> Iterator[RedisBroker]:
    """A real Redis broker in a namespace of its own, emptied afterwards."""
    namespace = f"portal-cluster-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=REDIS_URL, namespace=namespace)
    for queue in ("default", "mail", "approvals", "invitations"):
        broker.declare_queue(queue)
    try:
        yield broker
    finally:
        for key in broker.client.scan_iter(match=f"{namespace}:*"):
            broker.client.delete(key)
        broker.close()


def queued(broker: RedisBroker, queue: str) -> int:
    """Messages waiting in a queue of the broker (nobody consumes them in these tests)."""
    count: int = broker.client.hlen(f"{broker.namespace}:{queue}.msgs")
    return count


async def test_three_schedulers_send_each_period_once(
    database: None, redis_broker: RedisBroker, caplog: pytest.LogCaptureFixture
) -> None:
    every = 0.5
    jobs = [Periodic(sweep_owed_emails, every_seconds=every)]
    schedulers = [Scheduler(jobs, holder=f"scheduler-{n}") for n in range(3)]
    caplog.set_level(logging.INFO, logger="workflows.schedule")
    first = period_of(time.time(), every)
    with broker_in_use(redis_broker):
        for _ in range(12):  # 12 ticks of 0.125 s: about 3 periods
            await asyncio.gather(*(scheduler.tick_once() for scheduler in schedulers))
            await asyncio.sleep(schedulers[0].tick)
    last = period_of(time.time(), every)
    row = await ScheduledJob.select().where(ScheduledJob.name == "sweep_owed_emails").first()
    assert row is not None
    periods = Counter(int(period) for _, period in WOKE.findall(caplog.text))
    # Each period that began while the three ran was sent by one of them, and only once (a
    # machine too busy to tick may skip a period; none is ever sent twice).
    assert set(periods.values()) == {1} and len(periods) >= 2, periods
    assert set(periods) <= set(range(first, last + 1))
    assert queued(redis_broker, "mail") == row["runs"] == len(periods)
    assert row["period"] == max(periods)
    assert row["holder"] in {"scheduler-0", "scheduler-1", "scheduler-2"}


async def test_redis_down_is_one_warning_and_one_recovery_line_and_loses_no_period(
    database: None, redis_broker: RedisBroker, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = Scheduler([Periodic(sweep_owed_emails, every_seconds=3_600)], holder="alone")
    with broker_in_use(redis_broker):
        assert wake(Job("nothing_listens_to_this", "default"))  # Redis up, as far as we know
    caplog.set_level(logging.INFO)
    caplog.clear()
    with broker_in_use(RedisBroker(url=NOTHING_LISTENS)):
        for _ in range(5):
            await scheduler.tick_once()
            wake_delivery([uuid.uuid4()])  # a service's wake-up during the outage, too
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage().split(" (")[0] for record in warnings] == ["Redis is unavailable"]
    assert all(record.exc_info is None for record in caplog.records)  # no tracebacks
    row = await ScheduledJob.select(ScheduledJob.runs, ScheduledJob.period).first()
    assert row is not None and row["runs"] == 0  # the period was given back, not lost

    caplog.clear()
    with broker_in_use(redis_broker):
        await scheduler.tick_once()
        await scheduler.tick_once()
    assert [record.getMessage() for record in caplog.records if "Redis" in record.getMessage()] == [
        "Redis is back; the sweeps wake the work that waited"
    ]
    assert queued(redis_broker, "mail") == 1  # this period's sweep, sent once Redis was back
    row = await ScheduledJob.select(ScheduledJob.runs).first()
    assert row == {"runs": 1}


def test_a_worker_logs_a_redis_outage_once_when_it_starts_and_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    redis = start_redis(port)
    broker = RedisBroker(url=f"redis://127.0.0.1:{port}/0", namespace="portal-watch")
    for queue in QUEUES:
        broker.declare_queue(queue)
    broker.add_middleware(RedisWatch(every_seconds=0.2))
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    REDIS.succeeded()  # this test process's view of Redis starts as "up"
    worker.start()
    try:
        caplog.set_level(logging.INFO)
        caplog.clear()
        redis.kill()
        redis.wait(timeout=10)
        time.sleep(7)  # dramatiq's consumers retry every 3 s: each of the 8 failed twice
        redis = start_redis(port)
        deadline = time.monotonic() + 10
        while REDIS.down and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop(timeout=5_000)
        redis.kill()
        redis.wait(timeout=10)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    said = [message.split(" (")[0] for level, message in lines if level != "INFO"]
    assert said == ["Redis is unavailable", "Redis is back; the workers go on"], lines
    assert not any(record.exc_info for record in caplog.records)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PORTAL, "worker", "--processes", "1", "--threads", "2"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the kill takes its scheduler too
    )


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def worker_env(broker: RedisBroker, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "PORTAL_QUEUE_NAMESPACE": broker.namespace,
        **extra,
    }


async def test_three_portal_workers_run_each_periodic_job_once_per_period(
    database: None, redis_broker: RedisBroker
) -> None:
    log = Path(os.environ["PORTAL_DATA_DIR"]) / "cluster-workers.log"
    env = worker_env(redis_broker, PORTAL_SWEEP_INTERVAL_SECONDS="1")
    workers = [start_worker(env, log) for _ in range(3)]
    try:

        async def all_schedulers_tick() -> bool:
            # Each scheduler registers the jobs; a period of 1 s is won every second.
            runs: int = await ScheduledJob.count().where(ScheduledJob.runs >= 8)
            return runs >= 3

        await wait_for(all_schedulers_tick, 90, f"8 periods of the 1-second sweeps; see {log}")
    finally:
        stop_all(workers)
    text = log.read_text()
    sends = Counter(WOKE.findall(text))
    assert sends, text[-3000:]
    twice = [key for key, count in sends.items() if count > 1]
    assert twice == [], twice
    schedulers = {pid for pid in re.findall(r"\[PID (\d+)\] \[scheduler\]", text)}
    assert len(schedulers) == 3, "three schedulers ran side by side"
    rows = {row["name"]: row for row in await ScheduledJob.select()}
    # The six periodic jobs, each sent once per period it was won in, by one of the three.
    assert set(rows) == {name for name, _ in sends} and len(rows) == 6
    for name, row in rows.items():
        logged = {int(period) for job, period in sends if job == name}
        unlogged = row["runs"] - len(logged)
        # The kill may land between a period's win and its log line: then only that last
        # won period is missing from the log (its wake-up is made up by the next period).
        assert unlogged == 0 or (unlogged == 1 and row["period"] not in logged), (name, row)
    for name in ("sweep_owed_emails", "sweep_invitation_batches", "sweep_submitted_orders"):
        periods = sorted(int(period) for job, period in sends if job == name)
        assert len(periods) >= 8
        # Consecutive periods: none was skipped while the three ran.
        assert periods == list(range(periods[0], periods[0] + len(periods))), (name, periods)


class RefusingSink(MailSink):
    """An SMTP server that answers every recipient with 451 (try later) until told to accept."""

    def __init__(self) -> None:
        super().__init__()
        self.accepting = False
        self.refused = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if not self.accepting:
            self.refused += 1
            return "451 4.3.0 Mail server temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_smtp() -> Iterator[tuple[RefusingSink, str]]:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = RefusingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


async def test_an_smtp_outage_delays_every_email_and_loses_none(
    acme: Tenant, redis_broker: RedisBroker, refusing_smtp: tuple[RefusingSink, str]
) -> None:
    """The 10-minute refusal of the issue, scaled: backoff from 0.2 s capped at 1 s, and the
    server refuses until every email failed more often than the 8 attempts the outbox used to
    allow before it gave up."""
    sink, smtp_url = refusing_smtp
    email_ids: list[uuid.UUID] = []
    for number in range(20):
        invited = await invite(
            Actor(acme.admin.id, acme.id),
            Invitee(f"Colleague {number}", f"r{number}@acme.example", "user"),
            "http://x",
        )
        email_ids += invited.email_ids
    log = Path(os.environ["PORTAL_DATA_DIR"]) / "smtp-outage-worker.log"
    env = worker_env(
        redis_broker,
        SMTP_URL=smtp_url,
        PORTAL_MAIL_RETRY_BASE_SECONDS="0.2",
        PORTAL_MAIL_RETRY_CAP_SECONDS="1",
        PORTAL_MAIL_LEASE_SECONDS="5",
        PORTAL_SWEEP_INTERVAL_SECONDS="2",
    )
    worker = start_worker(env, log)
    try:
        with broker_in_use(redis_broker):
            wake_delivery(email_ids)

        async def each_refused_nine_times() -> bool:
            return sink.refused >= 20 * 9

        await wait_for(each_refused_nine_times, 60, f"20 x 9 refusals; see {log}")
        assert sink.received == []
        owed = await OutboundEmail.select(OutboundEmail.status, OutboundEmail.last_error)
        assert {row["status"] for row in owed} <= {"pending", "sending"}  # none given up
        assert any("451" in row["last_error"] for row in owed)  # the refusal, for a reader
        sink.accepting = True

        async def all_sent() -> bool:
            sent: int = await OutboundEmail.count().where(OutboundEmail.status == "sent")
            return sent == 20

        await wait_for(all_sent, 60, f"every email to be sent once the server accepts; see {log}")
    finally:
        stop_all([worker])
    per_message = Counter(mail.message["Message-ID"] for mail in sink.received)
    assert len(per_message) == 20 and set(per_message.values()) == {1}
    assert {f"<{email_id}@portal.invalid>" for email_id in email_ids} == set(per_message)
    rows = await OutboundEmail.select(OutboundEmail.attempts)
    assert min(row["attempts"] for row in rows) > 8, rows
