"""Benchmark: the users page with 100,000 users against the same pages with 100 users.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python -m tests.benchmarks.bench_users_page [--requests 200]

One run, one PostgreSQL database, one server: an organisation of 100,000 users and one of 100,
each seeded with COPY. Signed in as each organisation's admin, it times GET /settings/users
(the first page) and a deep page (the keyset cursor of the middle row) with sequential requests
over one keep-alive connection, and prints median and p95 latency and the ratios. Target: each
page at 100,000 users within 1.5x of the same page at 100 users. Every response is checked
(status 200 and the expected row on the page).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from portal.pagination import encode_cursor
from tests.benchmarks import support

DATABASE_NAME = "portal_bench_users"
TARGET_RATIO = 1.5
FIRST_NAMES = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    owner_email: str
    size: int


async def seed(organisation_name: str, size: int, domain: str) -> None:
    rng = random.Random(size)
    async with support.connected(support.database_url(DATABASE_NAME)) as connection:
        organisation_id = await connection.fetchval(
            'SELECT "id" FROM "organisation" WHERE "name" = $1', organisation_name
        )
        rows = [
            (
                uuid.uuid4(),
                organisation_id,
                f"person{index:06}@{domain}",
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {index:06}",
                rng.choice(["user", "user", "manager"]),
                "active",
            )
            for index in range(size - 1)  # the owner is the last one
        ]
        await connection.copy_records_to_table(
            "portal_user",
            records=rows,
            columns=["id", "organisation", "email", "full_name", "tier", "status"],
        )
        await connection.execute("ANALYZE portal_user")


async def middle_cursor(organisation_name: str, size: int) -> tuple[str, str]:
    """The cursor of the row in the middle, and the name expected first on the next page."""
    async with support.connected(support.database_url(DATABASE_NAME)) as connection:
        rows = await connection.fetch(
            'SELECT u."full_name", u."id" FROM "portal_user" u JOIN "organisation" o '
            'ON o."id" = u."organisation" WHERE o."name" = $1 '
            'ORDER BY u."full_name", u."id" OFFSET $2 LIMIT 2',
            organisation_name,
            size // 2,
        )
    return encode_cursor(rows[0]["full_name"], rows[0]["id"]), rows[1]["full_name"]


def timed(client: httpx.Client, url: str, expected: str, count: int) -> list[float]:
    for _ in range(20):
        client.get(url)
    return [support.timed_get(client, url, expected) for _ in range(count)]


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> int:
    port = support.free_port()
    base = f"http://127.0.0.1:{port}"
    env = support.portal_environment(
        scratch / "data", DATABASE_NAME, support.REDIS_URL, base, pool_max=10
    )
    cleanup.callback(support.drop_database, DATABASE_NAME)
    support.recreate_database(DATABASE_NAME)
    support.run_portal_cli(["migrate"], env)
    organisations = [
        Organisation("Large Organisation", "admin@large.example", 100_000),
        Organisation("Small Organisation", "admin@small.example", 100),
    ]
    passwords = {}
    for organisation in organisations:
        passwords[organisation.name] = support.create_organisation(
            env, organisation.name, organisation.owner_email, "Zed Owner"
        )
        domain = organisation.owner_email.split("@")[1]
        started = time.monotonic()
        asyncio.run(seed(organisation.name, organisation.size, domain))
        print(f"  seeded {organisation.size:,} users in {time.monotonic() - started:.1f} s")
    results: dict[tuple[str, str], list[float]] = {}
    with support.served(support.PORTAL_APP, port, 1, env, scratch / "portal.log", "/health"):
        for organisation in organisations:
            cursor, next_name = asyncio.run(middle_cursor(organisation.name, organisation.size))
            with support.signed_in(
                base, organisation.owner_email, passwords[organisation.name], 30
            ) as client:
                results[(organisation.name, "first")] = timed(
                    client, "/settings/users", "Ada ", args.requests
                )
                results[(organisation.name, "deep")] = timed(
                    client, f"/settings/users?after={cursor}", next_name, args.requests
                )
    large, small = organisations[0].name, organisations[1].name
    worst = 0.0
    print(f"\nusers page latency, {args.requests} sequential requests each (ms)")
    for page in ("first", "deep"):
        big, little = results[(large, page)], results[(small, page)]
        ratio = statistics.median(big) / statistics.median(little)
        worst = max(worst, ratio)
        print(
            f"  {page:5} page  100 users: median {statistics.median(little):6.2f} p95 "
            f"{support.p95(little):6.2f} | 100,000 users: median {statistics.median(big):6.2f} p95 "
            f"{support.p95(big):6.2f} | ratio {ratio:.2f}"
        )
    verdict = "MET" if worst <= TARGET_RATIO else "NOT MET"
    print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO}): {verdict}")
    print(f"re-run: {support.rerun_command('bench_users_page', args)}")
    return 0 if worst <= TARGET_RATIO else 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    return support.run_benchmark("portal-bench-users-", functools.partial(benchmark, args))


if __name__ == "__main__":
    sys.exit(main())
