from piccolo.columns import UUID, Boolean, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    """A tenant. Every other record belongs to exactly one."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    # Unique so that the operator cannot create the same customer twice by mistake.
    name_key = Varchar(length=200, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # Bumped in the transaction that changes any role or policy of the organisation, so that
    # cached permissions of all its users are recomputed on their next request.
    permissions_version = Integer(default=0)
    idle_timeout_minutes = Integer(default=30)
    absolute_timeout_minutes = Integer(default=12 * 60)
    invitation_lifetime_hours = Integer(default=72)
    password_min_length = Integer(default=15)
    # Orders are placed and approval thresholds set in this currency.
    currency = Varchar(length=3, default="GBP")
    # A level pending this long reminds its approvers; this long, it goes to the admins too.
    approval_reminder_hours = Integer(default=24)
    approval_escalation_hours = Integer(default=72)
    # "Each level needs a different person": whoever approved one level of an order may not
    # decide its later levels (off: one person holding several levels may clear them all).
    approval_distinct_levels = Boolean(default=False)
