from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation
from portal.users.tables import User


class PasswordReset(Table, tablename="password_reset"):
    """A single-use link to set a new password: sent by an admin (access email) or asked for
    by the user (forgot password). Only the token's SHA-256 is stored."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    # Null when the user asked for it themselves.
    requested_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    token_hash = Varchar(length=64, unique=True)
    # pending -> used | superseded
    status = Varchar(length=16, default="pending", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
