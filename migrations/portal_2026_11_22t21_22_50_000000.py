"""Indexes for orders, decisions and approval policies.

Written by hand: composite and unique indexes, which piccolo's columns do not declare.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T21:22:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "order and approval policy indexes"

INDEXES = {
    "portal_order_number": 'CREATE UNIQUE INDEX "portal_order_number" '
    'ON "portal_order" ("organisation", "number")',
    # The queue and the order list: an organisation's orders by state, oldest first.
    "portal_order_queue": 'CREATE INDEX "portal_order_queue" '
    'ON "portal_order" ("organisation", "status", "submitted_at", "id")',
    "portal_order_listing": 'CREATE INDEX "portal_order_listing" '
    'ON "portal_order" ("organisation", "created_at", "id")',
    # Each approver decides once per level of a revision; concurrent clicks meet here.
    "order_decision_once": 'CREATE UNIQUE INDEX "order_decision_once" '
    'ON "order_decision" ("order", "revision", "level", "approver")',
    "approval_policy_name": 'CREATE UNIQUE INDEX "approval_policy_name" '
    'ON "approval_policy" ("organisation", "name")',
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_indexes():
        for statement in INDEXES.values():
            await engine_finder().run_ddl(statement)

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f'DROP INDEX "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
