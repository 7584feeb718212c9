"""Approval eligibility: its unique and queue indexes, and its rows for the orders already
waiting.

Written by hand: composite indexes, which piccolo's columns do not declare, and a data step.
Every waiting order gets its rows from the engine's own pure rule
(`portal.approvals.rules.waiting_deciders`): its snapshot, its revision's decisions and the
organisation's people as they are now, as the engine writes them from now on.
"""

import json
from uuid import UUID as PyUUID
from uuid import uuid4

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import JSON, UUID, Boolean, Integer, Timestamptz, Varchar
from piccolo.engine.finder import engine_finder
from piccolo.table import Table

from portal.approvals.rules import Decision, Directory, snapshot_steps, waiting_deciders

ID = "2026-12-03T11:10:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "approval eligibility indexes; rows for the orders already waiting"

INDEXES = {
    "approval_eligibility_order_approver": (
        'CREATE UNIQUE INDEX "approval_eligibility_order_approver" '
        'ON "approval_eligibility" ("order", "approver")'
    ),
    "approval_eligibility_queue": (
        'CREATE INDEX "approval_eligibility_queue" ON "approval_eligibility" '
        '("organisation", "approver", "submitted_at", "order")'
    ),
}
BATCH = 500


# The tables as this migration knows them, whatever the code's tables become later.
class _Organisation(Table, tablename="organisation"):
    id = UUID(primary_key=True)
    approval_distinct_levels = Boolean(default=False)


class _User(Table, tablename="portal_user"):
    id = UUID(primary_key=True)
    organisation = UUID()
    status = Varchar(length=16)
    tier = Varchar(length=16)


class _Order(Table, tablename="portal_order"):
    id = UUID(primary_key=True)
    organisation = UUID()
    requester = UUID()
    status = Varchar(length=24)
    revision = Integer()
    snapshot = JSON()
    current_level = Integer(null=True)
    escalated = Boolean()
    submitted_at = Timestamptz(null=True)


class _Decision(Table, tablename="order_decision"):
    id = UUID(primary_key=True)
    order = UUID()
    revision = Integer()
    level = Integer()
    approver = UUID()
    approve = Boolean()


class _Eligibility(Table, tablename="approval_eligibility"):
    id = UUID(primary_key=True)
    order = UUID()
    organisation = UUID()
    revision = Integer()
    level = Integer()
    approver = UUID()
    submitted_at = Timestamptz(null=True)


def _uuid(value):
    return value if isinstance(value, PyUUID) else PyUUID(str(value))


async def _decisions(order_ids):
    found = {}
    for start in range(0, len(order_ids), BATCH):
        rows = await _Decision.select().where(
            _Decision.order.is_in(order_ids[start : start + BATCH])
        )
        for row in rows:
            found.setdefault((_uuid(row["order"]), row["revision"]), []).append(
                Decision(_uuid(row["approver"]), row["level"], bool(row["approve"]))
            )
    return found


async def _directory(organisation):
    people = await _User.select().where(
        (_User.organisation == organisation) & (_User.status == "active")
    )
    setting = (
        await _Organisation.select(_Organisation.approval_distinct_levels)
        .where(_Organisation.id == organisation)
        .first()
    )
    return Directory(
        active=frozenset(_uuid(person["id"]) for person in people),
        admins=frozenset(_uuid(person["id"]) for person in people if person["tier"] == "admin"),
        role_members={},
        distinct_levels=bool(setting and setting["approval_distinct_levels"]),
    )


async def fill_for_waiting_orders():
    waiting = await _Order.select().where(_Order.status == "pending_approval")
    decisions = await _decisions([order["id"] for order in waiting])
    directories = {}
    rows = []
    for order in waiting:
        organisation = _uuid(order["organisation"])
        if organisation not in directories:
            directories[organisation] = await _directory(organisation)
        snapshot = order["snapshot"]
        snapshot = json.loads(snapshot) if isinstance(snapshot, str) else snapshot or {}
        level = order["current_level"]
        deciders = waiting_deciders(
            snapshot_steps(snapshot or {}),
            level,
            _uuid(order["requester"]),
            directories[organisation],
            bool(order["escalated"]),
            decisions.get((_uuid(order["id"]), order["revision"]), ()),
        )
        rows += [
            _Eligibility(
                id=uuid4(),
                order=order["id"],
                organisation=organisation,
                revision=order["revision"],
                level=level,
                approver=person,
                submitted_at=order["submitted_at"],
            )
            for person in sorted(deciders)
        ]
    for start in range(0, len(rows), BATCH):
        await _Eligibility.insert(*rows[start : start + BATCH])


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_indexes():
        for statement in INDEXES.values():
            await engine_finder().run_ddl(statement)

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f'DROP INDEX "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw(fill_for_waiting_orders)
    manager.add_raw_backwards(drop_indexes)
    return manager
