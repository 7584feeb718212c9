"""What the benchmark scripts share: a run's scratch directory and clean-up, a dedicated
PostgreSQL database, the portal's environment and command line, servers and workers in process
groups of their own, signing in over HTTP, Redis clean-up, and the figures' helpers.

Not collected by pytest; each ``bench_*.py`` imports what it needs from here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import asyncpg
import httpx
import redis

REPO_ROOT = Path(__file__).resolve().parents[2]
PORTAL_APP = "portal.asgi:app"
POSTGRES_ADMIN_DSN = os.environ.get(
    "BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# The sessions' Redis of the benchmarks that run no workers.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SESSION_COOKIE = "portal_session"


class BenchError(RuntimeError):
    """The run cannot produce a trustworthy figure; the message says why."""


# --- a run -----------------------------------------------------------------------------------


def run_benchmark(
    prefix: str,
    body: Callable[[Path, contextlib.ExitStack], int],
    failures: tuple[type[Exception], ...] = (),
) -> int:
    """Run body(scratch, cleanup) and return its exit status, or 1 on a BenchError (or one of
    failures). The scratch directory and whatever body pushed on cleanup go at the end, even on
    error or SIGTERM."""
    caught: tuple[type[Exception], ...] = (BenchError, *failures)
    begun = time.monotonic()
    # SIGTERM (a CI timeout) unwinds like Ctrl-C, so the cleanup below still runs.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.ExitStack() as cleanup:
        scratch = Path(tempfile.mkdtemp(prefix=prefix))
        cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)
        try:
            return body(scratch, cleanup)
        except caught as error:
            print(f"FAILED: {error}", file=sys.stderr)
            return 1
        finally:
            print(f"(run took {time.monotonic() - begun:.0f} s; cleaning up)")


def rerun_command(module: str, args: argparse.Namespace) -> str:
    """The command that repeats this run: every option as parsed, flags only when set."""
    options: list[str] = []
    for name, value in vars(args).items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            options.append(flag)
        elif value is not False:
            options += [flag, str(value)]
    command = shlex.join([".venv/bin/python", "-m", f"tests.benchmarks.{module}", *options])
    return f"cd {shlex.quote(str(REPO_ROOT))} && {command}"


def p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


def timed_get(client: httpx.Client, url: str, expected: str) -> float:
    """One GET in milliseconds; anything but a 200 containing the expected text fails the run."""
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or expected not in response.text:
        raise BenchError(f"GET {url}: {response.status_code}, {expected!r} missing")
    return elapsed


# --- the machine -----------------------------------------------------------------------------


def venv_tool(name: str) -> str:
    """A console script of the interpreter running this file (the project's virtualenv)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"{name!r} not found next to {sys.executable} nor on PATH")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def group_cpu_seconds(group: int) -> float:
    """User + system CPU of every live process in a process group (a server and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, pgrp, ..., utime (12th), stime (13th).
        if int(fields[2]) == group:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


# --- the database ----------------------------------------------------------------------------


def database_url(name: str) -> str:
    return POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name


@contextlib.asynccontextmanager
async def connected(url: str, **options: object) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(url, **options)
    try:
        yield connection
    finally:
        await connection.close()


async def admin_sql(statements: list[str]) -> None:
    async with connected(POSTGRES_ADMIN_DSN) as connection:
        for statement in statements:
            await connection.execute(statement)


async def database_comment(name: str) -> str | None:
    """What a generator wrote on the database when it finished (None: never finished)."""
    async with connected(POSTGRES_ADMIN_DSN) as connection:
        found: str | None = await connection.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            name,
        )
    return found


async def secondary_indexes(
    connection: asyncpg.Connection, tables: tuple[str, ...]
) -> list[tuple[str, str]]:
    """The tables' indexes that back no constraint: (name, CREATE INDEX statement). A loader
    drops them before a bulk load and rebuilds them after it, by sorting instead of row by row."""
    rows = await connection.fetch(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        ORDER BY i.tablename, i.indexname
        """,
        list(tables),
    )
    return [(row["indexname"], row["indexdef"]) for row in rows]


