from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.organisations.tables import Organisation


class OutboundEmail(Table, tablename="outbound_email"):
    """The outbox: every email the portal owes, written in the transaction of its event.

    Workers claim a row, send it, and mark it sent; a sweep re-wakes rows whose message was lost
    (Redis down) or whose worker died (claim older than the lease). ``event_key`` is unique, so
    one event never queues two emails.
    """

    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True, index=True)
    event_key = Varchar(length=200, unique=True)
    kind = Varchar(length=40)
    to_address = Varchar(length=320)
    subject = Varchar(length=300)
    text_body = Text()
    html_body = Text()
    # pending -> sending -> sent; back to pending after a failure, until next_attempt_at;
    # failed once it was owed longer than the retry budget (portal/mail/rules.py).
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    # "smtp", or "local" when no SMTP server is configured (the developer outbox).
    transport = Varchar(length=16, default="")
    last_error = Text(default="")
