"""Indexes for listing an organisation's users by name or email (keyset pagination).

Written by hand: composite indexes, which piccolo's columns do not declare.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "user listing indexes"

INDEXES = {
    "portal_user_organisation_name": '"portal_user" ("organisation", "full_name", "id")',
    "portal_user_organisation_email": '"portal_user" ("organisation", "email", "id")',
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_indexes():
        for name, target in INDEXES.items():
            await engine_finder().run_ddl(f'CREATE INDEX "{name}" ON {target}')

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f'DROP INDEX "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
