"""Evaluation survives its faults: Redis stopped while orders are submitted, a worker killed
mid-evaluation. Real components: the database, redis-server, `portal worker` processes."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.orders.tables import Order, OrderEvent
from portal.settings import Settings
from tests.conftest import BASE_URL, Tenant, broker_in_use, sign_in
from tests.integration.orders_support import add_policy, place

PORTAL = str(Path(sys.executable).parent / "portal")
REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def start_redis(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise AssertionError("redis-server did not start")


def stop(process: subprocess.Popen[bytes] | None, group: bool = False) -> None:
    if process is None or process.poll() is not None:
        return
    if group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    process.wait(timeout=10)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PORTAL, "worker", "--processes", "1", "--threads", "4"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the kill takes its children too
    )


def worker_env(redis_url: str, namespace: str) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "PORTAL_QUEUE_NAMESPACE": namespace,
        "PORTAL_SWEEP_INTERVAL_SECONDS": "1",
    }


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def submitted_left() -> int:
    left: int = await Order.count().where(Order.status == "submitted")
    return left


async def evaluations_per_order() -> dict[UUID, int]:
    rows = await OrderEvent.select(OrderEvent.order).where(OrderEvent.kind == "evaluated")
    counts: dict[UUID, int] = {}
    for row in rows:
        counts[row["order"]] = counts.get(row["order"], 0) + 1
    return counts


async def test_orders_submitted_while_redis_is_stopped_are_evaluated_once_it_is_back(
    settings: Settings, acme: Tenant
) -> None:
    """Redis stops under a portal configured with it: signed-in people keep browsing and
    ordering (sessions live in the database), and the orders are evaluated once it is back."""
    await add_policy(acme, "Over 50", "50.00")
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    namespace = f"portal-down-{uuid.uuid4().hex[:8]}"
    redis = start_redis(port)
    broker = RedisBroker(url=redis_url, namespace=namespace)
    worker = None
    log = Path(os.environ["PORTAL_DATA_DIR"]) / "redis-down-worker.log"
    app = create_app(dataclasses.replace(settings, redis_url=redis_url))
    try:
        with broker_in_use(broker):
            async with AsyncTestClient(app, base_url=BASE_URL) as client:
                await sign_in(client, acme.manager.email)
                stop(redis)  # Redis stopped: every wake-up after the commit fails
                headers = {"x-csrftoken": client.cookies["csrftoken"]}
                for path in (
                    "/",
                    "/orders",
                    "/services",
                    "/approvals",
                    "/api/v1/me",
                    "/api/v1/orders",
                ):
                    assert (await client.get(path)).status_code == 200, path
                for number in range(100):
                    response = await client.post(
                        "/api/v1/orders",
                        json={
                            "type": "new",
                            "item": "firewall",
                            "estimated_cost": f"{100 + number}",
                        },
                        headers=headers,
                    )
                    assert response.status_code == 201, response.text
                assert (await client.get("/ready")).status_code == 503  # and says why
                assert (await client.get("/orders")).status_code == 200
        assert await submitted_left() == 100
        redis = start_redis(port)  # and started again
        worker = start_worker(worker_env(redis_url, namespace), log)

        async def all_evaluated() -> bool:
            return await submitted_left() == 0

        await wait_for(all_evaluated, 120, f"every order to be evaluated; see {log}")
    finally:
        stop(worker, group=True)
        broker.close()
        stop(redis)
    evaluations = await evaluations_per_order()
    assert len(evaluations) == 100 and set(evaluations.values()) == {1}
    assert await Order.count().where(Order.status == "pending_approval") == 100


async def test_a_worker_killed_mid_evaluation_leaves_no_half_done_order(acme: Tenant) -> None:
    await add_policy(acme, "Over 50", "50.00")
    await add_policy(acme, "Over 300", "300.00", level=2)
    order_ids = [await place(acme.manager, f"{60 + n}.00") for n in range(400)]
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    namespace = f"portal-kill-{uuid.uuid4().hex[:8]}"
    redis = start_redis(port)
    broker = RedisBroker(url=redis_url, namespace=namespace)
    broker.declare_queue("approvals")
    for order_id in order_ids:
        broker.enqueue(
            Message(
                queue_name="approvals",
                actor_name="evaluate_submitted_order",
                args=(str(order_id),),
                kwargs={},
                options={},
            )
        )
    env = worker_env(redis_url, namespace)
    log = Path(os.environ["PORTAL_DATA_DIR"]) / "kill-worker.log"
    first = start_worker(env, log)
    second = None
    try:

        async def some_evaluated() -> bool:
            return await submitted_left() <= 350

        await wait_for(some_evaluated, 60, f"the first worker to evaluate 50 orders; see {log}")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert await submitted_left() > 0, "every order was done before the kill: nothing tested"
        second = start_worker(env, log)

        async def all_evaluated() -> bool:
            return await submitted_left() == 0

        await wait_for(all_evaluated, 120, f"every order to be evaluated; see {log}")
    finally:
        for process in (first, second):
            stop(process, group=True)
        broker.close()
        stop(redis)
    evaluations = await evaluations_per_order()
    assert len(evaluations) == 400 and set(evaluations.values()) == {1}
    rows = await Order.select(Order.status, Order.current_level, Order.snapshot)
    # Each order moved whole: waiting on level 1 with its snapshot, nothing in between.
    assert {(row["status"], row["current_level"]) for row in rows} == {("pending_approval", 1)}
    assert all('"steps"' in str(row["snapshot"]) for row in rows)
