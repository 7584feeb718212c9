"""Index for listing an organisation's services by name (keyset pagination).

Written by hand: a composite index, which piccolo's columns do not declare.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T20:44:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "service listing index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(
            'CREATE INDEX "service_organisation_name" ON "service" ("organisation", "name", "id")'
        )

    async def drop_index():
        await engine_finder().run_ddl('DROP INDEX "service_organisation_name"')

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
