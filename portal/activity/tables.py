from piccolo.columns import JSON, UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation
from portal.users.tables import User


class ActivityEvent(Table, tablename="activity_event"):
    """Append-only log of security events and changes; written in the change's transaction."""

    id = UUID(primary_key=True)
    # Null only for events that belong to no tenant, such as a sign-in for an unknown email.
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True, index=True)
    actor = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    subject = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    action = Varchar(length=64, index=True)
    occurred_at = Timestamptz(default=TimestamptzNow(), index=True)
    ip = Varchar(length=45, default="")
    user_agent = Varchar(length=400, default="")
    method = Varchar(length=32, default="")
    reason = Varchar(length=64, default="")
    data = JSON(default="{}")
