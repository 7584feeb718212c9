from piccolo.columns import UUID, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation
from portal.users.tables import User


class PermissionPolicy(Table, tablename="permission_policy"):
    """A named, reusable set of area→level grants."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=100)
    description = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())

    # Unique (organisation, name): a unique index, made in the second migration.


class PolicyGrant(Table, tablename="policy_grant"):
    id = UUID(primary_key=True)
    policy = ForeignKey(PermissionPolicy, on_delete=OnDelete.cascade, null=False, index=True)
    area = Varchar(length=40)
    level = Varchar(length=16)

    # Unique (policy, area): a unique index, made in the second migration.


class Role(Table, tablename="role"):
    """A custom role, made of permission policies. Tiers are built in and live in code.
    Never deleted: an archived role keeps its name and history and is no longer given."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=100)
    description = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    archived = Boolean(default=False)

    # Unique (organisation, name): a unique index, made in the second migration.


class RolePolicy(Table, tablename="role_policy"):
    id = UUID(primary_key=True)
    role = ForeignKey(Role, on_delete=OnDelete.cascade, null=False, index=True)
    policy = ForeignKey(PermissionPolicy, on_delete=OnDelete.restrict, null=False, index=True)

    # Unique (role, policy): a unique index, made in the second migration.


class UserRole(Table, tablename="user_role"):
    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    role = ForeignKey(Role, on_delete=OnDelete.restrict, null=False, index=True)

    # Unique (user, role): a unique index, made in the second migration.
