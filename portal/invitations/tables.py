from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation
from portal.users.tables import User


class Invitation(Table, tablename="invitation"):
    """One emailed link. Resending makes a new row and supersedes the old one, so every link
    ever sent keeps its own answer ("used", "cancelled", "a newer one was sent")."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    invited_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    # SHA-256 of the link's token; the token itself is only ever in the email.
    token_hash = Varchar(length=64, unique=True)
    # pending -> accepted | cancelled | superseded; expiry is read from expires_at.
    # At most one pending invitation per user: a partial unique index in the migration.
    status = Varchar(length=16, default="pending", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    decided_at = Timestamptz(null=True, default=None)
    reminder_sent_at = Timestamptz(null=True, default=None)


class InvitationBatch(Table, tablename="invitation_batch"):
    """A CSV of colleagues to invite, validated row by row before anything is sent."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    file_name = Varchar(length=200, default="")
    total_rows = Integer(default=0)
    # pending -> processing -> done
    status = Varchar(length=16, default="pending", index=True)
    # The worker running it holds it until lease_until, renewing while it works
    # (portal/invitations/batch_lease.py); null while nobody does.
    lease_until = Timestamptz(null=True, default=None)
    holder = Varchar(length=200, default="")


class InvitationBatchRow(Table, tablename="invitation_batch_row"):
    id = UUID(primary_key=True)
    batch = ForeignKey(InvitationBatch, on_delete=OnDelete.cascade, null=False, index=True)
    row_number = Integer()
    full_name = Varchar(length=200, default="")
    email = Varchar(length=320, default="")
    tier = Varchar(length=16, default="")
    # valid rows: pending -> invited | refused (e.g. the email was taken meanwhile);
    # invalid rows are stored as refused with their message, for the result table.
    outcome = Varchar(length=16, default="pending", index=True)
    message = Varchar(length=500, default="")
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
