"""Benchmark: the activity log with 10 million events across 1,000 organisations against one
organisation with 10,000, and the export's rate.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python -m tests.benchmarks.bench_activity_log [--orgs 1000] [--requests 100] [--keep]

Needs PostgreSQL (BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres, a
superuser: the load skips triggers) and Redis (BENCH_REDIS_URL) for the sessions.

Two dedicated databases, each migrated with `portal migrate` and filled by SQL on the server
(INSERT ... SELECT generate_series, the log's indexes rebuilt after the load, VACUUM ANALYZE):
portal_bench_activity_full holds --orgs organisations, portal_bench_activity_small one; each
organisation has 20 users and 10,000 events a year long (an event every 52 minutes; twelve
kinds of action; a tenth by the portal itself, the rest by one of the users; addresses, user
agents and recorded data like real ones). Every organisation's events depend only on their
position, so the one measured in the full database (the middle one) and the small one are alike
but for ids.

One uvicorn server per database, signed in as the measured organisation's admin, times with
sequential requests, alternating between the two servers request by request:
* first page: GET /settings/activity;
* filtered page: one user, one action kind, one month;
* deep page: the keyset cursor of the 5,000th newest event;
and then the CSV and JSON-lines exports of the whole organisation (10,000+ rows), reported in
rows per second. Every response is checked (status 200 and the event expected on it; an export's
row count). Target: each page at full size within 1.5x of the small size.
Exit status: 0 met, 2 missed, 1 failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from portal.pagination import encode_cursor
from tests.benchmarks import support

FULL_DATABASE = "portal_bench_activity_full"
SMALL_DATABASE = "portal_bench_activity_small"
TARGET_RATIO = 1.5
USERS_PER_ORG = 20
EVENTS_PER_ORG = 10_000
DEEP_POSITION = 5_000
ADMIN_PASSWORD = "bench-activity-log-admin-password"
GENERATOR_VERSION = 1
PAGES = ("first page", "filtered page", "deep page")
# A user and an action that meet every 60 events (n = 3 mod 20 and n = 3 mod 12).
FILTER_USER, FILTER_ACTION = 3, "user.changed"
ACTIONS = (
    "auth.signed_in",
    "auth.signed_out",
    "order.submitted",
    "user.changed",
    "order.approval_given",
    "order.approved",
    "auth.sign_in_failed",
    "order.rejected",
    "service.contact_assigned",
    "invitation.sent",
    "approval_policy.changed",
    "role.changed",
)
TABLES = ("organisation", "portal_user", "activity_event")

ORGANISATIONS = """
    INSERT INTO "organisation" ("id", "name", "name_key", "created_at")
    SELECT md5('org:' || o)::uuid, 'Bench Organisation ' || lpad(o::text, 5, '0'),
           'bench organisation ' || lpad(o::text, 5, '0'), now() - interval '800 days'
    FROM generate_series(1, $1::int) AS o
"""
USERS = """
    INSERT INTO "portal_user" ("id", "organisation", "email", "full_name", "status", "tier",
        "is_owner", "password_hash", "created_at")
    SELECT md5('user:' || o || ':' || u)::uuid, md5('org:' || o)::uuid,
           CASE WHEN u = 0 THEN 'admin' ELSE 'person' || lpad(u::text, 3, '0') END
               || '@org' || lpad(o::text, 5, '0') || '.bench.example',
           CASE WHEN u = 0 THEN 'Zed Admin' ELSE 'Person ' || lpad(u::text, 3, '0') END,
           'active', CASE WHEN u = 0 THEN 'admin' WHEN u < 5 THEN 'manager' ELSE 'user' END,
           u = 0, CASE WHEN u = 0 THEN $2::text END, now() - interval '700 days'
    FROM generate_series(1, $1::int) AS o, generate_series(0, $3::int - 1) AS u
"""
# n = 1 is the oldest event, n = EVENTS_PER_ORG the newest (52 minutes ago).
EVENTS = """
    INSERT INTO "activity_event" ("id", "organisation", "actor", "subject", "subject_kind",
        "subject_ref", "action", "occurred_at", "ip", "user_agent", "method", "reason", "data")
    SELECT md5('event:' || o || ':' || n)::uuid, md5('org:' || o)::uuid,
           CASE WHEN n % 10 = 0 THEN NULL ELSE md5('user:' || o || ':' || (n % 20))::uuid END,
           md5('user:' || o || ':' || ((n * 7) % 20))::uuid, 'user',
           md5('user:' || o || ':' || ((n * 7) % 20))::uuid,
           ($3::text[])[1 + n % 12],
           date_trunc('minute', now()) - ($2::int + 1 - n) * interval '52 minutes',
           '192.0.2.' || (n % 250), 'Mozilla/5.0 (X11; Linux x86_64) Bench/' || (n % 7),
           CASE WHEN n % 12 = 0 THEN 'password' ELSE '' END, '',
           json_build_object('before', json_build_object('tier', 'user'),
                             'after', json_build_object('tier', 'manager'),
                             'message', 'Bench event ' || n)
    FROM generate_series(1, $1::int) AS o, generate_series(1, $2::int) AS n
