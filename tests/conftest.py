"""Shared fixtures: a real database (SQLite or PostgreSQL), migrated once per run and emptied
before each test that touches it, the app served in-process, and members to sign in as."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import dramatiq
import pytest
from argon2 import profiles

from tests.database import configure_environment, drop_database, empty_tables

DATA_DIR = configure_environment()

# Imported only now: the environment above decides which engine piccolo binds.
from litestar import Litestar  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from portal import db, jobs  # noqa: E402
from portal.activity.log import Actor  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.auth import passwords  # noqa: E402
from portal.migrate import migrate  # noqa: E402
from portal.organisations.service import NewMember, add_member, create_organisation  # noqa: E402
from portal.permissions.model import Tier  # noqa: E402
from portal.piccolo_app import TABLES  # noqa: E402
from portal.settings import Settings, load_settings  # noqa: E402

PASSWORD = "correct horse battery staple 42"

# Still argon2id, at its cheapest parameters: every test makes and checks a few passwords, at
# 0.1-0.2 s each with the production parameters (the browser tests' `portal run` keeps those).
passwords.use_parameters(profiles.CHEAPEST)
BASE_URL = "http://testserver.local"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_database()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def migrated() -> None:
    asyncio.run(migrate())


@pytest.fixture
async def database(migrated: None) -> AsyncIterator[None]:
    """An empty, migrated database for one test."""
    await db.start()
    await empty_tables(TABLES)
    try:
        yield
    finally:
        await db.stop()


@pytest.fixture
def settings(database: None) -> Settings:
    return load_settings()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@dataclass(frozen=True, slots=True)
class Member:
    id: UUID
    organisation_id: UUID
    email: str
    tier: Tier
    password: str = PASSWORD

    @property
    def actor(self) -> Actor:
        """The member acting outside a request, as the command line and tests do."""
        return Actor(self.id, self.organisation_id)


@dataclass(frozen=True, slots=True)
class Tenant:
    id: UUID
    name: str
    admin: Member
    manager: Member
    user: Member


async def make_tenant(name: str) -> Tenant:
    """An organisation with an owner-admin, a manager and a user, all active."""
    slug = name.lower().replace(" ", "-")
    admin_email = f"admin@{slug}.example"
    organisation_id = await create_organisation(
        name, NewMember(admin_email, f"{name} Admin", Tier.ADMIN, PASSWORD)
    )
    from portal.users.tables import User

    admin = await User.select(User.id).where(User.email == admin_email).first()
    assert admin is not None
    admin_id = admin["id"]
    members: dict[Tier, Member] = {
        Tier.ADMIN: Member(admin_id, organisation_id, admin_email, Tier.ADMIN)
    }
    async with db.write_transaction():
        for tier in (Tier.MANAGER, Tier.USER):
            email = f"{tier.value}@{slug}.example"
            user_id = await add_member(
                organisation_id, name, NewMember(email, f"{name} {tier.value}", tier, PASSWORD)
            )
            members[tier] = Member(user_id, organisation_id, email, tier)
    return Tenant(
        organisation_id, name, members[Tier.ADMIN], members[Tier.MANAGER], members[Tier.USER]
    )


@pytest.fixture
async def acme(database: None) -> Tenant:
    return await make_tenant("Acme")


@pytest.fixture
async def globex(database: None) -> Tenant:
    return await make_tenant("Globex")


def csrf_token(client: AsyncTestClient[Any]) -> str:
    token = client.cookies.get("csrftoken")
    assert token, "no CSRF cookie yet: GET a page first"
    return token


def csrf_header(client: AsyncTestClient[Any]) -> dict[str, str]:
    """What an API client sends with a write: the CSRF token as a header."""
    return {"x-csrftoken": csrf_token(client)}


def with_csrf(client: AsyncTestClient[Any], **fields: Any) -> dict[str, Any]:
    """A form's fields with the CSRF token, as the page's form sends them."""
    return {**fields, "_csrf_token": csrf_token(client)}


async def sign_in(client: AsyncTestClient[Any], email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real form, as a browser would; returns the POST response."""
    await client.get("/sign-in")
    return await client.post(
        "/sign-in",
        data={"email": email, "password": password, "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )


@contextmanager
def broker_in_use(broker: dramatiq.Broker) -> Iterator[None]:
    """Send this process's wake-ups (`portal.jobs`) through `broker` for a while: a Redis that
    is down, or one that a `portal worker` subprocess listens to, as REDIS_URL does."""
    real = jobs.process_broker()
    dramatiq.set_broker(broker)
    try:
        yield
    finally:
        dramatiq.set_broker(real)


@pytest.fixture
def env_restorer() -> Iterator[dict[str, str]]:
    saved = dict(os.environ)
    yield os.environ  # type: ignore[misc]
    os.environ.clear()
    os.environ.update(saved)


@dataclass
class ReceivedMail:
    to: list[str]
    message: Any  # email.message.EmailMessage


class MailSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(ReceivedMail(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[MailSink, str]]:
    """(sink, smtp_url) of a fresh aiosmtpd server on a free loopback port."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
