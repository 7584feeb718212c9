from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.users.tables import User


class UserSession(Table, tablename="user_session"):
    """A signed-in browser. Read with its user and organisation in one query per request, so
    sign-out, deactivation and a new permission level take effect on the very next request,
    and a Redis outage signs nobody out."""

    id = UUID(primary_key=True)
    # SHA-256 of the cookie's token: a copy of the table cannot be replayed as cookies.
    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    # The user's session epoch when it began; a bump of theirs ends it.
    epoch = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    # Written at most once a minute: the idle timeout counts in minutes.
    renewed_at = Timestamptz(default=TimestamptzNow(), index=True)
    # What the next page shows once after a redirect (JSON), then cleared.
    notice = Text(default="")
