"""Cost centres: codes unique per organisation, and the list seeded from the free text that
orders, services and approval policies held before it existed.

Written by hand: a composite unique index, which piccolo's columns do not declare, and a data
step. Every distinct value an organisation used becomes an active cost centre of that code
(named as its code, for an admin to rename), so each existing record names one from the list.
Values differing only in letter case become one cost centre, spelled as first met.
"""

import json
from uuid import uuid4

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import JSON, UUID, Boolean, Varchar
from piccolo.engine.finder import engine_finder
from piccolo.table import Table

ID = "2026-12-03T10:30:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "cost centre codes unique per organisation; the list from existing values"

INDEX = (
    'CREATE UNIQUE INDEX "cost_centre_code" ON "cost_centre" ("organisation", "code")'
)


# The tables as this migration knows them, whatever the code's tables become later.
class _Centre(Table, tablename="cost_centre"):
    id = UUID(primary_key=True)
    organisation = UUID()
    code = Varchar(length=60)
    name = Varchar(length=100)
    archived = Boolean(default=False)


class _Order(Table, tablename="portal_order"):
    id = UUID(primary_key=True)
    organisation = UUID()
    cost_centre = Varchar(length=60)


class _Service(Table, tablename="service"):
    id = UUID(primary_key=True)
    organisation = UUID()
    cost_centre = Varchar(length=60)


class _Policy(Table, tablename="approval_policy"):
    id = UUID(primary_key=True)
    organisation = UUID()
    cost_centres = JSON()


async def _used_values():
    used = []
    for table in (_Order, _Service):
        rows = (
            await table.select(table.organisation, table.cost_centre)
            .where(table.cost_centre != "")
            .distinct()
        )
        used += [(row["organisation"], row["cost_centre"]) for row in rows]
    for row in await _Policy.select(_Policy.organisation, _Policy.cost_centres):
        listed = row["cost_centres"]
        listed = json.loads(listed) if isinstance(listed, str) else listed
        used += [(row["organisation"], str(code)) for code in listed or []]
    return used


async def seed_from_existing_values():
    seen = set()
    centres = []
    for organisation, code in sorted(await _used_values(), key=lambda pair: str(pair)):
        code = code.strip()[:60]
        key = (organisation, code.casefold())
        if not code or key in seen:
            continue
        seen.add(key)
        centres.append(
            _Centre(id=uuid4(), organisation=organisation, code=code, name=code[:100])
        )
    if centres:
        await _Centre.insert(*centres)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(INDEX)

    async def drop_index():
        await engine_finder().run_ddl('DROP INDEX "cost_centre_code"')

    manager.add_raw(create_index)
    manager.add_raw(seed_from_existing_values)
    manager.add_raw_backwards(drop_index)
    return manager
