"""Benchmark: the approvals queue page and the dashboard with 5,000 orders waiting in one
organisation against 200.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python -m tests.benchmarks.bench_queue_scale [--waiting 5000] [--few 200]
        [--requests 200]

Needs PostgreSQL (BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres, a role
that may create databases) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/15) for
the sessions.

Two dedicated databases, each migrated with `portal migrate` and filled by SQL on the server:
one organisation (2 admins, the first its owner; 8 managers; 20 users), the policy "Orders over
500" (the admins, level 1), 1,000 approved orders, and --waiting (portal_bench_queue_many) or
--few (portal_bench_queue_few) orders waiting at level 1, placed by the managers, each with the
snapshot and the `approval_eligibility` rows the engine writes for it: both admins may decide.
Then one uvicorn server per database, signed in as the owner on each, times GET /approvals
(the queue: its first 100 orders and the count) and GET / (the dashboard: the widget's first 3
and the count) with sequential requests over keep-alive connections, alternating between the
two servers request by request, and prints median and p95 latency and the ratios. Target: each
page with --waiting orders within 1.5x of --few. Every response is checked (status 200 and the
count of waiting orders on the page). Databases, servers and sessions are removed at the end,
even on error. Exit status: 0 met, 2 missed, 1 failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.benchmarks import support

MANY_DATABASE = "portal_bench_queue_many"
FEW_DATABASE = "portal_bench_queue_few"
TARGET_RATIO = 1.5
APPROVED_ORDERS = 1_000
OWNER_EMAIL = "admin0@queue.bench.example"
# Sign-in only; these databases hold generated data and are dropped after the run.
OWNER_PASSWORD = "bench-queue-scale-owner-password"
PAGES = ("queue", "dashboard")

ORGANISATION = """
    INSERT INTO "organisation" ("id", "name", "name_key")
    VALUES (md5('queue-org')::uuid, 'Queue Bench', 'queue bench')
"""
# u = 0, 1: admins (0 the owner, who signs in); 2-9: managers (the requesters); 10-29: users.
USERS = """
    INSERT INTO "portal_user" ("id", "organisation", "email", "full_name", "status", "tier",
        "is_owner", "password_hash")
    SELECT md5('queue-user:' || u)::uuid, md5('queue-org')::uuid,
           CASE WHEN u < 2 THEN 'admin' ELSE 'person' END || u || '@queue.bench.example',
           'Person ' || lpad(u::text, 2, '0'), 'active',
           CASE WHEN u < 2 THEN 'admin' WHEN u < 10 THEN 'manager' ELSE 'user' END, u = 0,
           CASE WHEN u = 0 THEN $1::text END
    FROM generate_series(0, 29) AS u
"""
POLICY = """
    INSERT INTO "approval_policy" ("id", "organisation", "name", "threshold", "level")
    VALUES (md5('queue-policy')::uuid, md5('queue-org')::uuid, 'Orders over 500', 500, 1)
"""
# Numbers 1..$1 wait (submitted one minute apart, oldest first); the next $2 are approved.
ORDERS = """
    INSERT INTO "portal_order" ("id", "organisation", "number", "requester", "kind", "item",
        "description", "quantity", "estimated_cost", "cost_centre", "status", "revision",
        "snapshot", "current_level", "level_started_at", "created_at", "submitted_at",
        "decided_at", "updated_at")
    SELECT md5('queue-order:' || n)::uuid, md5('queue-org')::uuid, n,
           md5('queue-user:' || (2 + n % 8))::uuid, 'new', 'broadband-1g',
           'For the Leeds office', 1, 600 + (n * 37) % 4000, '', s.status, 1,
           CASE WHEN s.waiting THEN json_build_object(
               'steps', json_build_array(json_build_object(
                   'level', 1, 'policy_id', md5('queue-policy')::uuid::text,
                   'policy_name', 'Orders over 500', 'required', 1,
                   'approvers', json_build_array(md5('queue-user:0')::uuid::text,
                                                 md5('queue-user:1')::uuid::text))),
               'evaluated_at', to_json(t.at), 'revision', 1)
           ELSE '{}'::json END,
           CASE WHEN s.waiting THEN 1 END, CASE WHEN s.waiting THEN t.at END,
           t.at, t.at, CASE WHEN NOT s.waiting THEN t.at END, t.at
    FROM generate_series(1, $1::int + $2::int) AS n,
         LATERAL (SELECT n <= $1::int AS waiting,
                         CASE WHEN n <= $1::int THEN 'pending_approval' ELSE 'approved' END
                             AS status) AS s,
         LATERAL (SELECT now() - ($1::int + $2::int - n + 60) * interval '1 minute' AS at) AS t
"""
# What the engine writes for each waiting order: both admins may decide level 1.
ELIGIBILITY = """
    INSERT INTO "approval_eligibility" ("id", "order", "organisation", "revision", "level",
        "approver", "submitted_at")
    SELECT md5('queue-seat:' || o."number" || ':' || a)::uuid, o."id", o."organisation", 1, 1,
           md5('queue-user:' || a)::uuid, o."submitted_at"
    FROM "portal_order" o, generate_series(0, 1) AS a
    WHERE o."status" = 'pending_approval'
