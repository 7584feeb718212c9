from piccolo.columns import JSON, UUID, Boolean, ForeignKey, Integer, Numeric, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.orders.tables import Order
from portal.organisations.tables import Organisation
from portal.users.tables import User


class ApprovalPolicy(Table, tablename="approval_policy"):
    """When an order needs approval, by whom, how many, and at which level of the chain."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=100)
    active = Boolean(default=True)
    # Applies when the estimated cost exceeds this, strictly (in the organisation's currency).
    threshold = Numeric(digits=(14, 2))
    # Empty lists mean "any".
    order_kinds = JSON(default="[]")
    cost_centres = JSON(default="[]")
    # User ids and role references ("tier:admin", or a custom role's id); both empty: all admins.
    approver_users = JSON(default="[]")
    approver_roles = JSON(default="[]")
    required_approvals = Integer(default=1)
    level = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())

    # Unique (organisation, name): a unique index, made in a hand-written migration.


class ApprovalEligibility(Table, tablename="approval_eligibility"):
    """Who may decide each waiting order now: one row per order and person, for the level and
    revision it waits on. Rewritten in the transaction of every change that moves it (an
    evaluation, a decision, an escalation, a change of who is active or an admin), so that a
    queue is one indexed read. Unique (order, approver); indexed by (organisation, approver,
    submitted_at, order), the queue's order: both made in the migration."""

    id = UUID(primary_key=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False)
    revision = Integer()
    level = Integer()
    approver = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    # The order's, copied: the queue's order, oldest first, straight from the index.
    submitted_at = Timestamptz(null=True, default=None)
