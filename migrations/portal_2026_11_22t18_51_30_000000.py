"""Composite unique indexes.

Written by hand: piccolo's Unique constraint becomes ALTER TABLE ... ADD CONSTRAINT, which
SQLite does not support, while a unique index works on SQLite and PostgreSQL alike.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T18:51:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"

UNIQUE_INDEXES = {
    "user_override_one_per_area_and_kind": ("user_override", ("user", "area", "kind")),
    "permission_policy_name_unique": ("permission_policy", ("organisation", "name")),
    "policy_grant_one_per_area": ("policy_grant", ("policy", "area")),
    "role_name_unique": ("role", ("organisation", "name")),
    "role_policy_once": ("role_policy", ("role", "policy")),
    "user_role_once": ("user_role", ("user", "role")),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for name, (table, columns) in UNIQUE_INDEXES.items():
            column_list = ", ".join(f'"{column}"' for column in columns)
            await engine.run_ddl(f'CREATE UNIQUE INDEX "{name}" ON "{table}" ({column_list})')

    async def drop_indexes():
        engine = engine_finder()
        for name in UNIQUE_INDEXES:
            await engine.run_ddl(f'DROP INDEX "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
