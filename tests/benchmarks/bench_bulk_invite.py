"""Benchmark: invite 1,000 colleagues from one CSV upload, timed until the last email arrives.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python -m tests.benchmarks.bench_bulk_invite [--rows 1000] [--timeout 90]

Needs PostgreSQL (BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres, a role
that may create databases) and Redis (BENCH_BULK_REDIS_URL, default redis://127.0.0.1:6379/9).

The production shape, all real: a dedicated database (portal_bench_bulk), `portal migrate`, an
organisation from `portal org create`, `portal run` (web; REDIS_URL set, so no workers inside)
and two `portal worker --processes 1` with SMTP_URL pointing at an aiosmtpd server run by this
script, on a queue namespace of their own. Signs in over HTTP, uploads the CSV through
POST /settings/users/import, and times from the upload until the SMTP server has received one
email for every row; checks that every address got exactly one. Processes (each in its own
process group), the database, the queue namespace and the session are removed at the end, even
on error. Exit status: 0 done, 1 failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import re
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.benchmarks import support

REDIS_URL = os.environ.get("BENCH_BULK_REDIS_URL", "redis://127.0.0.1:6379/9")
DATABASE_NAME = "portal_bench_bulk"
OWNER_EMAIL = "admin@bench.example"
WORKERS = 2
IMPORT_PATH = "/settings/users/import"


# --- the SMTP server -------------------------------------------------------------------------


class Inbox:
    """What the SMTP server received, counted as it arrives (aiosmtpd runs in its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.recipients: Counter[str] = Counter()
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages += 1
            self.recipients.update(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_server(inbox: Inbox) -> Iterator[str]:
    from aiosmtpd.controller import Controller

    port = support.free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


# --- the database --------------------------------------------------------------------------


async def last_user_created_at() -> float:
    """When the batch actor created the last invited user (same machine, same clock)."""
    async with support.connected(support.database_url(DATABASE_NAME)) as connection:
        last = await connection.fetchval(
            "SELECT max(created_at) FROM portal_user WHERE email LIKE '%@bench-bulk.example'"
        )
    return float(last.timestamp())


# --- processes -------------------------------------------------------------------------------


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def log_tails(scratch: Path, lines: int = 15) -> str:
    return "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        for log in sorted(scratch.glob("*.log"))
    )


# --- the run ---------------------------------------------------------------------------------


def csv_of(rows: int) -> bytes:
    lines = ["name,email,tier"]
    lines += [f"Colleague {n},colleague{n}@bench-bulk.example,user" for n in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="1,000 invitations from one CSV upload")
    parser.add_argument("--rows", type=int, default=1_000, help="rows in the CSV file")
    parser.add_argument("--timeout", type=int, default=90, help="seconds to wait for the emails")
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> int:
    print(f"Bulk invitation benchmark: {args.rows:,} rows in one CSV upload")
    print(
        f"  {os.cpu_count()} CPUs shared by the web process, {WORKERS} workers, PostgreSQL, "
        "Redis, the SMTP server and this script"
    )
    inbox = Inbox()
    smtp_url = cleanup.enter_context(smtp_server(inbox))
    namespace = f"portal-bench-bulk-{secrets.token_hex(4)}"
    cleanup.callback(support.forget_redis_keys, REDIS_URL, namespace)
    port = support.free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = support.portal_environment(
        scratch / "data", DATABASE_NAME, REDIS_URL, base_url, namespace=namespace
    )
    cleanup.callback(support.drop_database, DATABASE_NAME)
    support.recreate_database(DATABASE_NAME)
    support.run_portal_cli(["migrate"], env)
    password = support.create_organisation(env, "Bench Organisation", OWNER_EMAIL, "Bench Admin")

    portal = support.venv_tool("portal")
    web_log = scratch / "web.log"
    web = cleanup.enter_context(
        support.started([portal, "run", "--host", "127.0.0.1", "--port", str(port)], env, web_log)
    )
    support.wait_until_ready(web, f"{base_url}/health", web_log)
    worker_env = {**env, "SMTP_URL": smtp_url}
    groups = {"web": web.pid}
    for number in range(WORKERS):
        log = scratch / f"worker-{number}.log"
        # One scheduler is enough; the sweeps it wakes are idempotent anyway.
        command = [portal, "worker", "--processes", "1"]
        if number:
            command.append("--no-scheduler")
        worker = cleanup.enter_context(support.started(command, worker_env, log))
        support.wait_for_worker(worker, log)
        groups[f"worker {number + 1}"] = worker.pid
    print(
        f"  database {DATABASE_NAME}; Redis {REDIS_URL}, queue namespace {namespace}; "
        f"SMTP {smtp_url}"
    )
    print(f"  web: portal run; workers: {WORKERS} x `portal worker --processes 1` (4 threads)")

    with support.signed_in(base_url, OWNER_EMAIL, password) as client:
        client.get(IMPORT_PATH).raise_for_status()
        data = csv_of(args.rows)
        cpu_before = cpu_ticks()
        groups_before = {name: support.group_cpu_seconds(pid) for name, pid in groups.items()}
        own_before = time.process_time()
        started_wall = time.time()
        started_at = time.perf_counter()
        answer = client.post(
            IMPORT_PATH,
            files={"file": ("bench.csv", data, "text/csv")},
            data={"_csrf_token": support.csrf_token(client)},
            follow_redirects=False,
        )
        uploaded_at = time.perf_counter()
        location = answer.headers.get("location", "")
        found = re.fullmatch(rf"{IMPORT_PATH}/([0-9a-f-]{{36}})", location)
        if answer.status_code != 303 or found is None:
            raise support.BenchError(f"upload: {answer.status_code} {answer.text[:500]}")
        batch_id = found.group(1)
        deadline = started_at + args.timeout
        while inbox.messages < args.rows:
            if time.perf_counter() > deadline:
                raise support.BenchError(
                    f"only {inbox.messages:,} of {args.rows:,} emails within {args.timeout} s;"
                    f" the logs end:\n{log_tails(scratch)}"
                )
            time.sleep(0.02)
        received_at = time.perf_counter()
        cpu_after = cpu_ticks()
        spent = {
            name: support.group_cpu_seconds(pid) - groups_before[name]
            for name, pid in groups.items()
        }
        spent["SMTP server and this script"] = time.process_time() - own_before
        time.sleep(1)  # anything sent twice would arrive now
        progress = client.get(f"/api/v1/users/invitations/bulk/{batch_id}").json()
        page = client.get(f"{IMPORT_PATH}/{batch_id}/progress", headers={"HX-Request": "true"})

    expected = {f"colleague{n}@bench-bulk.example" for n in range(args.rows)}
    if set(inbox.recipients) != expected:
        raise support.BenchError("the SMTP server did not receive one email for every row")
    twice = sum(count - 1 for count in inbox.recipients.values())
    if twice:
        raise support.BenchError(f"{twice} addresses received more than one email")
    if progress != {
        "total": args.rows,
        "invited": args.rows,
        "refused": 0,
        "sent": args.rows,
        "failed": 0,
        "done": True,
    }:
        raise support.BenchError(f"the batch's progress after the last email: {progress}")
    if "<strong>100%</strong>" not in page.text or "hx-trigger" in page.text:
        raise support.BenchError("the progress fragment does not show 100% without polling")

    total = received_at - started_at
    print(
        f"  upload (read, check {args.rows:,} rows, store, enqueue): "
        f"{uploaded_at - started_at:.2f} s"
    )
    last_invited = asyncio.run(last_user_created_at()) - started_wall
    print(f"  every row invited (users, links, outbox):  {last_invited:.2f} s (worker clock)")
    print(f"  every email received by the SMTP server:   {total:.2f} s")
    busy = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
    print(f"  machine CPU busy while timed: {busy:.0%} of {os.cpu_count()} CPUs (everything on it)")
    machine = (cpu_after[0] - cpu_before[0]) / os.sysconf("SC_CLK_TCK")
    spent["the rest (PostgreSQL, Redis, other load)"] = machine - sum(spent.values())
    print(
        "  CPU seconds while timed: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in spent.items())
    )
    print("  checked: one email per address, none twice; progress API done; fragment at 100%")
    print()
    print(
        f"{args.rows / total:,.0f} invitations per second, from the upload to the last email "
        f"({args.rows:,} in {total:.1f} s)"
    )
    print(f"re-run: {support.rerun_command('bench_bulk_invite', args)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return support.run_benchmark(
        "portal-bench-bulk-", functools.partial(benchmark, parse_args(argv))
    )


if __name__ == "__main__":
    sys.exit(main())