"""


def marker(orgs: int) -> str:
    return f"bench_activity_log v{GENERATOR_VERSION} orgs={orgs} complete"


async def generate(name: str, orgs: int, password_hash: str) -> dict[str, float]:
    """Fill a migrated database; returns seconds per step."""
    timings: dict[str, float] = {}
    async with support.connected(support.database_url(name), command_timeout=7200) as connection:
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET maintenance_work_mem = '1GB'")
        # Skips the foreign-key checks and the log's append-only triggers (inserts only).
        await connection.execute("SET session_replication_role = replica")
        indexes = await support.secondary_indexes(connection, TABLES)
        for index_name, _ in indexes:
            await connection.execute(f'DROP INDEX "{index_name}"')
        steps = [
            ("organisations", ORGANISATIONS, (orgs,)),
            ("users", USERS, (orgs, password_hash, USERS_PER_ORG)),
            ("events", EVENTS, (orgs, EVENTS_PER_ORG, list(ACTIONS))),
        ]
        for label, statement, arguments in steps:
            started = time.monotonic()
            await connection.execute(statement, *arguments)
            timings[label] = time.monotonic() - started
        started = time.monotonic()
        for _, definition in indexes:
            await connection.execute(definition)
        timings["indexes"] = time.monotonic() - started
        await connection.execute("RESET session_replication_role")
        started = time.monotonic()
        for table in TABLES:
            await connection.execute(f'VACUUM (ANALYZE) "{table}"')
        timings["vacuum analyze"] = time.monotonic() - started
        found = await connection.fetchval('SELECT count(*) FROM "activity_event"')
        if found < orgs * EVENTS_PER_ORG:
            raise support.BenchError(f"{found:,} events, expected {orgs * EVENTS_PER_ORG:,}")
    await support.admin_sql([f"COMMENT ON DATABASE \"{name}\" IS '{marker(orgs)}'"])
    return timings


def prepare(name: str, orgs: int, keep: bool, env: dict[str, str], password_hash: str) -> None:
    if keep and asyncio.run(support.database_comment(name)) == marker(orgs):
        print(f"  {name}: reusing the database generated earlier ({orgs:,} organisation(s))")
        return
    started = time.monotonic()
    support.recreate_database(name)
    support.run_portal_cli(["migrate"], env)
    timings = asyncio.run(generate(name, orgs, password_hash))
    steps = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in timings.items())
    print(f"  {name}: generated in {time.monotonic() - started:.0f} s ({steps})")


@dataclass(frozen=True, slots=True)
class Probe:
    url: str
    expected: str  # the timestamp of an event the page must show


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    organisation: int
    admin_email: str
    base_url: str
    probes: dict[str, Probe]


SHOWN = "to_char(\"occurred_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"


async def probes_for(database: str, organisation: int) -> dict[str, Probe]:
    async with support.connected(support.database_url(database)) as connection:
        org_id = await connection.fetchval("SELECT md5('org:' || $1::int)::uuid", organisation)
        user_id = await connection.fetchval(
            "SELECT md5('user:' || $1::int || ':' || $2::int)::uuid", organisation, FILTER_USER
        )
        newest = await connection.fetchval(
            f'SELECT {SHOWN} FROM "activity_event" WHERE "organisation" = $1 '  # noqa: S608
            'AND "action" <> \'auth.signed_in\' ORDER BY "occurred_at" DESC LIMIT 1',
            org_id,
        )
        # The month six months back holds a dozen of the user's changes.
        month = await connection.fetchrow(
            "SELECT date_trunc('month', now() - interval '6 months')::date AS first, "
            "(date_trunc('month', now() - interval '6 months') + interval '1 month' "
            "- interval '1 day')::date AS last"
        )
        in_month = await connection.fetchval(
            f'SELECT {SHOWN} FROM "activity_event" WHERE "organisation" = $1 '  # noqa: S608
            'AND "actor" = $2 AND "action" = $3 AND "occurred_at" >= $4 '
            'AND "occurred_at" < $5::date + 1 ORDER BY "occurred_at" DESC LIMIT 1',
            org_id,
            user_id,
            FILTER_ACTION,
            month["first"],
            month["last"],
        )
        deep = await connection.fetch(
            f'SELECT "occurred_at", "id", {SHOWN} AS shown FROM "activity_event" '  # noqa: S608
            'WHERE "organisation" = $1 ORDER BY "occurred_at" DESC, "id" DESC '
            "LIMIT 2 OFFSET $2",
            org_id,
            DEEP_POSITION - 1,
        )
    if not (newest and in_month and len(deep) == 2):
        raise support.BenchError(f"{database}: organisation {organisation} has no events")
    cursor = encode_cursor(deep[0]["occurred_at"].isoformat(), deep[0]["id"])
    filtered = (
        f"/settings/activity?who={user_id}&action={FILTER_ACTION}"
        f"&from={month['first']}&to={month['last']}"
    )
    return {
        "first page": Probe("/settings/activity", newest),
        "filtered page": Probe(filtered, in_month),
        "deep page": Probe(f"/settings/activity?after={cursor}", deep[1]["shown"]),
    }


def measure(
    targets: list[Target], clients: list[httpx.Client], requests: int
) -> dict[tuple[str, str], list[float]]:
    results: dict[tuple[str, str], list[float]] = {}
    for page in PAGES:
        for target, client in zip(targets, clients, strict=True):
            for _ in range(10):
                support.timed_get(client, target.probes[page].url, target.probes[page].expected)
            results[(target.label, page)] = []
        for _ in range(requests):
            for target, client in zip(targets, clients, strict=True):
                probe = target.probes[page]
                results[(target.label, page)].append(
                    support.timed_get(client, probe.url, probe.expected)
                )
    return results


def export_rate(client: httpx.Client, path: str, header_lines: int) -> tuple[int, float]:
    """(rows, rows per second) of one whole-organisation export, streamed."""
    started = time.perf_counter()
    lines = 0
    with client.stream("GET", path) as response:
        if response.status_code != 200:
            raise support.BenchError(f"{path}: {response.status_code}")
        for _ in response.iter_lines():
            lines += 1
    seconds = time.perf_counter() - started
    rows = lines - header_lines
    if rows < EVENTS_PER_ORG:
        raise support.BenchError(f"{path}: {rows} rows, expected at least {EVENTS_PER_ORG}")
    return rows, rows / seconds


def report(targets: list[Target], results: dict[tuple[str, str], list[float]]) -> float:
    full, small = targets
    print(f"\n  {'page':<14} {'size':<22} {'median ms':>10} {'p95 ms':>8}")
    worst = 0.0
    for page in PAGES:
        big, little = results[(full.label, page)], results[(small.label, page)]
        for target, samples in ((small, little), (full, big)):
            print(
                f"  {page:<14} {target.label:<22} {statistics.median(samples):>10.2f} "
                f"{support.p95(samples):>8.2f}"
            )
        ratio = statistics.median(big) / statistics.median(little)
        worst = max(worst, ratio)
        print(f"  {page:<14} {'ratio full / small':<22} {ratio:>9.2f}x")
    return worst


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> int:
    from portal.auth.passwords import hash_password

    password_hash = hash_password(ADMIN_PASSWORD)
    print(
        f"Activity log benchmark: {args.orgs:,} organisations x {EVENTS_PER_ORG:,} events "
        f"({args.orgs * EVENTS_PER_ORG:,}) against 1 organisation; {os.cpu_count()} CPUs shared"
    )
    plan = [
        (f"full ({args.orgs:,} orgs)", FULL_DATABASE, args.orgs, args.orgs // 2 + 1),
        ("small (1 org)", SMALL_DATABASE, 1, 1),
    ]
    targets: list[Target] = []
    for label, database, orgs, measured in plan:
        port = support.free_port()
        env = support.portal_environment(
            scratch / database,
            database,
            support.REDIS_URL,
            f"http://127.0.0.1:{port}",
            pool_max=10,
            namespace=f"portal-bench-activity-{os.getpid()}",
        )
        if not args.keep:
            cleanup.callback(support.drop_database, database)
        prepare(database, orgs, args.keep, env, password_hash)
        cleanup.enter_context(
            support.served(support.PORTAL_APP, port, 1, env, scratch / f"{database}.log", "/health")
        )
        targets.append(
            Target(
                label=label,
                organisation=measured,
                admin_email=f"admin@org{measured:05}.bench.example",
                base_url=f"http://127.0.0.1:{port}",
                probes=asyncio.run(probes_for(database, measured)),
            )
        )
    clients = [
        cleanup.enter_context(support.signed_in(t.base_url, t.admin_email, ADMIN_PASSWORD))
        for t in targets
    ]
    results = measure(targets, clients, args.requests)
    worst = report(targets, results)
    print(f"\n  {'export':<14} {'size':<22} {'rows':>10} {'rows/s':>8}")
    for target, client in zip(targets, clients, strict=True):
        for path, header in (
            ("/settings/activity/export.csv", 1),
            ("/settings/activity/export.jsonl", 0),
        ):
            rows, rate = export_rate(client, path, header)
            print(f"  {path.rsplit('.', 1)[1]:<14} {target.label:<22} {rows:>10,} {rate:>8,.0f}")
    verdict = "MET" if worst <= TARGET_RATIO else "NOT MET"
    print(f"\nworst median ratio {worst:.2f} (target <= {TARGET_RATIO}): {verdict}")
    print(f"re-run: {support.rerun_command('bench_activity_log', args)}")
    return 0 if worst <= TARGET_RATIO else 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="the activity log at 10 million events")
    parser.add_argument("--orgs", type=int, default=1_000, help="organisations at full size")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases, and reuse them next time"
    )
    args = parser.parse_args(argv)
    if args.orgs < 2 or args.requests < 1:
        parser.error("--orgs must be at least 2 and --requests at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return support.run_benchmark(
        "portal-bench-activity-", functools.partial(benchmark, parse_args(argv))
    )


if __name__ == "__main__":
    sys.exit(main())
