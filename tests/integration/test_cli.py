"""The `portal` command as the operator runs it: a real subprocess on the test database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.organisations.tables import Organisation
from portal.users.tables import User
from tests.conftest import sign_in

PORTAL = str(Path(sys.executable).parent / "portal")
REDIS_URL = "redis://127.0.0.1:6379/13"


def portal(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PORTAL, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_operator_creates_an_organisation_whose_owner_can_sign_in(
    database: None, client: AsyncTestClient[Litestar]
) -> None:
    result = portal(
        "org",
        "create",
        "--name",
        "Initech",
        "--owner-email",
        "Peter@Initech.example",
        "--owner-name",
        "Peter Gibbons",
    )
    assert result.returncode == 0, result.stderr
    password = re.search(r"shown once; hand it over securely\): (\S+)", result.stdout)
    assert password is not None, result.stdout
    owner = await User.select().where(User.email == "peter@initech.example").first()
    assert owner is not None
    assert owner["is_owner"] and owner["tier"] == "admin" and owner["status"] == "active"
    assert password.group(1) not in owner["password_hash"]
    response = await sign_in(client, "peter@initech.example", password.group(1))
    assert response.status_code == 303


async def test_operator_mistakes_get_clear_messages_and_change_nothing(database: None) -> None:
    first = portal(
        "org",
        "create",
        "--name",
        "Initech",
        "--owner-email",
        "a@initech.example",
        "--owner-name",
        "A",
    )
    assert first.returncode == 0, first.stderr
    cases = [
        (
            ("--name", " initech ", "--owner-email", "b@initech.example", "--owner-name", "B"),
            "already exists",
        ),
        (
            ("--name", "Other", "--owner-email", "A@INITECH.example", "--owner-name", "B"),
            "already in use",
        ),
        (
            ("--name", "Other", "--owner-email", "not-an-email", "--owner-name", "B"),
            "not a valid email",
        ),
        (
            ("--name", "x" * 10_000, "--owner-email", "c@other.example", "--owner-name", "C"),
            "1 to 200 characters",
        ),
    ]
    for args, message in cases:
        result = portal("org", "create", *args)
        assert result.returncode == 1
        assert message in result.stderr
    assert await Organisation.count() == 1
    assert await User.count() == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/portal"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("BASE_URL", "ftp://portal"),
        ("SECRET_KEY", "short"),
        ("DATABASE_POOL_MAX", "lots"),
    ],
)
def test_a_wrong_setting_fails_at_start_naming_it(variable: str, value: str) -> None:
    result = portal("migrate", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


def test_worker_refuses_to_start_without_redis() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [PORTAL, "worker"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stderr


def test_worker_processes_consume_jobs_from_redis(migrated: None) -> None:
    namespace = f"portal-test-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=REDIS_URL, namespace=namespace)
    broker.declare_queue("default")
    broker.enqueue(
        Message(
            queue_name="default",
            actor_name="purge_expired_sessions",
            args=(),
            kwargs={},
            options={},
        )
    )
    worker = subprocess.Popen(
        [PORTAL, "worker", "--processes", "1", "--threads", "1"],
        env={**os.environ, "REDIS_URL": REDIS_URL, "PORTAL_QUEUE_NAMESPACE": namespace},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        started = time.monotonic()
        broker.join("default", timeout=60_000)
        assert time.monotonic() - started < 60
        assert worker.poll() is None, "the worker exited instead of serving"
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        broker.flush_all()
        broker.close()
    assert "Traceback" not in output


def test_migrate_says_what_it_applied_and_then_that_nothing_is_left(tmp_path: Path) -> None:
    # The embedded default: a fresh SQLite database in its own data directory.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PORTAL_DATA_DIR"] = str(tmp_path)

    def migrate() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PORTAL, "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    first = migrate()
    assert first.returncode == 0, first.stderr
    migrations = sorted(p for p in (Path(__file__).parents[2] / "migrations").glob("portal_*.py"))
    assert first.stdout.startswith(f"Applied {len(migrations)} migrations: ")
    assert "already complete" not in first.stdout and "not yet run" not in first.stdout
    again = migrate()
    assert again.stdout.strip() == "The database is up to date: no migration to apply."
