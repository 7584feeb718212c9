"""Benchmark: the approval engine's evaluations per second against a no-op actor's messages.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python -m tests.benchmarks.bench_engine [--orders 2000] [--noop-messages 10000]

Needs PostgreSQL (BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres, a role
that may create databases) and Redis (BENCH_ENGINE_REDIS_URL, default redis://127.0.0.1:6379/9).

A dedicated database (portal_bench_engine), `portal migrate`, then one organisation (2 admins,
4 managers, 14 users) with two approval policies (over 500: the admins, level 1; over 5,000:
the managers, level 2) and --orders orders left as portal.orders.service.submit_order leaves
them: status submitted, revision 1, submitted_at set (a quarter at most 500, approved at once;
the rest wait for approval; no order events are seeded, the evaluation reads none). Then, on a
queue namespace of its own:

1. the engine: one `evaluate_submitted_order` message per order is enqueued first; then two
   `portal worker --processes 1 --threads 4 --no-scheduler` start together (no scheduler, so
   no sweep re-sends the orders while they wait). The emails the evaluations queue are
   delivered to the local outbox (no SMTP_URL) by the same workers meanwhile;
2. the baseline: --noop-messages messages of an async actor that only INCRs a Redis counter
   (tests/benchmarks/noop_actors.py) are enqueued first; then two `dramatiq
   tests.benchmarks.noop_actors --processes 1 --threads 4` start together: the same broker,
   middleware and worker shape.

Each rate is measured from the moment both workers are ready (their logs say so) until the
last order is no longer submitted (polled every 20 ms) or the counter reaches the count:
messages done in that window over its length, so neither the sender nor the workers' start
counts. The workers' CPU seconds (their process groups, from /proc) are read over the same
window. Prints both rates, the ratio, and the CPU seconds of each side. Processes (each in its
own process group), the database and the queue namespace's keys are removed at the end, even
on error. Exit status: 0 done, 1 failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import redis
import redis.asyncio

from tests.benchmarks import support

REDIS_URL = os.environ.get("BENCH_ENGINE_REDIS_URL", "redis://127.0.0.1:6379/9")
DATABASE_NAME = "portal_bench_engine"
WORKERS = 2
# Raised by evaluations that ran before the Database middleware's after_worker_boot opened the
# pool (dramatiq's worker threads consume before after_worker_boot): the transaction commits on
# its own connection, then giving that connection to the new pool fails.
POOL_RACE = "is not a member of this pool"
THREADS = 4

SEED_ORGANISATION = """
    INSERT INTO "organisation" ("id", "name", "name_key")
    VALUES (md5('engine-org')::uuid, 'Engine Bench', 'engine bench')
"""
# u = 0, 1: admins; 2-5: managers; 6-19: users (the requesters).
SEED_USERS = """
    INSERT INTO "portal_user" ("id", "organisation", "email", "full_name", "status", "tier",
        "is_owner")
    SELECT md5('engine-user:' || u)::uuid, md5('engine-org')::uuid,
           'person' || lpad(u::text, 2, '0') || '@engine.bench.example',
           'Person ' || lpad(u::text, 2, '0'), 'active',
           CASE WHEN u < 2 THEN 'admin' WHEN u < 6 THEN 'manager' ELSE 'user' END, u = 0
    FROM generate_series(0, 19) AS u
"""
SEED_POLICIES = """
    INSERT INTO "approval_policy" ("id", "organisation", "name", "threshold", "approver_roles",
        "level")
    VALUES (md5('engine-policy:1')::uuid, md5('engine-org')::uuid, 'Orders over 500', 500,
            '[]', 1),
           (md5('engine-policy:2')::uuid, md5('engine-org')::uuid, 'Large orders', 5000,
            '["tier:manager"]', 2)
