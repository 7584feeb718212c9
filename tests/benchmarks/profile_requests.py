"""Profile: where a signed-in request's server CPU goes, by layer.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python -m tests.benchmarks.profile_requests [--path /api/v1/me] [--requests 3000]

Needs PostgreSQL (BENCH_POSTGRES) like the other benchmarks. Creates and migrates a dedicated
database with one organisation, builds the portal app in this process, signs in through the
app, then sends the same request straight into the ASGI app (no HTTP parsing, no sockets:
what uvicorn adds is the same for every app) under cProfile, and prints the CPU time per request
split by layer (litestar, piccolo and asyncpg, jinja2, the portal's own code, the rest), and the
top functions. Every response is checked (status 200). The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.benchmarks import support

DATABASE_NAME = "portal_bench_profile"
OWNER_EMAIL = "admin@profile.example"
LAYERS = (
    ("litestar", ("/litestar/", "/msgspec/")),
    ("database (piccolo, asyncpg)", ("/piccolo/", "/asyncpg/")),
    ("templates (jinja2)", ("/jinja2/", "/markupsafe/")),
    ("portal", ("/portal/",)),
)


def layer_of(filename: str) -> str:
    for name, markers in LAYERS:
        if any(marker in filename for marker in markers):
            return name
    return "other (asyncio, stdlib)"


class Asgi:
    """Sends requests straight into an ASGI app and keeps each response's status and body."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def request(
        self, method: str, path: str, cookies: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        query = b""
        if "?" in path:
            path, raw = path.split("?", 1)
            query = raw.encode()
        headers = [(b"host", b"profile.local")]
        if cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
            headers.append((b"cookie", cookie.encode()))
        if body:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
            headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        sent = False
        status = 0
        out_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    name = key.decode().lower()
                    text = value.decode()
                    out_headers[name] = (
                        out_headers[name] + "\n" + text if name in out_headers else text
                    )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, out_headers, b"".join(chunks)


def cookies_from(headers: dict[str, str]) -> dict[str, str]:
    found = {}
    for line in headers.get("set-cookie", "").split("\n"):
        if "=" in line:
            name, _, rest = line.partition("=")
            found[name.strip()] = rest.split(";", 1)[0]
    return found


async def sign_in(client: Asgi, password: str) -> dict[str, str]:
    from urllib.parse import urlencode

    _, headers, _ = await client.request("GET", "/sign-in", {})
    cookies = cookies_from(headers)
    body = urlencode(
        {"email": OWNER_EMAIL, "password": password, "_csrf_token": cookies["csrftoken"]}
    ).encode()
    status, headers, _ = await client.request("POST", "/sign-in", cookies, body)
    if status != 303:
        raise support.BenchError(f"sign-in answered {status}")
    return cookies | cookies_from(headers)


async def checked_gets(client: Asgi, path: str, cookies: dict[str, str], times: int) -> None:
    for _ in range(times):
        status, _, _ = await client.request("GET", path, cookies)
        if status != 200:
            raise support.BenchError(f"GET {path} answered {status}")


async def profile(path: str, requests: int, password: str) -> pstats.Stats:
    from portal import db
    from portal.app import create_app
    from portal.settings import load_settings

    app = create_app(load_settings())
    await db.start()
    try:
        client = Asgi(app)
        cookies = await sign_in(client, password)
        await checked_gets(client, path, cookies, 200)  # warm-up: caches, statements
        started = time.process_time()
        await checked_gets(client, path, cookies, requests)
        plain = time.process_time() - started
        profiler = cProfile.Profile()
        started = time.process_time()
        profiler.enable()
        await checked_gets(client, path, cookies, requests)
        profiler.disable()
        total = time.process_time() - started
    finally:
        await db.stop()
    print(
        f"  {requests:,} x GET {path}: {plain / requests * 1e6:.0f} us CPU per request of this "
        f"process (the database's own CPU not counted); {total / requests * 1e6:.0f} us under "
        "the profiler, which adds its own cost to every call"
    )
    return pstats.Stats(profiler)


def report(stats: pstats.Stats, requests: int) -> None:
    own: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        own[layer_of(filename)] += tottime
    total = sum(own.values())
    print("\n  CPU per request by layer (own time of each layer's functions):")
    for layer, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"    {layer:<30} {seconds / requests * 1e6:>7.0f} us  {seconds / total:>5.0%}")
    print("\n  top functions by cumulative time:")
    stats.sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(45)
    if os.environ.get("PROFILE_CALLERS"):
        stats.print_callers(os.environ["PROFILE_CALLERS"])


def benchmark(args: argparse.Namespace, scratch: Path, cleanup: contextlib.ExitStack) -> int:
    env = support.portal_environment(
        scratch / "data", DATABASE_NAME, support.REDIS_URL, "http://profile.local", pool_max=4
    )
    cleanup.callback(support.drop_database, DATABASE_NAME)
    support.recreate_database(DATABASE_NAME)
    support.run_portal_cli(["migrate"], env)
    password = support.create_organisation(env, "Profile Organisation", OWNER_EMAIL, "Owner")
    os.environ.update(env)
    stats = asyncio.run(profile(args.path, args.requests, password))
    report(stats, args.requests)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="where a signed-in request's CPU goes")
    parser.add_argument("--path", default="/api/v1/me")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args(argv)
    return support.run_benchmark("portal-profile-", functools.partial(benchmark, args))


if __name__ == "__main__":
    sys.exit(main())
