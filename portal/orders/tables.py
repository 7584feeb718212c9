from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation
from portal.services.tables import Service
from portal.users.tables import User


class Order(Table, tablename="portal_order"):
    """An order for a new service from the catalogue, or a change to an existing service."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    # Per organisation, for people to quote ("order 1042"); unique with the organisation.
    number = Integer()
    requester = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=16)
    item = Varchar(length=60, default="")
    service = ForeignKey(Service, on_delete=OnDelete.restrict, null=True, index=True)
    description = Varchar(length=500, default="")
    quantity = Integer(default=1)
    # Money is Decimal with its currency, never float.
    estimated_cost = Numeric(digits=(14, 2))
    currency = Varchar(length=3, default="GBP")
    cost_centre = Varchar(length=60, default="")
    notes = Text(default="")
    status = Varchar(length=24, default="draft", index=True)
    # Bumped at every submission and at every edit that resets the approvals: decisions count
    # only for the revision they were made on.
    revision = Integer(default=0)
    # What applied when the engine evaluated this revision; later policy edits leave it alone.
    snapshot = JSON(default="{}")
    current_level = Integer(null=True, default=None)
    level_started_at = Timestamptz(null=True, default=None)
    # When the current level's approvers are reminded and escalated to admins; cleared once done.
    remind_at = Timestamptz(null=True, default=None, index=True)
    escalate_at = Timestamptz(null=True, default=None, index=True)
    escalated = Boolean(default=False)
    rejection_reason = Varchar(length=1000, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class OrderDecision(Table, tablename="order_decision"):
    """One approver's decision on one level of one revision; unique on those four."""

    id = UUID(primary_key=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False)
    revision = Integer()
    level = Integer()
    approver = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    approve = Boolean()
    # The steps (policy ids) of the level this decision counts for, fixed when it is made.
    counts_for = JSON(default="[]")
    reason = Varchar(length=1000, default="")
    decided_at = Timestamptz(default=TimestamptzNow())


class OrderEvent(Table, tablename="order_event"):
    """The order's timeline: everything that happened to it, with who and when."""

    id = UUID(primary_key=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False)
    occurred_at = Timestamptz(default=TimestamptzNow())
    # Null for what the engine did on its own (evaluation, reminders, escalation).
    actor = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    kind = Varchar(length=32)
    message = Varchar(length=2000, default="")
    data = JSON(default="{}")