"""
# Numbers 1..N; a quarter cost 250 (approved at once), half 600 to 4,899 (the admins at level 1)
# and a quarter 5,100 to 9,899 (the admins at level 1, then the managers at level 2).
SEED_ORDERS = """
    INSERT INTO "portal_order" ("id", "organisation", "number", "requester", "kind", "item",
        "description", "quantity", "estimated_cost", "cost_centre", "status", "revision",
        "created_at", "submitted_at", "updated_at")
    SELECT md5('engine-order:' || n)::uuid, md5('engine-org')::uuid, n,
           md5('engine-user:' || (6 + n % 14))::uuid, 'new', 'broadband-1g',
           'For the Leeds office', 1,
           CASE n % 4 WHEN 0 THEN 250 WHEN 3 THEN 5100 + (n * 37) % 4800
                ELSE 600 + (n * 37) % 4300 END,
           'CC-' || lpad((n % 5)::text, 3, '0'), 'submitted', 1,
           now() - interval '1 minute', now(), now()
    FROM generate_series(1, $1::int) AS n
"""


@dataclass(frozen=True, slots=True)
class Phase:
    label: str
    messages: int
    seconds: float
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


# --- the database --------------------------------------------------------------------------


async def _seed(orders: int) -> list[UUID]:
    async with support.connected(support.database_url(DATABASE_NAME)) as connection:
        async with connection.transaction():
            await connection.execute(SEED_ORGANISATION)
            await connection.execute(SEED_USERS)
            await connection.execute(SEED_POLICIES)
            await connection.execute(SEED_ORDERS, orders)
        await connection.execute("ANALYZE")
        rows = await connection.fetch('SELECT "id" FROM "portal_order" ORDER BY "number"')
    return [row["id"] for row in rows]


def seed(orders: int) -> list[UUID]:
    return asyncio.run(_seed(orders))


async def _fetch_counts(query: str) -> dict[str, int]:
    async with support.connected(support.database_url(DATABASE_NAME)) as connection:
        rows = await connection.fetch(query)
    return {str(row[0]): int(row[1]) for row in rows}


def order_statuses() -> dict[str, int]:
    return asyncio.run(
        _fetch_counts('SELECT "status", count(*) FROM "portal_order" GROUP BY "status"')
    )


def evaluated_events() -> int:
    counts = asyncio.run(
        _fetch_counts(
            'SELECT "kind", count(*) FROM "order_event" WHERE "kind" = \'evaluated\' '
            'GROUP BY "kind"'
        )
    )
    return counts.get("evaluated", 0)


# --- processes -------------------------------------------------------------------------------


def start_workers(
    commands: list[list[str]], env: dict[str, str], scratch: Path, name: str
) -> tuple[contextlib.ExitStack, list[int]]:
    """Start every command at once, then wait until each is ready; the stack stops them all."""
    stack = contextlib.ExitStack()
    try:
        processes = [
            (stack.enter_context(support.started(command, env, scratch / f"{name}-{n}.log")), n)
            for n, command in enumerate(commands)
        ]
        for process, number in processes:
            support.wait_for_worker(process, scratch / f"{name}-{number}.log")
    except BaseException:
        stack.close()
        raise
    return stack, [process.pid for process, _ in processes]


def still_running(groups: list[int], scratch: Path, name: str) -> None:
    for pid in groups:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            tails = "\n".join(log.read_text()[-3000:] for log in scratch.glob(f"{name}-*.log"))
            raise support.BenchError(f"a {name} worker died:\n{tails}") from None


# --- the phases ------------------------------------------------------------------------------


def engine_phase(
    args: argparse.Namespace, env: dict[str, str], scratch: Path, order_ids: list[UUID]
) -> Phase:
    from workflows.approvals import evaluate_submitted_order

    began = time.perf_counter()
    for order_id in order_ids:
        evaluate_submitted_order.send(str(order_id))
    print(f"  engine: {len(order_ids):,} messages enqueued in {time.perf_counter() - began:.2f} s")
    portal = support.venv_tool("portal")
    command = [portal, "worker", "--processes", "1", "--threads", str(THREADS), "--no-scheduler"]
    phase = asyncio.run(measure_engine(args, env, scratch, command, len(order_ids)))
    statuses = order_statuses()
    events = evaluated_events()
    print(f"  engine: orders now {statuses}; {events:,} 'evaluated' events")
    if statuses.get("submitted") or events != len(order_ids):
        raise support.BenchError("not every order was evaluated exactly once")
    return phase


async def measure_engine(
    args: argparse.Namespace, env: dict[str, str], scratch: Path, command: list[str], total: int
) -> Phase:
    async def evaluated() -> int:
        waiting: int = await connection.fetchval(
            'SELECT count(*) FROM "portal_order" WHERE "status" = \'submitted\''
        )
        return total - waiting

    async def emails_owed() -> int:
        owed: int = await connection.fetchval(
            'SELECT count(*) FROM "outbound_email" WHERE "status" <> \'sent\''
        )
        return owed

    async with support.connected(support.database_url(DATABASE_NAME)) as connection:
        started_at = time.perf_counter()
        stack, groups = start_workers([command] * WORKERS, env, scratch, "engine")
        with stack:
            window = await Window.open(groups, evaluated)
            print(
                f"  engine: {WORKERS} x `{shlex.join(['portal', *command[1:]])}` ready after "
                f"{window.began - started_at:.1f} s ({window.done_before:,} orders evaluated "
                "by then)"
            )
            check = functools.partial(still_running, groups, scratch, "engine")
            finished = await poll_until(
                evaluated, total, args.timeout, "every order evaluated", check
            )
            phase = window.close("evaluate_submitted_order", total, finished)
            print(
                f"  engine: every order evaluated {finished - started_at:.2f} s after the "
                "workers' start"
            )
            owed, settled = await until_settled(emails_owed, args.timeout)
            emails: int = await connection.fetchval('SELECT count(*) FROM "outbound_email"')
            print(
                f"  engine: {emails - owed:,} of {emails:,} emails in the local outbox "
                f"{settled - started_at:.2f} s after the workers' start"
            )
            report_start_failures(scratch, owed)
    return phase


@dataclass(slots=True)
class Window:
    """From the moment every worker is ready: messages done and the workers' CPU seconds."""

    groups: list[int]
    began: float
    done_before: int
    cpu_before: float

    @classmethod
    async def open(cls, groups: list[int], done: Callable[[], Awaitable[int]]) -> Window:
        cpu = sum(support.group_cpu_seconds(pid) for pid in groups)
        return cls(groups, time.perf_counter(), await done(), cpu)

    def close(self, label: str, total: int, finished: float) -> Phase:
        cpu = sum(support.group_cpu_seconds(pid) for pid in self.groups) - self.cpu_before
        return Phase(label, total - self.done_before, finished - self.began, cpu)


