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
import hashlib
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import redis

from tests.benchmarks.bench_requests import (
    OWNER_EMAIL,
    POSTGRES_ADMIN_DSN,
    REPO_ROOT,
    SESSION_COOKIE,
    BenchError,
    create_owner,
    free_port,
    group_cpu_seconds,
    run_portal_cli,
    stop,
    venv_tool,
    wait_until_ready,
)

REDIS_URL = os.environ.get("BENCH_BULK_REDIS_URL", "redis://127.0.0.1:6379/9")
DATABASE_NAME = "portal_bench_bulk"
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

    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


# --- the database and the queue --------------------------------------------------------------


def database_url() -> str:
    return POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + "/" + DATABASE_NAME


async def _admin_sql(statements: list[str]) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def create_database() -> None:
    asyncio.run(
        _admin_sql(
            [
                f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)',
                f'CREATE DATABASE "{DATABASE_NAME}"',
            ]
        )
    )


def drop_database() -> None:
    asyncio.run(_admin_sql([f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)']))


async def last_user_created_at() -> float:
    """When the batch actor created the last invited user (same machine, same clock)."""
    import asyncpg

    connection = await asyncpg.connect(database_url())
    try:
        last = await connection.fetchval(
            "SELECT max(created_at) FROM portal_user WHERE email LIKE '%@bench-bulk.example'"
        )
    finally:
        await connection.close()
    return float(last.timestamp())


def forget_redis_keys(namespace: str) -> None:
    """The queue namespace's keys (queues, acks, heartbeats) and the sessions this run made."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for pattern in (f"{namespace}:*", f"{namespace}.*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.delete(key)
    finally:
        client.close()


def forget_session(token: str) -> None:
    key = "portal:session:" + hashlib.sha256(token.encode()).hexdigest()
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.delete(key)
    finally:
        client.close()


# --- processes -------------------------------------------------------------------------------


def environment(data_dir: Path, port: int, namespace: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SMTP_URL", "PORTAL_DEMO", "PORTAL_DEMO_PASSWORD"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=REDIS_URL,
        PORTAL_QUEUE_NAMESPACE=namespace,
        SECRET_KEY=secrets.token_urlsafe(48),
        BASE_URL=f"http://127.0.0.1:{port}",
        PORTAL_DATA_DIR=str(data_dir),
        PICCOLO_CONF="portal.piccolo_conf",
    )
    return env


@contextlib.contextmanager
def started(
    command: list[str], env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own process group (its children go with it), always stopped."""
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def wait_for_worker(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"a worker exited ({process.returncode}):\n{log.read_text()}")
        if "is ready for action" in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise BenchError(f"a worker was not ready within 60 s:\n{log.read_text()}")


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


def sign_in(client: httpx.Client, password: str) -> str:
    client.get("/sign-in").raise_for_status()
    answer = client.post(
        "/sign-in",
        data={"email": OWNER_EMAIL, "password": password, "_csrf_token": csrf(client)},
        follow_redirects=False,
    )
    token = client.cookies.get(SESSION_COOKIE)
    if answer.status_code != 303 or not token:
        raise BenchError(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    return token


def csrf(client: httpx.Client) -> str:
    token = client.cookies.get("csrftoken")
    if not token:
        raise BenchError("no csrftoken cookie")
    return token


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="1,000 invitations from one CSV upload")
    parser.add_argument("--rows", type=int, default=1_000, help="rows in the CSV file")
    parser.add_argument("--timeout", type=int, default=90, help="seconds to wait for the emails")
    return parser.parse_args(argv)


def rerun_command(args: argparse.Namespace) -> str:
    return (
        f"cd {shlex.quote(str(REPO_ROOT))} && .venv/bin/python -m tests.benchmarks."
        f"bench_bulk_invite --rows {args.rows} --timeout {args.timeout}"
    )


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> None:
    print(f"Bulk invitation benchmark: {args.rows:,} rows in one CSV upload")
    print(
        f"  {os.cpu_count()} CPUs shared by the web process, {WORKERS} workers, PostgreSQL, "
        "Redis, the SMTP server and this script"
    )
    inbox = Inbox()
    smtp_url = cleanup.enter_context(smtp_server(inbox))
    namespace = f"portal-bench-bulk-{secrets.token_hex(4)}"
    cleanup.callback(forget_redis_keys, namespace)
    port = free_port()
    env = environment(scratch / "data", port, namespace)
    cleanup.callback(drop_database)
    create_database()
    run_portal_cli(["migrate"], env)
    password = create_owner(env)

    portal = venv_tool("portal")
    web_log = scratch / "web.log"
    web = cleanup.enter_context(
        started([portal, "run", "--host", "127.0.0.1", "--port", str(port)], env, web_log)
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_ready(web, f"{base_url}/health", web_log)
    worker_env = {**env, "SMTP_URL": smtp_url}
    groups = {"web": web.pid}
    for number in range(WORKERS):
        log = scratch / f"worker-{number}.log"
        # One scheduler is enough; the sweeps it wakes are idempotent anyway.
        command = [portal, "worker", "--processes", "1"]
        if number:
            command.append("--no-scheduler")
        worker = cleanup.enter_context(started(command, worker_env, log))
        wait_for_worker(worker, log)
        groups[f"worker {number + 1}"] = worker.pid
    print(
        f"  database {DATABASE_NAME}; Redis {REDIS_URL}, queue namespace {namespace}; "
        f"SMTP {smtp_url}"
    )
    print(f"  web: portal run; workers: {WORKERS} x `portal worker --processes 1` (4 threads)")

    with httpx.Client(base_url=base_url, timeout=60) as client:
        token = sign_in(client, password)
        cleanup.callback(forget_session, token)
        client.get(IMPORT_PATH).raise_for_status()
        data = csv_of(args.rows)
        cpu_before = cpu_ticks()
        groups_before = {name: group_cpu_seconds(pid) for name, pid in groups.items()}
        own_before = time.process_time()
        started_wall = time.time()
        started_at = time.perf_counter()
        answer = client.post(
            IMPORT_PATH,
            files={"file": ("bench.csv", data, "text/csv")},
            data={"_csrf_token": csrf(client)},
            follow_redirects=False,
        )
        uploaded_at = time.perf_counter()
        location = answer.headers.get("location", "")
        found = re.fullmatch(rf"{IMPORT_PATH}/([0-9a-f-]{{36}})", location)
        if answer.status_code != 303 or found is None:
            raise BenchError(f"upload: {answer.status_code} {answer.text[:500]}")
        batch_id = found.group(1)
        deadline = started_at + args.timeout
        while inbox.messages < args.rows:
            if time.perf_counter() > deadline:
                raise BenchError(
                    f"only {inbox.messages:,} of {args.rows:,} emails within {args.timeout} s;"
                    f" the logs end:\n{log_tails(scratch)}"
                )
            time.sleep(0.02)
        received_at = time.perf_counter()
        cpu_after = cpu_ticks()
        spent = {name: group_cpu_seconds(pid) - groups_before[name] for name, pid in groups.items()}
        spent["SMTP server and this script"] = time.process_time() - own_before
        time.sleep(1)  # anything sent twice would arrive now
        progress = client.get(f"/api/v1/users/invitations/bulk/{batch_id}").json()
        page = client.get(f"{IMPORT_PATH}/{batch_id}/progress", headers={"HX-Request": "true"})

    expected = {f"colleague{n}@bench-bulk.example" for n in range(args.rows)}
    if set(inbox.recipients) != expected:
        raise BenchError("the SMTP server did not receive one email for every row")
    twice = sum(count - 1 for count in inbox.recipients.values())
    if twice:
        raise BenchError(f"{twice} addresses received more than one email")
    if progress != {
        "total": args.rows,
        "invited": args.rows,
        "refused": 0,
        "sent": args.rows,
        "failed": 0,
        "done": True,
    }:
        raise BenchError(f"the batch's progress after the last email: {progress}")
    if "<strong>100%</strong>" not in page.text or "hx-trigger" in page.text:
        raise BenchError("the progress fragment does not show 100% without polling")

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
    print(f"re-run: {rerun_command(args)}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    begun = time.monotonic()
    # SIGTERM (a CI timeout) unwinds like Ctrl-C, so the cleanup below still runs.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.ExitStack() as cleanup:
        scratch = Path(tempfile.mkdtemp(prefix="portal-bench-bulk-"))
        cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)
        try:
            benchmark(args, scratch, cleanup)
        except BenchError as error:
            print(f"FAILED: {error}", file=sys.stderr)
            return 1
        finally:
            print(f"(run took {time.monotonic() - begun:.0f} s; cleaning up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
