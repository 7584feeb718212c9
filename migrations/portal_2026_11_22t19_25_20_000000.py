"""At most one pending invitation per user.

Written by hand: a partial unique index, which piccolo does not model, and which SQLite and
PostgreSQL both support. Two admins inviting or resending at the same moment therefore leave
exactly one live link.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T19:25:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "one pending invitation per user"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(
            'CREATE UNIQUE INDEX "invitation_one_pending_per_user" '
            "ON \"invitation\" (\"user\") WHERE \"status\" = 'pending'"
        )

    async def drop_index():
        await engine_finder().run_ddl('DROP INDEX "invitation_one_pending_per_user"')

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