async def poll_until(
    done: Callable[[], Awaitable[int]],
    target: int,
    seconds: float,
    what: str,
    check: Callable[[], None],
) -> float:
    """Poll every 20 ms until done() reaches target; returns when (perf_counter)."""
    deadline = time.perf_counter() + seconds
    polls = 0
    while True:
        value = await done()
        if value >= target:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise support.BenchError(f"{what}: not within {seconds:.0f} s (at {value:,})")
        polls += 1
        if polls % 50 == 0:
            check()
        await asyncio.sleep(0.02)


async def until_settled(owed: Callable[[], Awaitable[int]], seconds: float) -> tuple[int, float]:
    """Poll until nothing is owed or the count stays put for 3 s; returns the count and when
    it last moved (perf_counter)."""
    deadline = time.perf_counter() + seconds
    last, moved = await owed(), time.perf_counter()
    while last and time.perf_counter() - moved < 3 and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        value = await owed()
        if value != last:
            last, moved = value, time.perf_counter()
    return last, moved


def report_start_failures(scratch: Path, owed: int) -> None:
    """Messages that failed while a worker started (see the note printed), from the logs."""
    failures = 0
    for log in scratch.glob("engine-*.log"):
        failures += log.read_text(errors="replace").count(POOL_RACE)
    if failures or owed:
        print(
            f"  engine: NOTE {failures} message(s) failed with {POOL_RACE!r} while the workers "
            f"started; {owed} email(s) stay owed (their wake-up was skipped; only "
            "sweep_owed_emails, which this run does not schedule, would send them)"
        )


