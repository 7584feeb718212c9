from piccolo.columns import UUID, ForeignKey, Numeric, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation
from portal.users.tables import User


class Service(Table, tablename="service"):
    """Something the organisation buys from the provider, with one assigned contact."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=60)
    site = Varchar(length=200, default="")
    cost_centre = Varchar(length=60, default="")
    # Money is Decimal with its currency, never float.
    monthly_cost = Numeric(digits=(12, 2))
    currency = Varchar(length=3, default="GBP")
    status = Varchar(length=20, default="active")
    usage = Varchar(length=200, default="")
    # Scope "assigned" sees exactly the services whose contact is the principal.
    contact = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
