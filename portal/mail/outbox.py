"""The outbox: queue an email in the event's transaction, then claim, send and settle it.

The database is the source of truth for what is owed. A queue message only wakes a worker;
a lost one is made good by the sweep, and a claim is a conditional UPDATE, so two workers
never both take the same email.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from portal.mail.render import RenderedEmail
from portal.mail.rules import RetryPolicy, after_failure
from portal.mail.tables import OutboundEmail

# A pending email younger than this may still have its wake-up message on the way.
SWEEP_GRACE = timedelta(seconds=30)


async def queue_email(
    *,
    organisation_id: UUID | None,
    event_key: str,
    kind: str,
    to_address: str,
    email: RenderedEmail,
) -> UUID | None:
    """Record an owed email inside the caller's transaction; None if the event already has one."""
    inserted = await (
        OutboundEmail.insert(
            OutboundEmail(
                organisation=organisation_id,
                event_key=event_key,
                kind=kind,
                to_address=to_address,
                subject=email.subject,
                text_body=email.text,
                html_body=email.html,
            )
        )
        .on_conflict(target=OutboundEmail.event_key, action="DO NOTHING")
        .returning(OutboundEmail.id)
    )
    return inserted[0]["id"] if inserted else None


async def claim(email_id: UUID, lease: timedelta) -> dict[str, Any] | None:
    """Take an email for sending: pending and due (its backoff over), or held by a worker whose
    lease ran out."""
    now = datetime.now(UTC)
    rows = await (
        OutboundEmail.update(
            {
                OutboundEmail.status: "sending",
                OutboundEmail.claimed_at: now,
                OutboundEmail.attempts: OutboundEmail.attempts + 1,
            }
        )
        .where(
            (OutboundEmail.id == email_id)
            & (
                ((OutboundEmail.status == "pending") & _due(now))
                | ((OutboundEmail.status == "sending") & (OutboundEmail.claimed_at < now - lease))
            )
        )
        .returning(
            OutboundEmail.id,
            OutboundEmail.created_at,
            OutboundEmail.to_address,
            OutboundEmail.subject,
            OutboundEmail.text_body,
            OutboundEmail.html_body,
            OutboundEmail.attempts,
        )
    )
    return rows[0] if rows else None


async def mark_sent(email_id: UUID, attempt: int, transport: str) -> bool:
    """Settle a sent email; False if another worker took it over meanwhile (fenced by attempt)."""
    rows = await (
        OutboundEmail.update(
            {
                OutboundEmail.status: "sent",
                OutboundEmail.sent_at: datetime.now(UTC),
                OutboundEmail.transport: transport,
                OutboundEmail.last_error: "",
            }
        )
        .where(
            (OutboundEmail.id == email_id)
            & (OutboundEmail.status == "sending")
            & (OutboundEmail.attempts == attempt)
        )
        .returning(OutboundEmail.id)
    )
    return bool(rows)


async def mark_failed(
    email_id: UUID, attempt: int, created_at: datetime, error: str, policy: RetryPolicy
) -> datetime | None:
    """Give the email back for another attempt after its backoff, or fail it for good once it
    has been owed longer than the policy's budget. Returns when it is tried again (None:
    given up)."""
    outcome = after_failure(attempt, created_at, datetime.now(UTC), policy)
    await OutboundEmail.update(
        {
            OutboundEmail.status: outcome.status,
            OutboundEmail.next_attempt_at: outcome.next_attempt_at,
            OutboundEmail.last_error: error[:2000],
        }
    ).where(
        (OutboundEmail.id == email_id)
        & (OutboundEmail.status == "sending")
        & (OutboundEmail.attempts == attempt)
    )
    return outcome.next_attempt_at


async def owed_emails(lease: timedelta, limit: int = 1000) -> list[UUID]:
    """Emails whose wake-up was lost, whose retry is due or whose worker died: what the sweep
    wakes again."""
    now = datetime.now(UTC)
    rows = await (
        OutboundEmail.select(OutboundEmail.id)
        .where(
            (
                (OutboundEmail.status == "pending")
                & (OutboundEmail.created_at < now - min(SWEEP_GRACE, lease))
                & _due(now)
            )
            | ((OutboundEmail.status == "sending") & (OutboundEmail.claimed_at < now - lease))
        )
        .order_by(OutboundEmail.created_at)
        .limit(limit)
    )
    return [row["id"] for row in rows]


def _due(now: datetime) -> Any:
    """Never tried, or its backoff after the last failure is over."""
    return OutboundEmail.next_attempt_at.is_null() | (OutboundEmail.next_attempt_at <= now)


async def recent_emails(limit: int) -> list[dict[str, Any]]:
    """The newest emails of every organisation: the developer's mail catcher."""
    rows: list[dict[str, Any]] = (
        await OutboundEmail.select(
            OutboundEmail.id,
            OutboundEmail.created_at,
            OutboundEmail.to_address,
            OutboundEmail.subject,
            OutboundEmail.text_body,
            OutboundEmail.status,
            OutboundEmail.kind,
        )
        .order_by(OutboundEmail.created_at, ascending=False)
        .limit(limit)
    )
    return rows
