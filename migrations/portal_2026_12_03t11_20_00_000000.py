"""Sessions live in the portal's database (issue 10): one query reads a request's session, user
and organisation together, and Redis holds no session any more."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class User(Table, tablename="portal_user", schema=None):
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


ID = "2026-12-03T11:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sessions in the database"

COMMON = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
    "null": False,
}

COLUMNS = (
    ("id", UUID, {"default": UUID4(), "primary_key": True}),
    ("token_hash", Varchar, {"length": 64, "default": "", "unique": True}),
    (
        "user",
        ForeignKey,
        {
            "references": User,
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "index": True,
        },
    ),
    ("epoch", Integer, {"default": 0}),
    ("created_at", Timestamptz, {"default": TimestamptzNow()}),
    ("renewed_at", Timestamptz, {"default": TimestamptzNow(), "index": True}),
    ("notice", Text, {"default": ""}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_table(
        class_name="UserSession", tablename="user_session", schema=None, columns=None
    )
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="UserSession",
            tablename="user_session",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=COMMON | params,
            schema=None,
        )
    return manager
