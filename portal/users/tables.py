from piccolo.columns import (
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation


class User(Table, tablename="portal_user"):
    """A person or integration identity. Never deleted: deactivation keeps their history."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    # Stored normalised (see portal.users.emails); unique across every organisation.
    email = Varchar(length=320, unique=True)
    full_name = Varchar(length=200)
    display_name = Varchar(length=200, null=True, default=None)
    locale = Varchar(length=35, default="en-GB")
    time_zone = Varchar(length=64, default="Europe/London")
    kind = Varchar(length=16, default="interactive")
    status = Varchar(length=16, default="invited")
    tier = Varchar(length=16, default="user")
    is_owner = Boolean(default=False)
    password_hash = Varchar(length=200, null=True, default=None)
    # Bumping it ends every session issued before (sign-out everywhere, deactivation).
    session_epoch = Integer(default=0)
    # Bumped when this user's tier, roles or overrides change; keys the permission cache.
    permissions_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    last_sign_in_at = Timestamptz(null=True, default=None)


class UserOverride(Table, tablename="user_override"):
    """A per-user grant (raises one area) or restriction (caps one area)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    area = Varchar(length=40)
    kind = Varchar(length=16)
    level = Varchar(length=16)

    # Unique (user, area, kind): a unique index, made in the second migration.
