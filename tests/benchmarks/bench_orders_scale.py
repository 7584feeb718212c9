"""Benchmark: the approvals queue and the services list with 1,000 organisations against 1.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python -m tests.benchmarks.bench_orders_scale [--orgs 1000] [--requests 200] [--keep]

Needs PostgreSQL (BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres, a role
that may create databases; a superuser loads faster) and Redis (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/15) for the sessions.

Two dedicated databases, each migrated with `portal migrate` and filled by SQL on the server
(INSERT ... SELECT generate_series, indexes rebuilt after the load, then VACUUM ANALYZE):

* portal_bench_orders_full: --orgs organisations (default 1,000), each with 100 users (1 admin
  and owner, 9 managers, 90 users), 1,000 services (contacts spread over the users), 1,000
  orders (20% pending_approval with a snapshot naming the organisation's admin at level 1, 40%
  approved, 10% rejected, 10% cancelled, 19% draft, 1% submitted), one decision per decided
  order that needed approval, the `approval_eligibility` row the engine writes for each waiting
  order (its admin), and three approval policies;
* portal_bench_orders_small: one organisation with exactly the same content.

Every organisation's content depends only on its position within the organisation, so the one
measured in the full database (the middle one) and the small database's are alike but for ids.
Then one uvicorn server per database (the same command as bench_users_page), signed in as each
measured organisation's admin, times GET /approvals, GET /services and a deep services page
(the keyset cursor of the 500th service: page 11) with sequential requests over keep-alive
connections, alternating between the two servers request by request, and prints median and
p95 latency and the ratios. Target: each page at full size within 1.5x of the small size.
Every response is checked (status 200 and the expected count or row on the page).

--keep leaves both databases in place at the end and reuses them next time when they were
fully generated with the same --orgs (a comment on the database records it). Servers and
sessions are removed at the end, even on error. Exit status: 0 met, 2 missed, 1 failure.
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

import asyncpg
import httpx

from portal.pagination import encode_cursor
from tests.benchmarks import support

FULL_DATABASE = "portal_bench_orders_full"
SMALL_DATABASE = "portal_bench_orders_small"
TARGET_RATIO = 1.5
USERS_PER_ORG = 100
MANAGERS_PER_ORG = 9
SERVICES_PER_ORG = 1_000
ORDERS_PER_ORG = 1_000
DEEP_OFFSET = 500  # the 500th service: the first row of page 11 at 50 a page
# Sign-in only; these databases hold generated data and are dropped after the run.
ADMIN_PASSWORD = "bench-orders-scale-admin-password"
GENERATOR_VERSION = 2
PAGES = ("approvals", "services first", "services deep")


class Loader:
    """Server-side generation. Every row's content is a function of (o, position) with o the
    organisation's 1-based number; ids are md5-derived UUIDs, so any statement can name any
    row (the admin of organisation o is md5('user:o:0'))."""

    ORGANISATIONS = """
        INSERT INTO "organisation" ("id", "name", "name_key", "created_at")
        SELECT md5('org:' || o)::uuid, 'Bench Organisation ' || lpad(o::text, 5, '0'),
               'bench organisation ' || lpad(o::text, 5, '0'), now() - interval '800 days'
        FROM generate_series(1, $1::int) AS o
    """
    USERS = """
        INSERT INTO "portal_user" ("id", "organisation", "email", "full_name", "status", "tier",
            "is_owner", "password_hash", "created_at", "last_sign_in_at")
        SELECT md5('user:' || o || ':' || u)::uuid, md5('org:' || o)::uuid,
               CASE WHEN u = 0 THEN 'admin' ELSE 'person' || lpad(u::text, 3, '0') END
                   || '@org' || lpad(o::text, 5, '0') || '.bench.example',
               CASE WHEN u = 0 THEN 'Zed Admin'
                    ELSE (ARRAY['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald',
                                'Frances', 'Ken', 'Radia'])[1 + u % 9] || ' ' ||
                         (ARRAY['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth',
                                'Allen', 'Thompson'])[1 + (u * 7) % 8] || ' '
                         || lpad(u::text, 3, '0')
               END,
               'active',
               CASE WHEN u = 0 THEN 'admin' WHEN u <= $3::int THEN 'manager' ELSE 'user' END,
               u = 0, CASE WHEN u = 0 THEN $2::text END,
               now() - interval '700 days' + u * interval '1 day',
               CASE WHEN u = 0 THEN now() - interval '1 day' END
        FROM generate_series(1, $1::int) AS o, generate_series(0, $4::int - 1) AS u
    """
    SERVICES = """
        INSERT INTO "service" ("id", "organisation", "name", "kind", "site", "cost_centre",
            "monthly_cost", "status", "usage", "contact", "created_at")
        SELECT md5('service:' || o || ':' || s)::uuid, md5('org:' || o)::uuid,
               k.kinds[1 + (s * 7) % 6] || ' ' || k.sites[1 + (s * 11) % 12] || ' '
                   || lpad(s::text, 4, '0'),
               k.kinds[1 + (s * 7) % 6], k.sites[1 + (s * 11) % 12] || ' office',
               'CC-' || lpad((s % 20)::text, 3, '0'),
               round(12 + ((s * 7919) % 2000) * 0.75, 2),
               'active',
               ((s * 31) % 100) || '% of capacity',
               CASE WHEN s % 10 = 0 THEN NULL
                    ELSE md5('user:' || o || ':' || (s % $3::int))::uuid END,
               now() - interval '600 days' + (s % 500) * interval '1 day'
        FROM generate_series(1, $1::int) AS o, generate_series(1, $2::int) AS s,
             (SELECT ARRAY['Broadband', 'Leased line', 'Voice', 'Mobile', 'Security',
                           'Licences'] AS kinds,
                     ARRAY['Leeds', 'London', 'Manchester', 'Bristol', 'Glasgow', 'Cardiff',
                           'Belfast', 'York', 'Leicester', 'Norwich', 'Exeter', 'Dundee']
                         AS sites) AS k
    """
    POLICIES = """
        INSERT INTO "approval_policy" ("id", "organisation", "name", "active", "threshold",
            "order_kinds", "cost_centres", "approver_users", "approver_roles",
            "required_approvals", "level")
        SELECT md5('policy:' || o || ':' || p.number)::uuid, md5('org:' || o)::uuid, p.name,
               p.active, p.threshold, p.kinds::json, p.centres::json,
               CASE WHEN p.number = 1
                    THEN json_build_array(md5('user:' || o || ':0')::uuid::text)
                    ELSE '[]'::json END,
               p.roles::json, 1, p.level
        FROM generate_series(1, $1::int) AS o,
             (VALUES (1, 'Orders over 500', true, 500.00, '[]', '[]', '[]', 1),
                     (2, 'Large orders', true, 20000.00, '[]', '[]', '["tier:manager"]', 2),
                     (3, 'Changes to CC-001', false, 0.00, '["change"]', '["CC-001"]',
                      '["tier:admin"]', 1))
                 AS p(number, name, active, threshold, kinds, centres, roles, level)
    """
    # One row per (o, n); the status, cost and dates depend on n only: every organisation
    # holds the same mix. bucket = n * 37 % 100 takes every value 10 times per 1,000 orders.
    ORDER_FACTS = """
        SELECT o, n, md5('order:' || o || ':' || n)::uuid AS id, md5('org:' || o)::uuid AS org,
               md5('user:' || o || ':0')::uuid AS admin,
               md5('user:' || o || ':' || (1 + (n * 17) % ($3::int - 1)))::uuid AS requester,
               CASE WHEN b < 20 THEN 'pending_approval' WHEN b < 60 THEN 'approved'
                    WHEN b < 70 THEN 'rejected' WHEN b < 80 THEN 'cancelled'
                    WHEN b < 99 THEN 'draft' ELSE 'submitted' END AS status,
               CASE WHEN b < 20 THEN 600 + (n * 97) % 9000
                    ELSE round(20 + ((n * 7919) % 4000) * 1.25, 2) END AS cost,
               CASE WHEN b < 20 THEN now() - ((n % 240) + 2) * interval '1 hour'
                    ELSE now() - (1001 - n) * interval '8 hours' END AS created
        FROM generate_series(1, $1::int) AS o, generate_series(1, $2::int) AS n,
             LATERAL (SELECT (n * 37) % 100 AS b) AS bucket
    """
    ORDERS = f"""
        INSERT INTO "portal_order" ("id", "organisation", "number", "requester", "kind", "item",
            "service", "description", "quantity", "estimated_cost", "cost_centre", "notes",
            "status", "revision", "snapshot", "current_level", "level_started_at", "remind_at",
            "escalate_at", "escalated", "rejection_reason", "created_at", "submitted_at",
            "decided_at", "updated_at")
        SELECT f.id, f.org, f.n, f.requester,
               CASE WHEN f.n % 4 = 0 THEN 'change' ELSE 'new' END,
               CASE WHEN f.n % 4 = 0 THEN ''
                    ELSE (ARRAY['broadband-1g', 'leased-line-10g', 'sip-channel', 'mobile-5g',
                                'firewall', 'm365-seat'])[1 + f.n % 6] END,
               CASE WHEN f.n % 4 = 0
                    THEN md5('service:' || f.o || ':' || (1 + (f.n * 13) % 1000))::uuid END,
               CASE WHEN f.n % 4 = 0 THEN 'Upgrade bandwidth and add a backup line'
                    ELSE 'For the ' || (ARRAY['Leeds', 'London', 'Manchester', 'Bristol'])
                             [1 + f.n % 4] || ' office' END,
               1 + f.n % 5, f.cost, 'CC-' || lpad((f.n % 20)::text, 3, '0'),
               CASE WHEN f.n % 3 = 0 THEN 'Needed before the office move.' ELSE '' END,
               f.status, CASE WHEN f.status = 'draft' THEN 0 ELSE 1 END,
               CASE WHEN f.status IN ('draft', 'submitted') THEN '{{}}'::json
                    ELSE json_build_object(
                        'steps', CASE WHEN f.cost > 500 THEN json_build_array(json_build_object(
                            'level', 1, 'policy_id', md5('policy:' || f.o || ':1')::uuid::text,
                            'policy_name', 'Orders over 500', 'required', 1,
                            'approvers', json_build_array(f.admin::text)))
                            ELSE '[]'::json END,
                        'evaluated_at', to_json(f.created + interval '61 minutes'),
                        'revision', 1) END,
               CASE WHEN f.status = 'pending_approval' THEN 1 END,
               CASE WHEN f.status = 'pending_approval' THEN f.created + interval '61 minutes' END,
               CASE WHEN f.status = 'pending_approval'
                     AND f.created + interval '25 hours' > now()
                    THEN f.created + interval '25 hours' END,
               CASE WHEN f.status = 'pending_approval'
                     AND f.created + interval '73 hours' > now()
                    THEN f.created + interval '73 hours' END,
               f.status = 'pending_approval' AND f.created + interval '73 hours' <= now(),
               CASE WHEN f.status = 'rejected' THEN 'Over budget this quarter.' ELSE '' END,
               f.created,
               CASE WHEN f.status <> 'draft' THEN f.created + interval '1 hour' END,
               CASE WHEN f.status IN ('approved', 'rejected', 'cancelled')
                    THEN f.created + interval '1 day' END,
               CASE WHEN f.status IN ('approved', 'rejected', 'cancelled')
                    THEN f.created + interval '1 day'
                    ELSE f.created + interval '61 minutes' END
        FROM ({ORDER_FACTS}) AS f
    """  # noqa: S608 - constants only
    DECISIONS = f"""
        INSERT INTO "order_decision" ("id", "order", "organisation", "revision", "level",
            "approver", "approve", "reason", "decided_at")
        SELECT md5('decision:' || f.o || ':' || f.n)::uuid, f.id, f.org, 1, 1, f.admin,
               f.status = 'approved',
               CASE WHEN f.status = 'rejected' THEN 'Over budget this quarter.' ELSE '' END,
               f.created + interval '1 day'
        FROM ({ORDER_FACTS}) AS f
        WHERE f.status IN ('approved', 'rejected') AND f.cost > 500
    """  # noqa: S608 - constants only
    # What the engine writes for each waiting order: its snapshot names the admin, level 1.
    ELIGIBILITY = f"""
        INSERT INTO "approval_eligibility" ("id", "order", "organisation", "revision", "level",
            "approver", "submitted_at")
        SELECT md5('seat:' || f.o || ':' || f.n)::uuid, f.id, f.org, 1, 1, f.admin,
               f.created + interval '1 hour'
        FROM ({ORDER_FACTS}) AS f
        WHERE f.status = 'pending_approval'
    """  # noqa: S608 - constants only
    TABLES = (
        "organisation",
        "portal_user",
        "service",
        "approval_policy",
        "portal_order",
        "order_decision",
        "approval_eligibility",
    )


def marker(orgs: int) -> str:
    return f"bench_orders_scale v{GENERATOR_VERSION} orgs={orgs} complete"


def environment(data_dir: Path, port: int, database: str) -> dict[str, str]:
    # No workers: nothing but the web process reads these databases.
    return support.portal_environment(
        data_dir,
        database,
        support.REDIS_URL,
        f"http://127.0.0.1:{port}",
        pool_max=10,
        namespace=f"portal-bench-orders-{os.getpid()}",
    )


async def generate(name: str, orgs: int, password_hash: str) -> dict[str, float]:
    """Fill a migrated database; returns seconds per step."""
    timings: dict[str, float] = {}
    async with support.connected(support.database_url(name), command_timeout=3600) as connection:
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        await connection.execute("SET work_mem = '64MB'")
        # Skipping the foreign-key triggers needs a superuser; the rows are valid by
        # construction (and checked below), so without it the load is only slower.
        with contextlib.suppress(asyncpg.exceptions.InsufficientPrivilegeError):
            await connection.execute("SET session_replication_role = replica")
        # The indexes that back no constraint are dropped for the load and rebuilt after it,
        # from their own definitions: the same schema, built by sorting instead of row by row.
        indexes = await support.secondary_indexes(connection, Loader.TABLES)
        for index_name, _ in indexes:
            await connection.execute(f'DROP INDEX "{index_name}"')
        steps = [
            ("organisations", Loader.ORGANISATIONS, (orgs,)),
            ("users", Loader.USERS, (orgs, password_hash, MANAGERS_PER_ORG, USERS_PER_ORG)),
            ("services", Loader.SERVICES, (orgs, SERVICES_PER_ORG, USERS_PER_ORG)),
            ("approval policies", Loader.POLICIES, (orgs,)),
            ("orders", Loader.ORDERS, (orgs, ORDERS_PER_ORG, USERS_PER_ORG)),
            ("decisions", Loader.DECISIONS, (orgs, ORDERS_PER_ORG, USERS_PER_ORG)),
            ("eligibility", Loader.ELIGIBILITY, (orgs, ORDERS_PER_ORG, USERS_PER_ORG)),
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
        for table in Loader.TABLES:
            await connection.execute(f'VACUUM (ANALYZE) "{table}"')
        timings["vacuum analyze"] = time.monotonic() - started
        await check_counts(connection, orgs)
    await support.admin_sql([f"COMMENT ON DATABASE \"{name}\" IS '{marker(orgs)}'"])
    return timings


async def check_counts(connection: asyncpg.Connection, orgs: int) -> None:
    expected = {
        "organisation": orgs,
        "portal_user": orgs * USERS_PER_ORG,
        "service": orgs * SERVICES_PER_ORG,
        "portal_order": orgs * ORDERS_PER_ORG,
    }
    for table, count in expected.items():
        found = await connection.fetchval(f'SELECT count(*) FROM "{table}"')  # noqa: S608
        if found != count:
            raise support.BenchError(f"{table}: {found:,} rows, expected {count:,}")
    seats = await connection.fetchval('SELECT count(*) FROM "approval_eligibility"')
    waiting = await connection.fetchval(
        'SELECT count(*) FROM "portal_order" WHERE "status" = \'pending_approval\''
    )
    if seats != waiting:
        raise support.BenchError(f"{seats:,} eligibility rows for {waiting:,} waiting orders")
    orphans = await connection.fetchval(
        'SELECT count(*) FROM "portal_order" o LEFT JOIN "portal_user" u '
        'ON u."id" = o."requester" AND u."organisation" = o."organisation" WHERE u."id" IS NULL'
    )
    if orphans:
        raise support.BenchError(f"{orphans} orders whose requester is not in their organisation")


def prepare(name: str, orgs: int, keep: bool, env: dict[str, str], password_hash: str) -> None:
    if keep and asyncio.run(support.database_comment(name)) == marker(orgs):
        print(f"  {name}: reusing the database generated earlier ({orgs:,} organisation(s))")
        return
    started = time.monotonic()
    support.recreate_database(name)
    support.run_portal_cli(["migrate"], env)
    timings = asyncio.run(generate(name, orgs, password_hash))
    steps = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in timings.items())
    print(
        f"  {name}: generated {orgs:,} organisation(s) in {time.monotonic() - started:.0f} s "
        f"(migrate and {steps})"
    )


@dataclass(frozen=True, slots=True)
class Probe:
    """One page of one organisation: the URL and the text every response must contain."""

    url: str
    expected: str


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    database: str
    organisation: int
    admin_email: str
    base_url: str
    probes: dict[str, Probe]


async def probes_for(database: str, organisation: int) -> dict[str, Probe]:
    async with support.connected(support.database_url(database)) as connection:
        org_id = await connection.fetchval("SELECT md5('org:' || $1::int)::uuid", organisation)
        admin = await connection.fetchval(
            "SELECT md5('user:' || $1::int || ':0')::uuid", organisation
        )
        waiting = await connection.fetchval(
            'SELECT count(*) FROM "portal_order" WHERE "organisation" = $1 '
            'AND "status" = \'pending_approval\' AND "requester" <> $2',
            org_id,
            admin,
        )
        services = await connection.fetch(
            'SELECT "name", "id" FROM "service" WHERE "organisation" = $1 '
            'ORDER BY "name", "id" LIMIT 2 OFFSET $2',
            org_id,
            DEEP_OFFSET - 1,
        )
        first = await connection.fetchval(
            'SELECT "name" FROM "service" WHERE "organisation" = $1 ORDER BY "name", "id" LIMIT 1',
            org_id,
        )
    if waiting == 0 or len(services) < 2:
        raise support.BenchError(f"{database}: organisation {organisation} has no data")
    cursor = encode_cursor(services[0]["name"], services[0]["id"])
    return {
        "approvals": Probe("/approvals", f'<span id="queue-count">{waiting}</span>'),
        "services first": Probe("/services", f">{first}</a>"),
        "services deep": Probe(f"/services?after={cursor}", f">{services[1]['name']}</a>"),
    }


def measure(
    targets: list[Target], clients: list[httpx.Client], requests: int
) -> dict[tuple[str, str], list[float]]:
    """Per page: a warm-up, then the targets alternately, one request each in turn."""
    results: dict[tuple[str, str], list[float]] = {}
    for page in PAGES:
        for target, client in zip(targets, clients, strict=True):
            probe = target.probes[page]
            for _ in range(20):
                support.timed_get(client, probe.url, probe.expected)
            results[(target.label, page)] = []
        for _ in range(requests):
            for target, client in zip(targets, clients, strict=True):
                probe = target.probes[page]
                results[(target.label, page)].append(
                    support.timed_get(client, probe.url, probe.expected)
                )
    return results


def report(
    targets: list[Target], results: dict[tuple[str, str], list[float]], requests: int
) -> float:
    full, small = targets
    print(
        f"\nlatency in ms, {requests} sequential requests per page and size, alternating; "
        f"signed in as the admin"
    )
    header = f"  {'page':<16} {'size':<22} {'median':>8} {'p95':>8}"
    print(header)
    worst = 0.0
    for page in PAGES:
        big, little = results[(full.label, page)], results[(small.label, page)]
        for target, samples in ((small, little), (full, big)):
            print(
                f"  {page:<16} {target.label:<22} {statistics.median(samples):>8.2f} "
                f"{support.p95(samples):>8.2f}"
            )
        ratio = statistics.median(big) / statistics.median(little)
        ratio_p95 = support.p95(big) / support.p95(little)
        worst = max(worst, ratio)
        print(f"  {page:<16} {'ratio full / small':<22} {ratio:>7.2f}x {ratio_p95:>7.2f}x")
    return worst


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> int:
    from portal.auth.passwords import hash_password

    password_hash = hash_password(ADMIN_PASSWORD)
    print(
        f"Orders scale benchmark: {args.orgs:,} organisations x ({USERS_PER_ORG} users, "
        f"{SERVICES_PER_ORG:,} services, {ORDERS_PER_ORG:,} orders) against 1 organisation"
    )
    print(f"  {os.cpu_count()} CPUs shared by PostgreSQL, Redis, both servers and this script")
    plan = [
        (f"full ({args.orgs:,} orgs)", FULL_DATABASE, args.orgs, args.orgs // 2 + 1),
        ("small (1 org)", SMALL_DATABASE, 1, 1),
    ]
    targets: list[Target] = []
    for label, database, orgs, measured in plan:
        port = support.free_port()
        env = environment(scratch / database, port, database)
        if not args.keep:
            cleanup.callback(support.drop_database, database)
        prepare(database, orgs, args.keep, env, password_hash)
        cleanup.enter_context(
            support.served(support.PORTAL_APP, port, 1, env, scratch / f"{database}.log", "/health")
        )
        targets.append(
            Target(
                label=label,
                database=database,
                organisation=measured,
                admin_email=f"admin@org{measured:05}.bench.example",
                base_url=f"http://127.0.0.1:{port}",
                probes=asyncio.run(probes_for(database, measured)),
            )
        )
    for target in targets:
        print(
            f"  {target.label}: organisation {target.organisation} of {target.database}, "
            f"signed in as {target.admin_email}; queue expects "
            f"{target.probes['approvals'].expected!r}"
        )
    clients = [
        cleanup.enter_context(
            support.signed_in(target.base_url, target.admin_email, ADMIN_PASSWORD)
        )
        for target in targets
    ]
    results = measure(targets, clients, args.requests)
    worst = report(targets, results, args.requests)
    verdict = "MET" if worst <= TARGET_RATIO else "NOT MET"
    print(f"worst median ratio {worst:.2f} (target <= {TARGET_RATIO}): {verdict}")
    print(f"re-run: {support.rerun_command('bench_orders_scale', args)}")
    return 0 if worst <= TARGET_RATIO else 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="approvals queue and services at 1,000 orgs")
    parser.add_argument("--orgs", type=int, default=1_000, help="organisations at full size")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the databases, and reuse them when generated with the same --orgs",
    )
    args = parser.parse_args(argv)
    if args.orgs < 2 or args.requests < 1:
        parser.error("--orgs must be at least 2 and --requests at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return support.run_benchmark(
        "portal-bench-orders-", functools.partial(benchmark, parse_args(argv))
    )


if __name__ == "__main__":
    sys.exit(main())
