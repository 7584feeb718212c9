"""Benchmark: the portal's signed-in ``GET /api/v1/me`` and dashboard page against a bare
Litestar hello world.

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
import contextlib
import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.benchmarks import support

WRK_SCRIPT = Path(__file__).with_name("wrk_check.lua")
HELLO_APP = "tests.benchmarks.hello_app:app"
DATABASE_NAME = "portal_bench"
OWNER_EMAIL = "admin@bench.example"
TARGET_RATIO = 0.30
DASHBOARD_TARGET_RATIO = 0.15


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_second: float
    requests: int
    latency_avg: str
    latency_p99: str


# --- the session -----------------------------------------------------------------------------


def check_me(base_url: str, token: str, email: str) -> None:
    """One request exactly as wrk will send it: only the session cookie."""
    answer = httpx.get(
        f"{base_url}/api/v1/me", headers={"Cookie": f"{support.SESSION_COOKIE}={token}"}, timeout=10
    )
    if answer.status_code != 200 or answer.json().get("email") != email:
        raise support.BenchError(f"GET /api/v1/me: {answer.status_code} {answer.text[:300]}")


def sign_out(base_url: str, token: str) -> None:
    """End the session through the app, then check /me refuses the cookie."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.cookies.set(support.SESSION_COOKIE, token)
        client.get("/sign-in")  # for the csrftoken cookie
        csrf = client.cookies.get("csrftoken") or ""
        client.post("/sign-out", data={"_csrf_token": csrf}, follow_redirects=False)
    after = httpx.get(
        f"{base_url}/api/v1/me", headers={"Cookie": f"{support.SESSION_COOKIE}={token}"}, timeout=10
    )
    if after.status_code != 401:
        print(f"  warning: /api/v1/me after sign-out answered {after.status_code}, not 401")


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
        raise support.BenchError(f"wrk failed ({done.returncode}):\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    latency = re.search(r"^\s*Latency\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    if rate is None or total is None:
        raise support.BenchError(f"cannot read wrk's output:\n{output}")
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
        raise support.BenchError("; ".join(problems) + ":\n" + output)
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
    cpu_before = support.group_cpu_seconds(target.server.pid)
    started = time.perf_counter()
    result = run_wrk(command)
    elapsed = time.perf_counter() - started
    cpu = support.group_cpu_seconds(target.server.pid) - cpu_before
    tally.requests += result.requests
    tally.seconds += result.requests / result.requests_per_second
    tally.cpu_seconds += cpu
    print(
        f"  round {round_no} {target.name:<18} {result.requests_per_second:>9,.0f} requests/s"
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


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> int:
    if shutil.which("wrk") is None:
        raise support.BenchError("wrk is not installed (Debian: apt-get install -y wrk)")
    cpus = os.cpu_count() or 1
    print("Request benchmark: signed-in GET /api/v1/me vs a bare Litestar hello world")
    print(
        f"  {cpus} CPUs shared by wrk, uvicorn, PostgreSQL and Redis; "
        f"wrk -t{args.threads} -c{args.connections}; {args.warmup} s warm-up each, then "
        f"{args.rounds} rounds of {args.duration} s per app, alternating"
    )
    print(
        f"  server (both apps): {shlex.join(support.uvicorn_command('<app>', 0, args.workers)[2:])}"
    )
    busy = load_average()
    if busy > cpus / 2:
        print(
            f"  WARNING: load average {busy:.1f} on {cpus} CPUs before starting: other work "
            f"on this machine skews both figures (server CPU per request is less affected)"
        )

    hello_port = support.free_port()
    hello_server = cleanup.enter_context(
        support.served(HELLO_APP, hello_port, args.workers, os.environ, scratch / "hello.log", "/")
    )
    hello_url = f"http://127.0.0.1:{hello_port}/"
    answer = httpx.get(hello_url, timeout=10)
    if answer.status_code != 200 or answer.json() != {"hello": "world"}:
        raise support.BenchError(f"hello world: {answer.status_code} {answer.text[:300]}")
    hello = Target("hello world", hello_url, '"hello":"world"', None, hello_server)

    port = support.free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = support.portal_environment(
        scratch / "data", DATABASE_NAME, support.REDIS_URL, base_url, pool_max=args.pool_max
    )
    cleanup.callback(support.drop_database, DATABASE_NAME)
    support.recreate_database(DATABASE_NAME)
    support.run_portal_cli(["migrate"], env)
    password = support.create_organisation(env, "Bench Organisation", OWNER_EMAIL, "Bench Admin")
    portal_server = cleanup.enter_context(
        support.served(
            support.PORTAL_APP, port, args.workers, env, scratch / "portal.log", "/health"
        )
    )
    session = cleanup.enter_context(support.signed_in(base_url, OWNER_EMAIL, password, timeout=30))
    token, csrf = session.cookies[support.SESSION_COOKIE], support.csrf_token(session)
    check_me(base_url, token, OWNER_EMAIL)
    print(
        f"  portal: database {DATABASE_NAME}, sessions in Redis {support.REDIS_URL}, "
        f"DATABASE_POOL_MAX={args.pool_max}; signed in as {OWNER_EMAIL}, "
        f"GET /api/v1/me with the cookie answers 200"
    )
    me = Target(
        "GET /api/v1/me",
        f"{base_url}/api/v1/me",
        f'"email":"{OWNER_EMAIL}"',
        f"{support.SESSION_COOKIE}={token}; csrftoken={csrf}",
        portal_server,
    )
    dashboard = Target(
        "GET / (dashboard)",
        f"{base_url}/",
        "Welcome, Bench Admin",
        me.cookie,
        portal_server,
    )

    targets = (hello, me, dashboard)
    for target in targets:
        command = wrk_command(target, args, args.duration)
        print(f"  {target.name}: {shown(command, target.cookie)}")
        run_wrk(wrk_command(target, args, args.warmup))
    tallies = {target.name: Tally() for target in targets}
    for round_no in range(1, args.rounds + 1):
        for target in targets:
            measure(target, args, tallies[target.name], round_no)
    print("  every response checked: all 200 with the expected body, no socket errors")
    sign_out(base_url, token)

    hello_tally = tallies[hello.name]
    print()
    print(
        f"{hello.name + ':':<26} {hello_tally.per_second:>10,.0f} requests/s"
        f"   (server CPU {hello_tally.cpu_us_per_request:>6,.0f} us/request)"
    )
    met = True
    for target, wanted in ((me, TARGET_RATIO), (dashboard, DASHBOARD_TARGET_RATIO)):
        tally = tallies[target.name]
        ratio = tally.per_second / hello_tally.per_second
        met &= ratio >= wanted
        print(
            f"{target.name + ':':<26} {tally.per_second:>10,.0f} requests/s"
            f"   (server CPU {tally.cpu_us_per_request:>6,.0f} us/request, PostgreSQL not "
            f"counted); ratio to hello {ratio:.1%}, target >= {wanted:.0%}: "
            f"{'MET' if ratio >= wanted else 'NOT MET'} (by server CPU per request: "
            f"{hello_tally.cpu_us_per_request / tally.cpu_us_per_request:.1%})"
        )
    print(f"re-run: {support.rerun_command('bench_requests', args)}")
    return 0 if met else 2


def main(argv: list[str] | None = None) -> int:
    return support.run_benchmark("portal-bench-", functools.partial(benchmark, parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
