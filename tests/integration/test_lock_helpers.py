"""The lock helpers of portal/db.py refuse to run outside a transaction, on SQLite and on
PostgreSQL alike: there a lock would be released at once or never taken, and the rule it
serialises would race without anyone noticing."""

from __future__ import annotations

import pytest

from portal import db
from portal.organisations.tables import Organisation
from tests.conftest import Tenant


async def test_lock_organisation_refuses_outside_a_transaction(acme: Tenant) -> None:
    with pytest.raises(RuntimeError, match=r"^lock_organisation\(\) was called outside a trans"):
        await db.lock_organisation(acme.id)


async def test_for_update_refuses_outside_a_transaction(acme: Tenant) -> None:
    query = Organisation.select(Organisation.id).where(Organisation.id == acme.id)
    with pytest.raises(RuntimeError, match=r"^for_update\(\) was called outside a transaction"):
        db.for_update(query)


async def test_both_lock_inside_write_transaction(acme: Tenant) -> None:
    async with db.write_transaction():
        await db.lock_organisation(acme.id)
        row = await db.for_update(
            Organisation.select(Organisation.id).where(Organisation.id == acme.id)
        ).first()
    assert row == {"id": acme.id}
