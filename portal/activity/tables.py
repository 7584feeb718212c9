from piccolo.columns import JSON, UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation
from portal.users.tables import User


class ActivityEvent(Table, tablename="activity_event"):
    """Append-only log of security events and changes; written in the change's transaction.

    Triggers in the database refuse UPDATE and DELETE (migration 2026-12-03T10:01)."""

    id = UUID(primary_key=True)
    # Null only for events that belong to no tenant, such as a sign-in for an unknown email.
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True)
    actor = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    # The person the event concerns (a sign-in, a change to a user, a service's new contact).
    subject = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    # The thing the event is about (a user, an order, a policy...): a kind and its id, its
    # name read at display time. No foreign key: the kinds live in different tables.
    subject_kind = Varchar(length=24, default="")
    subject_ref = UUID(null=True, default=None)
    action = Varchar(length=64)
    # Indexed with the organisation first, for every filter (see the migrations).
    occurred_at = Timestamptz(default=TimestamptzNow())
    ip = Varchar(length=45, default="")
    user_agent = Varchar(length=400, default="")
    method = Varchar(length=32, default="")
    reason = Varchar(length=64, default="")
    data = JSON(default="{}")