"""
TABLES = ("organisation", "portal_user", "approval_policy", "portal_order", "approval_eligibility")


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    waiting: int
    base_url: str

    def probes(self) -> dict[str, tuple[str, str]]:
        """Per page: its URL and the text every response must contain (the count)."""
        return {
            "queue": ("/approvals", f'<span id="queue-count">{self.waiting}</span>'),
            "dashboard": ("/", f'<span id="widget-count">{self.waiting}</span>'),
        }


async def generate(name: str, waiting: int, password_hash: str) -> None:
    async with support.connected(support.database_url(name), command_timeout=600) as connection:
        await connection.execute(ORGANISATION)
        await connection.execute(USERS, password_hash)
        await connection.execute(POLICY)
        await connection.execute(ORDERS, waiting, APPROVED_ORDERS)
        await connection.execute(ELIGIBILITY)
        for table in TABLES:
            await connection.execute(f'VACUUM (ANALYZE) "{table}"')
        seats = await connection.fetchval('SELECT count(*) FROM "approval_eligibility"')
    if seats != 2 * waiting:
        raise support.BenchError(f"{name}: {seats} eligibility rows, expected {2 * waiting}")


def measure(
    targets: list[Target], clients: list[httpx.Client], requests: int
) -> dict[tuple[str, str], list[float]]:
    """Per page: a warm-up, then the targets alternately, one request each in turn."""
    results: dict[tuple[str, str], list[float]] = {}
    for page in PAGES:
        for target, client in zip(targets, clients, strict=True):
            url, expected = target.probes()[page]
            for _ in range(20):
                support.timed_get(client, url, expected)
            results[(target.label, page)] = []
        for _ in range(requests):
            for target, client in zip(targets, clients, strict=True):
                url, expected = target.probes()[page]
                results[(target.label, page)].append(support.timed_get(client, url, expected))
    return results


def report(
    targets: list[Target], results: dict[tuple[str, str], list[float]], requests: int
) -> float:
    many, few = targets
    print(f"\nlatency in ms, {requests} sequential requests per page and size, alternating")
    print(f"  {'page':<10} {'size':<24} {'median':>8} {'p95':>8}")
    worst = 0.0
    for page in PAGES:
        big, little = results[(many.label, page)], results[(few.label, page)]
        for target, samples in ((few, little), (many, big)):
            print(
                f"  {page:<10} {target.label:<24} {statistics.median(samples):>8.2f} "
                f"{support.p95(samples):>8.2f}"
            )
        ratio = statistics.median(big) / statistics.median(little)
        worst = max(worst, ratio)
        ratio_p95 = support.p95(big) / support.p95(little)
        print(f"  {page:<10} {'ratio many / few':<24} {ratio:>7.2f}x {ratio_p95:>7.2f}x")
    return worst


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> int:
    from portal.auth.passwords import hash_password

    password_hash = hash_password(OWNER_PASSWORD)
    print(
        f"Queue scale benchmark: {args.waiting:,} orders waiting in one organisation "
        f"against {args.few:,}"
    )
    print(f"  {os.cpu_count()} CPUs shared by PostgreSQL, Redis, both servers and this script")
    targets: list[Target] = []
    for database, waiting in ((MANY_DATABASE, args.waiting), (FEW_DATABASE, args.few)):
        port = support.free_port()
        env = support.portal_environment(
            scratch / database,
            database,
            support.REDIS_URL,
            f"http://127.0.0.1:{port}",
            pool_max=10,
            namespace=f"portal-bench-queue-{os.getpid()}",
        )
        cleanup.callback(support.drop_database, database)
        support.recreate_database(database)
        support.run_portal_cli(["migrate"], env)
        asyncio.run(generate(database, waiting, password_hash))
        cleanup.enter_context(
            support.served(support.PORTAL_APP, port, 1, env, scratch / f"{database}.log", "/health")
        )
        targets.append(Target(f"{waiting:,} waiting", waiting, f"http://127.0.0.1:{port}"))
        print(f"  {database}: {waiting:,} waiting and {APPROVED_ORDERS:,} approved orders")
    clients = [
        cleanup.enter_context(support.signed_in(target.base_url, OWNER_EMAIL, OWNER_PASSWORD))
        for target in targets
    ]
    worst = report(targets, measure(targets, clients, args.requests), args.requests)
    verdict = "MET" if worst <= TARGET_RATIO else "NOT MET"
    print(f"worst median ratio {worst:.2f} (target <= {TARGET_RATIO}): {verdict}")
    print(f"re-run: {support.rerun_command('bench_queue_scale', args)}")
    return 0 if worst <= TARGET_RATIO else 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="approvals queue and dashboard by orders waiting")
    parser.add_argument("--waiting", type=int, default=5_000, help="orders waiting, large case")
    parser.add_argument("--few", type=int, default=200, help="orders waiting, small case")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    args = parser.parse_args(argv)
    if args.few < 1 or args.waiting <= args.few or args.requests < 1:
        parser.error("--few must be at least 1, --waiting more than --few, --requests >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return support.run_benchmark(
        "portal-bench-queue-", functools.partial(benchmark, parse_args(argv))
    )


if __name__ == "__main__":
    sys.exit(main())
