"""The activity log's events name what they are about: a kind and an id."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "activity log: what each event is about"


def _column(name: str, column_class: type, params: dict) -> dict:
    return {
        "table_class_name": "ActivityEvent",
        "tablename": "activity_event",
        "column_name": name,
        "db_column_name": name,
        "column_class_name": column_class.__name__,
        "column_class": column_class,
        "params": {
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
            **params,
        },
        "schema": None,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_column(
        **_column("subject_kind", Varchar, {"length": 24, "default": "", "null": False})
    )
    manager.add_column(**_column("subject_ref", UUID, {"default": None, "null": True}))
    return manager