def recreate_database(name: str) -> None:
    asyncio.run(
        admin_sql([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'])
    )


def drop_database(name: str) -> None:
    asyncio.run(admin_sql([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']))


# --- the portal ------------------------------------------------------------------------------


def portal_environment(
    data_dir: Path,
    database: str,
    redis_url: str,
    base_url: str,
    *,
    pool_max: int | None = None,
    namespace: str | None = None,
) -> dict[str, str]:
    """This process's environment, less mail and demo settings, pointed at the database."""
    env = dict(os.environ)
    for name in ("SMTP_URL", "PORTAL_DEMO", "PORTAL_DEMO_PASSWORD"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url(database),
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        BASE_URL=base_url,
        PORTAL_DATA_DIR=str(data_dir),
        PICCOLO_CONF="portal.piccolo_conf",
    )
    if pool_max is not None:
        env["DATABASE_POOL_MAX"] = str(pool_max)
    if namespace is not None:
        env["PORTAL_QUEUE_NAMESPACE"] = namespace
    return env


def run_portal_cli(args: list[str], env: Mapping[str, str]) -> str:
    done = subprocess.run(
        [venv_tool("portal"), *args],
        env=dict(env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"portal {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def create_organisation(env: Mapping[str, str], name: str, owner_email: str, owner: str) -> str:
    """`portal org create`; returns the owner's first password."""
    output = run_portal_cli(
        ["org", "create", "--name", name, "--owner-email", owner_email, "--owner-name", owner],
        env,
    )
    found = re.search(r"Initial password for the owner.*: (\S+)\s*$", output, re.MULTILINE)
    if found is None:
        raise BenchError(f"no password in the output of portal org create:\n{output}")
    return found.group(1)


# --- processes -------------------------------------------------------------------------------


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


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def uvicorn_command(app: str, port: int, workers: int) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--app-dir",
        str(REPO_ROOT),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if importlib.util.find_spec("uvloop") is not None:
        command += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools") is not None:
        command += ["--http", "httptools"]
    return command


@contextlib.contextmanager
def served(
    app: str, port: int, workers: int, env: Mapping[str, str], log: Path, ready_path: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Serve an app with uvicorn (the workers of --workers N in its process group) until the
    block ends."""
    with started(uvicorn_command(app, port, workers), env, log) as server:
        wait_until_ready(server, f"http://127.0.0.1:{port}{ready_path}", log)
        yield server


def wait_until_ready(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the server exited ({server.returncode}):\n{log.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"{url} not ready within 30 s:\n{log.read_text()}")


def wait_for_worker(process: subprocess.Popen[bytes], log: Path) -> None:
    """Until a dramatiq worker's log says it is ready."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"a worker exited ({process.returncode}):\n{log.read_text()}")
        if "is ready for action" in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise BenchError(f"a worker was not ready within 60 s:\n{log.read_text()}")


# --- sessions and Redis ----------------------------------------------------------------------


def csrf_token(client: httpx.Client) -> str:
    token = client.cookies.get("csrftoken")
    if not token:
        raise BenchError("no csrftoken cookie")
    return token


def sign_in(client: httpx.Client, email: str, password: str) -> str:
    """Sign in through the form as a browser would; the client keeps the session and CSRF
    cookies (a signed-in browser sends both with every request). Returns the session token."""
    client.get("/sign-in").raise_for_status()
    answer = client.post(
        "/sign-in",
        data={"email": email, "password": password, "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    token = client.cookies.get(SESSION_COOKIE)
    if answer.status_code != 303 or not token:
        raise BenchError(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    return token


@contextlib.contextmanager
def signed_in(
    base_url: str, email: str, password: str, timeout: float = 60
) -> Iterator[httpx.Client]:
    """A client signed in as email; it signs out at the end (the session row goes)."""
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        sign_in(client, email, password)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.post("/sign-out", headers={"x-csrftoken": csrf_token(client)})


def forget_redis_keys(redis_url: str, namespace: str) -> None:
    """A queue namespace's keys: queues, acks, heartbeats."""
    client = redis.Redis.from_url(redis_url)
    try:
        for pattern in (f"{namespace}:*", f"{namespace}.*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.delete(key)
    finally:
        client.close()
