"""Sessions live in the portal's database (issue 10): one row per signed-in browser, holding a
hash of the token; its last use written at most once a minute; Redis holds none, so a portal
whose Redis is down keeps everybody signed in."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from portal.app import create_app
from portal.auth.sessions import purge_expired
from portal.auth.tables import UserSession
from portal.settings import Settings
from tests.conftest import BASE_URL, Tenant, csrf_header, sign_in

REDIS_URL = "redis://127.0.0.1:6379/14"
NOTHING_LISTENS = "redis://127.0.0.1:1/0"
Client = AsyncTestClient[Any]


async def test_a_session_is_a_row_with_a_hash_of_its_token(
    settings: Settings, acme: Tenant
) -> None:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    app = create_app(dataclasses.replace(settings, redis_url=REDIS_URL))
    try:
        async with AsyncTestClient(app, base_url=BASE_URL) as client:
            await sign_in(client, acme.admin.email)
            token = client.cookies["portal_session"]
            rows = await UserSession.select()
            assert len(rows) == 1 and rows[0]["user"] == acme.admin.id
            assert token not in rows[0]["token_hash"] and len(rows[0]["token_hash"]) == 64
            assert [key async for key in redis.scan_iter("*session*")] == []
            first_seen = rows[0]["renewed_at"]
            for _ in range(3):
                assert (await client.get("/api/v1/me")).status_code == 200
            # Within the minute nothing is written: reads stay reads.
            assert (await UserSession.select(UserSession.renewed_at).first()) == {
                "renewed_at": first_seen
            }
            await client.post("/sign-out", headers=csrf_header(client))
            assert await UserSession.count() == 0
            assert (await client.get("/api/v1/me")).status_code == 401
    finally:
        await redis.flushdb()
        await redis.aclose()


async def test_last_use_is_written_once_it_is_a_minute_old(client: Client, acme: Tenant) -> None:
    await sign_in(client, acme.admin.email)
    minutes_ago = datetime.now(UTC) - timedelta(minutes=2)
    await UserSession.update({UserSession.renewed_at: minutes_ago}, force=True)
    assert (await client.get("/api/v1/me")).status_code == 200
    row = await UserSession.select(UserSession.renewed_at).first()
    assert row is not None and row["renewed_at"] > minutes_ago + timedelta(minutes=1)


async def test_an_idle_session_ends_and_the_purge_removes_it(client: Client, acme: Tenant) -> None:
    await sign_in(client, acme.admin.email)
    await UserSession.update(
        {UserSession.renewed_at: datetime.now(UTC) - timedelta(minutes=31)}, force=True
    )
    assert (await client.get("/api/v1/me")).status_code == 401
    assert await UserSession.count() == 0  # refused and deleted on the spot
    await sign_in(client, acme.user.email)
    await UserSession.update(
        {UserSession.created_at: datetime.now(UTC) - timedelta(hours=13)}, force=True
    )
    assert await purge_expired() == 1
    assert await purge_expired() == 0


async def test_a_deactivation_ends_the_session_on_the_very_next_request(
    app: Any, client: Client, acme: Tenant
) -> None:
    async with AsyncTestClient(app, base_url=BASE_URL) as user:
        await sign_in(user, acme.user.email)
        assert (await user.get("/api/v1/me")).status_code == 200
        await sign_in(client, acme.admin.email)
        done = await client.post(
            f"/api/v1/users/{acme.user.id}/deactivate",
            json={"reason": "left"},
            headers=csrf_header(client),
        )
        assert done.status_code == 200, done.text
        assert (await user.get("/api/v1/me")).status_code == 401


async def test_signed_in_people_keep_browsing_while_redis_is_down(
    settings: Settings, acme: Tenant
) -> None:
    app = create_app(dataclasses.replace(settings, redis_url=NOTHING_LISTENS))
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        assert (await sign_in(client, acme.admin.email)).status_code == 303
        for path in ("/", "/orders", "/approvals", "/services", "/settings/activity"):
            assert (await client.get(path)).status_code == 200, path
        assert (await client.get("/api/v1/me")).json()["email"] == acme.admin.email
        assert (await client.get("/ready")).status_code == 503
