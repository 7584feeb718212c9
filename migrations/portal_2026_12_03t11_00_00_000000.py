"""Workers as one cluster: a lease row per periodic job, an email's next attempt, a batch's
lease."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Integer, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "periodic job leases; email next_attempt_at; invitation batch leases"

COMMON = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

JOB_COLUMNS = (
    ("name", Varchar, {"length": 100, "default": "", "null": False, "primary_key": True}),
    # BigInt: periods of under a second since the epoch pass 2**31.
    ("period", BigInt, {"default": -1, "null": False}),
    ("holder", Varchar, {"length": 200, "default": "", "null": False}),
    ("lease_until", Timestamptz, {"default": None, "null": True}),
    ("last_run_at", Timestamptz, {"default": None, "null": True}),
    ("runs", Integer, {"default": 0, "null": False}),
)

ADDED = (
    ("OutboundEmail", "outbound_email", "next_attempt_at", Timestamptz, {"default": None, "null": True}),
    ("InvitationBatch", "invitation_batch", "lease_until", Timestamptz, {"default": None, "null": True}),
    ("InvitationBatch", "invitation_batch", "holder", Varchar, {"length": 200, "default": "", "null": False}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_table(
        class_name="ScheduledJob", tablename="scheduled_job", schema=None, columns=None
    )
    for name, column_class, params in JOB_COLUMNS:
        manager.add_column(
            table_class_name="ScheduledJob",
            tablename="scheduled_job",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=COMMON | params,
            schema=None,
        )
    for class_name, table, name, column_class, params in ADDED:
        manager.add_column(
            table_class_name=class_name,
            tablename=table,
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=COMMON | params,
            schema=None,
        )
    return manager
