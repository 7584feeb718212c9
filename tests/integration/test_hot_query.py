"""The per-request statement: the same row through asyncpg's pool as through piccolo."""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine

from portal.db import HotQuery, engine
from tests.conftest import Tenant

QUERY = HotQuery('SELECT "email", "tier" FROM "portal_user" WHERE "id" = {} AND "tier" = {}')


def test_placeholders_become_numbered_parameters_for_postgresql() -> None:
    assert QUERY.postgres.endswith('WHERE "id" = $1 AND "tier" = $2')
    assert HotQuery("SELECT 1").postgres == "SELECT 1"


async def test_a_row_and_no_row_alike_with_and_without_a_pool(acme: Tenant) -> None:
    database = engine()
    expected = {"email": acme.manager.email, "tier": "manager"}
    assert dict(await QUERY.fetch_row(acme.manager.id, "manager")) == expected
    assert await QUERY.fetch_row(acme.manager.id, "admin") is None
    if isinstance(database, PostgresEngine):
        await database.start_connection_pool(min_size=1, max_size=2)
        try:
            assert database.pool is not None
            assert dict(await QUERY.fetch_row(acme.manager.id, "manager")) == expected
            assert await QUERY.fetch_row(acme.manager.id, "admin") is None
        finally:
            await database.close_connection_pool()