def noop_phase(
    args: argparse.Namespace, env: dict[str, str], scratch: Path, namespace: str
) -> Phase:
    from tests.benchmarks.noop_actors import noop

    done_key = f"{namespace}:noop-done"
    began = time.perf_counter()
    for _ in range(args.noop_messages):
        noop.send(done_key)
    enqueued = time.perf_counter() - began
    print(f"  no-op: {args.noop_messages:,} messages enqueued in {enqueued:.2f} s")
    command = [
        support.venv_tool("dramatiq"),
        "tests.benchmarks.noop_actors",
        "--processes",
        "1",
        "--threads",
        str(THREADS),
    ]
    phase = asyncio.run(measure_noop(args, env, scratch, command, done_key))
    client = redis.Redis.from_url(REDIS_URL)
    try:
        time.sleep(0.5)  # anything done twice would show now
        count = int(client.get(done_key) or 0)
    finally:
        client.close()
    if count != args.noop_messages:
        raise support.BenchError(f"the counter reads {count:,}, not {args.noop_messages:,}")
    return phase


async def measure_noop(
    args: argparse.Namespace, env: dict[str, str], scratch: Path, command: list[str], key: str
) -> Phase:
    client = redis.asyncio.Redis.from_url(REDIS_URL)

    async def done() -> int:
        return int(await client.get(key) or 0)

    try:
        started_at = time.perf_counter()
        stack, groups = start_workers([command] * WORKERS, env, scratch, "noop")
        with stack:
            window = await Window.open(groups, done)
            print(
                f"  no-op: {WORKERS} x `{shlex.join(['dramatiq', *command[1:]])}` ready after "
                f"{window.began - started_at:.1f} s ({window.done_before:,} messages done by then)"
            )
            check = functools.partial(still_running, groups, scratch, "noop")
            finished = await poll_until(
                done, args.noop_messages, args.timeout, "every no-op message done", check
            )
            phase = window.close("no-op actor", args.noop_messages, finished)
            print(
                f"  no-op: every message done {finished - started_at:.2f} s after the workers' "
                "start"
            )
    finally:
        await client.aclose()
    return phase


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> int:
    namespace = f"portal-bench-engine-{secrets.token_hex(4)}"
    print(
        f"Engine benchmark: {args.orders:,} submitted orders, then {args.noop_messages:,} no-op "
        f"messages; {WORKERS} worker processes x {THREADS} threads each"
    )
    print(
        f"  {os.cpu_count()} CPUs shared by the workers, PostgreSQL, Redis and this script; "
        f"database {DATABASE_NAME}; Redis {REDIS_URL}, queue namespace {namespace}"
    )
    cleanup.callback(support.forget_redis_keys, REDIS_URL, namespace)
    env = support.portal_environment(
        scratch / "data", DATABASE_NAME, REDIS_URL, "http://127.0.0.1:8000", namespace=namespace
    )
    cleanup.callback(support.drop_database, DATABASE_NAME)
    support.recreate_database(DATABASE_NAME)
    support.run_portal_cli(["migrate"], env)
    order_ids = seed(args.orders)
    # This process sends the messages: the same broker, namespace and settings as the workers.
    os.environ.update(env)

    engine = engine_phase(args, env, scratch, order_ids)
    noop = noop_phase(args, env, scratch, namespace)

    print()
    for phase in (engine, noop):
        print(
            f"{phase.label:<26} {phase.per_second:>9,.0f} messages/s  ({phase.messages:,} done "
            f"in {phase.seconds:.2f} s with both workers ready; their CPU "
            f"{phase.cpu_seconds:.1f} s, "
            f"{phase.cpu_seconds / phase.messages * 1000:.2f} ms per message)"
        )
    print("  (the engine's CPU includes delivering its emails to the local outbox)")
    print(
        f"ratio engine / no-op: {engine.per_second / noop.per_second:.1%} "
        f"(the no-op is {noop.per_second / engine.per_second:.1f}x faster)"
    )
    print(f"re-run: {support.rerun_command('bench_engine', args)}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="approval engine throughput vs a no-op actor")
    parser.add_argument("--orders", type=int, default=2_000, help="submitted orders to evaluate")
    parser.add_argument(
        "--noop-messages", type=int, default=10_000, help="messages for the no-op baseline"
    )
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per phase")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.noop_messages < 1:
        parser.error("--orders and --noop-messages must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return support.run_benchmark(
        "portal-bench-engine-",
        functools.partial(benchmark, parse_args(argv)),
        failures=(subprocess.SubprocessError,),
    )


if __name__ == "__main__":
    sys.exit(main())
