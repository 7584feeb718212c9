from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Organisation(Table, tablename="organisation", schema=None):
    id = UUID(
        default=UUID4(),
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-12-03T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "cost centres: a managed list per organisation"

COMMON = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

COLUMNS = (
    ("id", UUID, {"default": UUID4(), "null": False, "primary_key": True}),
    (
        "organisation",
        ForeignKey,
        {
            "references": Organisation,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": False,
            "index": True,
        },
    ),
    ("code", Varchar, {"length": 60, "default": "", "null": False}),
    ("name", Varchar, {"length": 100, "default": "", "null": False}),
    ("archived", Boolean, {"default": False, "null": False}),
    ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
    ("updated_at", Timestamptz, {"default": TimestamptzNow(), "null": False}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_table(
        class_name="CostCentre", tablename="cost_centre", schema=None, columns=None
    )
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="CostCentre",
            tablename="cost_centre",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=COMMON | params,
            schema=None,
        )
    return manager
