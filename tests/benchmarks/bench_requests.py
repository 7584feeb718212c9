"""Benchmark: the portal's signed-in ``GET /api/v1/me`` against a bare Litestar hello world.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python -m tests.benchmarks.bench_requests [--duration 10] [--connections 32]

Needs PostgreSQL (BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres, a role
that may create databases), Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/15) and wrk.

One run: serves the hello world (tests/benchmarks/hello_app.py) and the portal with the same
uvicorn command (same worker count, loop and HTTP parser); creates and migrates a dedicated
database and an organisation with its admin (``portal org create``); signs in over HTTP for the
``portal_session`` cookie; warms each app up, then loads them in alternating rounds with the
same wrk settings from loopback (alternating evens out other load on a shared machine), and
prints requests/s and the server's CPU time per request (read from /proc). Every response is
checked (tests/benchmarks/wrk_check.lua): any non-200, any body without the expected text or
any socket error fails the run. Servers, the session and the database are removed at the end,
even on error. Exit status: 0 target met, 2 target missed, 1 failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

REPO_ROOT = Path(__file__).resolve().parents[2]
WRK_SCRIPT = Path(__file__).with_name("wrk_check.lua")
HELLO_APP = "tests.benchmarks.hello_app:app"
PORTAL_APP = "portal.asgi:app"
POSTGRES_ADMIN_DSN = os.environ.get(
    "BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASE_NAME = "portal_bench"
OWNER_EMAIL = "admin@bench.example"
SESSION_COOKIE = "portal_session"
TARGET_RATIO = 0.30


class BenchError(RuntimeError):
    """The run cannot produce a trustworthy figure; the message says why."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_second: float
    requests: int
    latency_avg: str
    latency_p99: str


# --- the environment -------------------------------------------------------------------------


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


def portal_environment(data_dir: Path, port: int, pool_max: int) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SMTP_URL", "PORTAL_DEMO", "PORTAL_DEMO_PASSWORD"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=REDIS_URL,
        SECRET_KEY=secrets.token_urlsafe(48),
        BASE_URL=f"http://127.0.0.1:{port}",
        DATABASE_POOL_MAX=str(pool_max),
        PORTAL_DATA_DIR=str(data_dir),
        PICCOLO_CONF="portal.piccolo_conf",
    )
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


def create_owner(env: Mapping[str, str]) -> str:
    """Create the organisation and its admin; returns the admin's first password."""
    output = run_portal_cli(
        [
            "org",
            "create",
            "--name",
            "Bench Organisation",
            "--owner-email",
            OWNER_EMAIL,
            "--owner-name",
            "Bench Admin",
        ],
        env,
    )
    found = re.search(r"Initial password for the owner.*: (\S+)\s*$", output, re.MULTILINE)
    if found is None:
        raise BenchError(f"no password in the output of portal org create:\n{output}")
    return found.group(1)


# --- servers ---------------------------------------------------------------------------------


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
    """Serve an app with uvicorn until the block ends; the server is always stopped."""
    command = uvicorn_command(app, port, workers)
    with log.open("wb") as log_file:
        # Its own process group, so the workers of --workers N are stopped with it.
        server = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(server, f"http://127.0.0.1:{port}{ready_path}", log)
        yield server
    finally:
        stop(server)


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


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def group_cpu_seconds(group: int) -> float:
    """User + system CPU of every live process in a process group (the server and workers)."""
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


# --- the session -----------------------------------------------------------------------------


def sign_in(base_url: str, email: str, password: str) -> tuple[str, str]:
    """Sign in through the form as a browser would; returns the session and CSRF cookies'
    values (a signed-in browser holds both and sends both with every request)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.get("/sign-in").raise_for_status()
        csrf = client.cookies.get("csrftoken")
        if not csrf:
            raise BenchError("GET /sign-in set no csrftoken cookie")
        answer = client.post(
            "/sign-in",
            data={"email": email, "password": password, "_csrf_token": csrf},
            follow_redirects=False,
        )
        token = client.cookies.get(SESSION_COOKIE)
        if answer.status_code != 303 or not token:
            raise BenchError(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
        return token, csrf


def check_me(base_url: str, token: str, email: str) -> None:
    """One request exactly as wrk will send it: only the session cookie."""
    answer = httpx.get(
        f"{base_url}/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={token}"}, timeout=10
    )
    if answer.status_code != 200 or answer.json().get("email") != email:
        raise BenchError(f"GET /api/v1/me: {answer.status_code} {answer.text[:300]}")


def sign_out(base_url: str, token: str) -> None:
    """End the session through the app, then check /me refuses the cookie."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.cookies.set(SESSION_COOKIE, token)
        client.get("/sign-in")  # for the csrftoken cookie
        csrf = client.cookies.get("csrftoken") or ""
        client.post("/sign-out", data={"_csrf_token": csrf}, follow_redirects=False)
    after = httpx.get(
        f"{base_url}/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={token}"}, timeout=10
    )
    if after.status_code != 401:
        print(f"  warning: /api/v1/me after sign-out answered {after.status_code}, not 401")


