from piccolo.columns import UUID, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation


class CostCentre(Table, tablename="cost_centre"):
    """One entry of an organisation's managed list of cost centres. Orders, services and
    approval policies name it by its code, which never changes; it is archived, never deleted,
    so that whatever named it keeps a meaning."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    # 60 like the columns that name it: free-text values of before the list became codes.
    code = Varchar(length=60)
    name = Varchar(length=100)
    archived = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())

    # Unique (organisation, code): a unique index, made in a hand-written migration.
