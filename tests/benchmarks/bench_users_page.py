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
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from portal.pagination import encode_cursor
from tests.benchmarks import bench_requests as harness

# The harness's database helpers read this module-level name; this benchmark has its own.
harness.DATABASE_NAME = "portal_bench_users"
TARGET_RATIO = 1.5
FIRST_NAMES = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    owner_email: str
    size: int


async def seed(database_url: str, organisation_name: str, size: int, domain: str) -> None:
    rng = random.Random(size)
    connection = await asyncpg.connect(database_url)
    try:
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
    finally:
        await connection.close()


async def middle_cursor(database_url: str, organisation_name: str, size: int) -> tuple[str, str]:
    """The cursor of the row in the middle, and the name expected first on the next page."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            'SELECT u."full_name", u."id" FROM "portal_user" u JOIN "organisation" o '
            'ON o."id" = u."organisation" WHERE o."name" = $1 '
            'ORDER BY u."full_name", u."id" OFFSET $2 LIMIT 2',
            organisation_name,
            size // 2,
        )
    finally:
        await connection.close()
    return encode_cursor(rows[0]["full_name"], rows[0]["id"]), rows[1]["full_name"]


def timed(client: httpx.Client, url: str, expected: str, count: int) -> list[float]:
    for _ in range(20):
        client.get(url)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or expected not in response.text:
            raise harness.BenchError(f"GET {url}: {response.status_code}, {expected!r} missing")
    return samples


def p95(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1]


def run(args: argparse.Namespace) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="portal-bench-users-"))
    port = harness.free_port()
    env = harness.portal_environment(scratch / "data", port, 10)
    harness.create_database()
    try:
        harness.run_portal_cli(["migrate"], env)
        organisations = [
            Organisation("Large Organisation", "admin@large.example", 100_000),
            Organisation("Small Organisation", "admin@small.example", 100),
        ]
        passwords = {}
        for organisation in organisations:
            output = harness.run_portal_cli(
                [
                    "org",
                    "create",
                    "--name",
                    organisation.name,
                    "--owner-email",
                    organisation.owner_email,
                    "--owner-name",
                    "Zed Owner",
                ],
                env,
            )
            passwords[organisation.name] = output.rsplit(": ", 1)[1].strip()
            domain = organisation.owner_email.split("@")[1]
            started = time.monotonic()
            asyncio.run(seed(harness.database_url(), organisation.name, organisation.size, domain))
            print(f"  seeded {organisation.size:,} users in {time.monotonic() - started:.1f} s")
        base = f"http://127.0.0.1:{port}"
        results: dict[tuple[str, str], list[float]] = {}
        with harness.served(harness.PORTAL_APP, port, 1, env, scratch / "portal.log", "/health"):
            for organisation in organisations:
                token, csrf = harness.sign_in(
                    base, organisation.owner_email, passwords[organisation.name]
                )
                cursor, next_name = asyncio.run(
                    middle_cursor(harness.database_url(), organisation.name, organisation.size)
                )
                cookies = {harness.SESSION_COOKIE: token, "csrftoken": csrf}
                with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
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
                f"{p95(little):6.2f} | 100,000 users: median {statistics.median(big):6.2f} p95 "
                f"{p95(big):6.2f} | ratio {ratio:.2f}"
            )
        verdict = "MET" if worst <= TARGET_RATIO else "NOT MET"
        print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO}): {verdict}")
        command = ".venv/bin/python -m tests.benchmarks.bench_users_page"
        print(f"re-run: {command} --requests {args.requests}")
        return 0 if worst <= TARGET_RATIO else 2
    finally:
        with contextlib.suppress(Exception):
            harness.drop_database()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    try:
        return run(parser.parse_args(argv))
    except harness.BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