def forget_session(token: str) -> None:
    """Belt and braces: remove the session's key from Redis (the portal's store layout)."""
    key = "portal:session:" + hashlib.sha256(token.encode()).hexdigest()
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.delete(key)
    finally:
        client.close()


# --- load ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """One app under load: where, what every response must contain, and its server."""

    name: str
    url: str
    expected: str
    cookie: str | None
    server: subprocess.Popen[bytes]


def wrk_command(target: Target, args: argparse.Namespace, seconds: int) -> list[str]:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    if target.cookie is not None:
        command += ["-H", f"Cookie: {target.cookie}"]
    return [*command, "-s", str(WRK_SCRIPT), target.url, "--", target.expected]


def shown(command: list[str], cookie: str | None) -> str:
    """The command as printed: the session token left out."""
    text = shlex.join(command)
    return (
        text.replace(cookie, "portal_session=<session token>; csrftoken=<csrf token>")
        if cookie
        else text
    )


def run_wrk(command: list[str]) -> WrkResult:
    """Run wrk; any non-200, unexpected body or socket error fails the run."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    latency = re.search(r"^\s*Latency\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    if rate is None or total is None:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    problems = []
    if "Non-2xx or 3xx responses" in output:
        problems.append("wrk reports non-2xx/3xx responses")
    if "Socket errors" in output:
        problems.append("wrk reports socket errors")
    for label in ("non-200 responses", "200 without expected text"):
        counted = re.search(rf"^{label}: (\d+)$", output, re.MULTILINE)
        if counted is None:
            problems.append(f"no {label!r} count from {WRK_SCRIPT.name}")
        elif int(counted.group(1)):
            problems.append(f"{counted.group(1)} {label}")
    if problems:
        raise BenchError("; ".join(problems) + ":\n" + output)
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        latency_avg=latency.group(1) if latency else "?",
        latency_p99=p99.group(1) if p99 else "?",
    )


@dataclass(slots=True)
class Tally:
    requests: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / self.requests * 1e6


def measure(target: Target, args: argparse.Namespace, tally: Tally, round_no: int) -> None:
    command = wrk_command(target, args, args.duration)
    cpu_before = group_cpu_seconds(target.server.pid)
    started = time.perf_counter()
    result = run_wrk(command)
    elapsed = time.perf_counter() - started
    cpu = group_cpu_seconds(target.server.pid) - cpu_before
    tally.requests += result.requests
    tally.seconds += result.requests / result.requests_per_second
    tally.cpu_seconds += cpu
    print(
        f"  round {round_no} {target.name:<16} {result.requests_per_second:>9,.0f} requests/s"
        f"  latency avg {result.latency_avg:>8}, p99 {result.latency_p99:>8}"
        f"  server CPU {cpu / result.requests * 1e6:>6,.0f} us/request"
        f" ({cpu / elapsed:.0%} of a core)"
    )


# --- the run ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GET /api/v1/me signed in vs hello world")
    parser.add_argument("--duration", type=int, default=10, help="seconds per app per round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per app")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of load before measuring")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for both apps")
    parser.add_argument("--pool-max", type=int, default=10, help="DATABASE_POOL_MAX")
    return parser.parse_args(argv)


def rerun_command(args: argparse.Namespace) -> str:
    return (
        f"cd {shlex.quote(str(REPO_ROOT))} && .venv/bin/python -m tests.benchmarks.bench_requests"
        f" --rounds {args.rounds} --duration {args.duration} --warmup {args.warmup}"
        f" --threads {args.threads} --connections {args.connections}"
        f" --workers {args.workers} --pool-max {args.pool_max}"
    )


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> float:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (Debian: apt-get install -y wrk)")
    cpus = os.cpu_count() or 1
    print("Request benchmark: signed-in GET /api/v1/me vs a bare Litestar hello world")
    print(
        f"  {cpus} CPUs shared by wrk, uvicorn, PostgreSQL and Redis; "
        f"wrk -t{args.threads} -c{args.connections}; {args.warmup} s warm-up each, then "
        f"{args.rounds} rounds of {args.duration} s per app, alternating"
    )
    print(f"  server (both apps): {shlex.join(uvicorn_command('<app>', 0, args.workers)[2:])}")
    busy = load_average()
    if busy > cpus / 2:
        print(
            f"  WARNING: load average {busy:.1f} on {cpus} CPUs before starting: other work "
            f"on this machine skews both figures (server CPU per request is less affected)"
        )

    hello_port = free_port()
    hello_server = cleanup.enter_context(
        served(HELLO_APP, hello_port, args.workers, os.environ, scratch / "hello.log", "/")
    )
    hello_url = f"http://127.0.0.1:{hello_port}/"
    answer = httpx.get(hello_url, timeout=10)
    if answer.status_code != 200 or answer.json() != {"hello": "world"}:
        raise BenchError(f"hello world: {answer.status_code} {answer.text[:300]}")
    hello = Target("hello world", hello_url, '"hello":"world"', None, hello_server)

    port = free_port()
    env = portal_environment(scratch / "data", port, args.pool_max)
    cleanup.callback(drop_database)
    create_database()
    run_portal_cli(["migrate"], env)
    password = create_owner(env)
    base_url = f"http://127.0.0.1:{port}"
    portal_server = cleanup.enter_context(
        served(PORTAL_APP, port, args.workers, env, scratch / "portal.log", "/health")
    )
    token, csrf = sign_in(base_url, OWNER_EMAIL, password)
    cleanup.callback(forget_session, token)
    check_me(base_url, token, OWNER_EMAIL)
    print(
        f"  portal: database {DATABASE_NAME}, sessions in Redis {REDIS_URL}, "
        f"DATABASE_POOL_MAX={args.pool_max}; signed in as {OWNER_EMAIL}, "
        f"GET /api/v1/me with the cookie answers 200"
    )
    me = Target(
        "GET /api/v1/me",
        f"{base_url}/api/v1/me",
        f'"email":"{OWNER_EMAIL}"',
        f"{SESSION_COOKIE}={token}; csrftoken={csrf}",
        portal_server,
    )

    for target in (hello, me):
        command = wrk_command(target, args, args.duration)
        print(f"  {target.name}: {shown(command, target.cookie)}")
        run_wrk(wrk_command(target, args, args.warmup))
    tallies = {hello.name: Tally(), me.name: Tally()}
    for round_no in range(1, args.rounds + 1):
        for target in (hello, me):
            measure(target, args, tallies[target.name], round_no)
    print("  every response checked: all 200 with the expected body, no socket errors")
    sign_out(base_url, token)

    hello_tally, me_tally = tallies[hello.name], tallies[me.name]
    ratio = me_tally.per_second / hello_tally.per_second
    met = ratio >= TARGET_RATIO
    print()
    print(
        f"hello world:               {hello_tally.per_second:>10,.0f} requests/s"
        f"   (server CPU {hello_tally.cpu_us_per_request:>6,.0f} us/request)"
    )
    print(
        f"GET /api/v1/me, signed in: {me_tally.per_second:>10,.0f} requests/s"
        f"   (server CPU {me_tally.cpu_us_per_request:>6,.0f} us/request, "
        f"PostgreSQL and Redis not counted)"
    )
    print(
        f"ratio /me / hello world:   {ratio:>10.1%}"
        f"   (target >= {TARGET_RATIO:.0%}: {'MET' if met else 'NOT MET'}; by server CPU "
        f"per request: {hello_tally.cpu_us_per_request / me_tally.cpu_us_per_request:.1%})"
    )
    print(f"re-run: {rerun_command(args)}")
    return ratio


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        scratch = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)
        try:
            ratio = benchmark(args, scratch, cleanup)
        except BenchError as error:
            print(f"FAILED: {error}", file=sys.stderr)
            return 1
        finally:
            print(f"(run took {time.monotonic() - started:.0f} s; cleaning up)")
    return 0 if ratio >= TARGET_RATIO else 2


if __name__ == "__main__":
    sys.exit(main())
