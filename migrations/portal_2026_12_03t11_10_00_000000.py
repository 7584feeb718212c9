"""Who may decide each waiting order: the `approval_eligibility` table the queues read.
Its indexes and its rows for the orders already waiting come in the next migration."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, ForeignKey, Integer, Timestamptz
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-03T11:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "approval eligibility: who may decide each waiting order, for the queues"


class Organisation(Table, tablename="organisation", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True)


class User(Table, tablename="portal_user", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True)


class Order(Table, tablename="portal_order", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True)


COMMON = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


def _reference(table: type[Table]) -> dict:
    return {
        "references": table,
        "on_delete": OnDelete.restrict,
        "on_update": OnUpdate.cascade,
        "target_column": None,
        "null": False,
    }


COLUMNS = (
    ("id", UUID, {"default": UUID4(), "null": False, "primary_key": True}),
    ("order", ForeignKey, _reference(Order)),
    ("organisation", ForeignKey, _reference(Organisation)),
    ("revision", Integer, {"default": 0, "null": False}),
    ("level", Integer, {"default": 0, "null": False}),
    ("approver", ForeignKey, _reference(User)),
    ("submitted_at", Timestamptz, {"default": None, "null": True}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_table(
        class_name="ApprovalEligibility",
        tablename="approval_eligibility",
        schema=None,
        columns=None,
    )
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="ApprovalEligibility",
            tablename="approval_eligibility",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=COMMON | params,
            schema=None,
        )
    return manager
