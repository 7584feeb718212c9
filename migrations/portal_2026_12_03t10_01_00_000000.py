"""The activity log serves an audit: old events get their subject, indexes serve its filters
and keyset pages, and triggers make the table append-only in the database itself.

Written by hand: composite indexes, a backfill and triggers, which piccolo does not declare.
"""

import json
import uuid

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

ID = "2026-12-03T10:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "activity log: subjects of old events, audit indexes, append-only triggers"

# Every list reads one organisation's events newest first, keyset by (occurred_at, id), and
# each filter that narrows it most has an index that starts the same way.
INDEXES = {
    "activity_event_listing": 'CREATE INDEX "activity_event_listing" '
    'ON "activity_event" ("organisation", "occurred_at", "id")',
    "activity_event_by_actor": 'CREATE INDEX "activity_event_by_actor" '
    'ON "activity_event" ("organisation", "actor", "occurred_at", "id")',
    "activity_event_by_action": 'CREATE INDEX "activity_event_by_action" '
    'ON "activity_event" ("organisation", "action", "occurred_at", "id")',
    "activity_event_by_subject": 'CREATE INDEX "activity_event_by_subject" '
    'ON "activity_event" ("organisation", "subject_ref", "occurred_at", "id")',
}
# Superseded by the composite indexes above, and each costs every insert.
SINGLE_INDEXES = ("organisation", "occurred_at", "action")

REFUSAL = "the activity log is append-only"
POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION activity_event_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
    END
    $$ LANGUAGE plpgsql""",
    'CREATE TRIGGER "activity_event_no_update" BEFORE UPDATE OR DELETE ON "activity_event" '
    "FOR EACH ROW EXECUTE FUNCTION activity_event_append_only()",
    'CREATE TRIGGER "activity_event_no_truncate" BEFORE TRUNCATE ON "activity_event" '
    "FOR EACH STATEMENT EXECUTE FUNCTION activity_event_append_only()",
)
SQLITE_TRIGGERS = tuple(
    f'CREATE TRIGGER "activity_event_no_{verb.lower()}" BEFORE {verb} ON "activity_event" '
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    for verb in ("UPDATE", "DELETE")
)
# Events written before subjects existed: their user, order or policy becomes their subject.
ORDER_PREFIX = "order."
POLICY_KINDS = {
    "approval_policy.created": "approval_policy",
    "approval_policy.changed": "approval_policy",
}


def _subject_of(action: str, data: dict, subject: object) -> tuple[str, str] | None:
    if action.startswith(ORDER_PREFIX) and data.get("order"):
        return "order", str(data["order"])
    if action in POLICY_KINDS and data.get("policy"):
        return POLICY_KINDS[action], str(data["policy"])
    if subject is not None:
        return "user", str(subject)
    return None


async def backfill() -> None:
    engine = engine_finder()
    rows = await engine.run_querystring(
        QueryString('SELECT "id", "action", "data", "subject" FROM "activity_event"')
    )
    for row in rows:
        data = row["data"]
        data = json.loads(data or "{}") if isinstance(data, str) else (data or {})
        found = _subject_of(row["action"], data, row["subject"])
        if found is None:
            continue
        kind, ref = found
        await engine.run_querystring(
            QueryString(
                'UPDATE "activity_event" SET "subject_kind" = {}, "subject_ref" = {} '
                'WHERE "id" = {}',
                kind,
                uuid.UUID(ref),
                row["id"],
            )
        )


async def create_indexes_and_triggers() -> None:
    engine = engine_finder()
    for name in SINGLE_INDEXES:
        await engine.run_ddl(f'DROP INDEX IF EXISTS "activity_event_{name}"')
    for statement in INDEXES.values():
        await engine.run_ddl(statement)
    triggers = POSTGRES_TRIGGERS if isinstance(engine, PostgresEngine) else SQLITE_TRIGGERS
    for statement in triggers:
        await engine.run_ddl(statement)


async def drop_indexes_and_triggers() -> None:
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl('DROP TRIGGER "activity_event_no_update" ON "activity_event"')
        await engine.run_ddl('DROP TRIGGER "activity_event_no_truncate" ON "activity_event"')
        await engine.run_ddl("DROP FUNCTION activity_event_append_only()")
    else:
        for verb in ("update", "delete"):
            await engine.run_ddl(f'DROP TRIGGER "activity_event_no_{verb}"')
    for name in INDEXES:
        await engine.run_ddl(f'DROP INDEX "{name}"')


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_raw(backfill)
    manager.add_raw(create_indexes_and_triggers)
    manager.add_raw_backwards(drop_indexes_and_triggers)
    return manager
