"""Invitation batches: a checked file stored in one transaction, its rows invited one at a
time, and the progress of their emails.

Each row is invited in its own transaction, claimed there first, so a run killed mid-batch
leaves no half row, a second run (a duplicate message, the sweep) skips what is done, and two
runs at once share the rows instead of inviting anyone twice.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from portal.activity.log import Actor, log_action
from portal.db import engine, write_transaction
from portal.invitations import batch_lease
from portal.invitations.csv_import import RowProblem, RowResult, row_message
from portal.invitations.service import InvitationError, Invitee, invite
from portal.invitations.tables import InvitationBatch, InvitationBatchRow
from portal.jobs import wake_batch, wake_delivery
from portal.permissions.model import Area, Level
from portal.permissions.principal import load_principal
from portal.users.tables import User

# Rows per INSERT: PostgreSQL takes at most 32,767 parameters in one statement.
INSERT_CHUNK = 500
UPLOADER_CANNOT_INVITE = (
    "Not sent: the person who uploaded the file may no longer invite colleagues."
)

# The state of an invited row's invitation email, from the outbox: 'sent' once any of its
# emails went out; 'sending' while one is still owed; otherwise 'failed' (attempts ran out).
_EMAIL_STATE = """CASE
    WHEN r."outcome" <> 'invited' THEN ''
    WHEN EXISTS (SELECT 1 FROM "invitation" i JOIN "outbound_email" e
        ON e."event_key" = 'invitation:' || CAST(i."id" AS TEXT)
        WHERE i."user" = r."user" AND e."status" = 'sent') THEN 'sent'
    WHEN EXISTS (SELECT 1 FROM "invitation" i JOIN "outbound_email" e
        ON e."event_key" = 'invitation:' || CAST(i."id" AS TEXT)
        WHERE i."user" = r."user" AND e."status" IN ('pending', 'sending')) THEN 'sending'
    ELSE 'failed'
END"""

# Built from constants only; the batch id is a bound parameter ({}).
_ROWS_QUERY = f"""
SELECT r."row_number", r."full_name", r."email", r."tier", r."outcome", r."message",
    r."user" AS "user_id", {_EMAIL_STATE} AS "email_state"
FROM "invitation_batch_row" r WHERE r."batch" = {{}} ORDER BY r."row_number"
"""  # noqa: S608

_PROGRESS_QUERY = f"""
SELECT s."outcome", s."email_state", COUNT(*) AS "rows" FROM (
    SELECT r."outcome", {_EMAIL_STATE} AS "email_state"
    FROM "invitation_batch_row" r WHERE r."batch" = {{}}
) s GROUP BY s."outcome", s."email_state"
"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class Progress:
    total: int
    pending: int
    invited: int
    refused: int
    sent: int
    failed: int

    @property
    def finished(self) -> int:
        """Rows with nothing left to do: refused, or their invitation email is out."""
        return self.refused + self.sent + self.failed

    @property
    def done(self) -> bool:
        return self.finished >= self.total

    @property
    def percent(self) -> int:
        return self.finished * 100 // self.total if self.total else 100


@dataclass(frozen=True, slots=True)
class BatchRow:
    row_number: int
    full_name: str
    email: str
    tier: str
    outcome: str
    message: str
    user_id: UUID | None
    email_state: str


async def emails_in_use(emails: Collection[str]) -> set[str]:
    """Which of these (normalised) emails belong to a user already, anywhere: one query."""
    if not emails:
        return set()
    rows = await User.select(User.email).where(User.email.is_in(list(emails)))
    return {row["email"] for row in rows}


async def store_batch(actor: Actor, file_name: str, results: Sequence[RowResult]) -> UUID:
    """The batch and every row, in one transaction: valid rows wait to be invited, the others
    are refused with their message. The worker is woken after the commit."""
    accepted = sum(result.valid for result in results)
    async with write_transaction():
        batch = InvitationBatch(
            organisation=actor.organisation_id,
            created_by=actor.user_id,
            file_name=_clip(file_name, 200),
            total_rows=len(results),
            status="pending" if accepted else "done",
        )
        await batch.save()
        rows = [
            InvitationBatchRow(
                batch=batch.id,
                row_number=result.row_number,
                full_name=_clip(result.full_name, 200),
                email=_clip(result.email, 320),
                tier=_clip(result.tier, 16),
                outcome="pending" if result.valid else "refused",
                message=_clip(result.message, 500),
            )
            for result in results
        ]
        for start in range(0, len(rows), INSERT_CHUNK):
            await InvitationBatchRow.insert(*rows[start : start + INSERT_CHUNK])
        await log_action(
            "invitation_batch.uploaded",
            organisation_id=actor.organisation_id,
            actor_id=actor.user_id,
            origin=actor.origin,
            data={
                "batch_id": str(batch.id),
                "file_name": _clip(file_name, 200),
                "rows": len(results),
                "accepted": accepted,
                "refused": len(results) - accepted,
            },
        )
    batch_id: UUID = batch.id
    if accepted:
        wake_batch(batch_id)
    return batch_id


async def run_batch(batch_id: UUID, base_url: str, lease: timedelta = timedelta(seconds=30)) -> int:
    """Invite every pending row of the batch, then mark it done; returns the rows this run
    settled. Idempotent: a run finding the batch held by a live lease leaves it to its holder
    (0), and even two holders would share the rows (each row is claimed in its transaction).
    Each row's emails are woken as soon as its row committed."""
    holder = uuid4().hex
    if not await batch_lease.take(batch_id, holder, lease):
        return 0
    settled = 0
    try:
        actor = await start_batch(batch_id)
        renew_at = time.monotonic() + lease.total_seconds() / 3
        while actor is not None:
            email_ids = await invite_next_row(actor, batch_id, base_url)
            if email_ids is None:
                break
            wake_delivery(email_ids)
            settled += 1
            if time.monotonic() >= renew_at:
                if not await batch_lease.renew(batch_id, holder, lease):
                    return settled  # taken over (this run stalled past its lease)
                renew_at = time.monotonic() + lease.total_seconds() / 3
        await finish_batch(batch_id)
    finally:
        await batch_lease.release(batch_id, holder)
    return settled


async def start_batch(batch_id: UUID) -> Actor | None:
    """Mark the batch as being processed and return whom its rows are invited by; None when
    nothing is left to do. An uploader who may no longer invite gets their rows refused."""
    batch = (
        await InvitationBatch.select(
            InvitationBatch.organisation, InvitationBatch.created_by, InvitationBatch.status
        )
        .where(InvitationBatch.id == batch_id)
        .first()
    )
    if batch is None or batch["status"] == "done":
        return None
    await InvitationBatch.update({InvitationBatch.status: "processing"}).where(
        (InvitationBatch.id == batch_id) & (InvitationBatch.status == "pending")
    )
    uploader = await load_principal(batch["created_by"]) if batch["created_by"] else None
    if uploader is None or not uploader.may(Area.USERS, Level.FULL):
        await InvitationBatchRow.update(
            {
                InvitationBatchRow.outcome: "refused",
                InvitationBatchRow.message: UPLOADER_CANNOT_INVITE,
            }
        ).where((InvitationBatchRow.batch == batch_id) & (InvitationBatchRow.outcome == "pending"))
        return None
    return Actor(uploader.user_id, batch["organisation"])


async def invite_next_row(actor: Actor, batch_id: UUID, base_url: str) -> tuple[UUID, ...] | None:
    """Claim the next pending row and invite it, in one transaction. Returns the ids of the
    emails to wake (none for a row refused now), or None when no row is left."""
    row_id: UUID | None = None
    try:
        async with write_transaction():
            row = await _claim_next_row(batch_id)
            if row is None:
                return None
            row_id = row["id"]
            invitee = Invitee(row["full_name"], row["email"], row["tier"])
            # invite() joins this transaction: the user, the invitation, its email and the
            # row's outcome commit together or not at all.
            invited = await invite(actor, invitee, base_url)
            await InvitationBatchRow.update(
                {
                    InvitationBatchRow.outcome: "invited",
                    InvitationBatchRow.user: invited.user_id,
                    InvitationBatchRow.message: "",
                }
            ).where(InvitationBatchRow.id == row_id)
    except InvitationError as error:
        # Checked at upload, refused now: most likely the email was taken meanwhile.
        assert row_id is not None
        message = row_message(RowProblem(field, text) for field, text in error.errors.items())
        async with write_transaction():
            await InvitationBatchRow.update(
                {InvitationBatchRow.outcome: "refused", InvitationBatchRow.message: message[:500]}
            ).where((InvitationBatchRow.id == row_id) & (InvitationBatchRow.outcome == "pending"))
        return ()
    return invited.email_ids


async def _claim_next_row(batch_id: UUID) -> dict[str, Any] | None:
    query = (
        InvitationBatchRow.select(
            InvitationBatchRow.id,
            InvitationBatchRow.full_name,
            InvitationBatchRow.email,
            InvitationBatchRow.tier,
        )
        .where((InvitationBatchRow.batch == batch_id) & (InvitationBatchRow.outcome == "pending"))
        .order_by(InvitationBatchRow.row_number)
        .limit(1)
    )
    if isinstance(engine(), PostgresEngine):
        # Another run of this batch holds a row: take the next one rather than wait for it.
        # SQLite needs no lock: the IMMEDIATE transaction already holds the only write lock.
        query = query.lock_rows("UPDATE", skip_locked=True)
    rows: list[dict[str, Any]] = await query
    return rows[0] if rows else None


async def finish_batch(batch_id: UUID) -> bool:
    """Mark the batch done once no row is pending; True if it is done."""
    async with write_transaction():
        if await InvitationBatchRow.exists().where(
            (InvitationBatchRow.batch == batch_id) & (InvitationBatchRow.outcome == "pending")
        ):
            return False
        await InvitationBatch.update({InvitationBatch.status: "done"}).where(
            (InvitationBatch.id == batch_id) & (InvitationBatch.status != "done")
        )
    return True


async def unfinished_batches(grace: timedelta, limit: int = 100) -> list[UUID]:
    """Batches nobody holds: not done a while after their upload and never taken (their
    message was lost, Redis down), or whose holder's lease ran out (their worker died)."""
    now = datetime.now(UTC)
    rows = await (
        InvitationBatch.select(InvitationBatch.id)
        .where(
            (InvitationBatch.status != "done")
            & (
                (InvitationBatch.lease_until.is_null() & (InvitationBatch.created_at < now - grace))
                | (InvitationBatch.lease_until < now)
            )
        )
        .order_by(InvitationBatch.created_at)
        .limit(limit)
    )
    return [row["id"] for row in rows]


async def batch_in(organisation_id: UUID, batch_id: UUID) -> dict[str, Any] | None:
    """The batch, if it belongs to this organisation (another's answers as a missing one)."""
    batch: dict[str, Any] | None = (
        await InvitationBatch.select(
            InvitationBatch.id,
            InvitationBatch.file_name,
            InvitationBatch.created_at,
            InvitationBatch.total_rows,
            InvitationBatch.status,
            InvitationBatch.created_by.full_name.as_alias("uploader"),
        )
        .where((InvitationBatch.id == batch_id) & (InvitationBatch.organisation == organisation_id))
        .first()
    )
    return batch


async def recent_batches(organisation_id: UUID, limit: int = 10) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await (
        InvitationBatch.select(
            InvitationBatch.id,
            InvitationBatch.file_name,
            InvitationBatch.created_at,
            InvitationBatch.total_rows,
            InvitationBatch.created_by.full_name.as_alias("uploader"),
        )
        .where(InvitationBatch.organisation == organisation_id)
        .order_by(InvitationBatch.created_at, ascending=False)
        .limit(limit)
    )
    return rows


async def batch_rows(batch_id: UUID) -> list[BatchRow]:
    """Every row of a batch (already checked to be the caller's), in file order."""
    rows = await engine().run_querystring(QueryString(_ROWS_QUERY, batch_id))
    return [
        BatchRow(
            row_number=row["row_number"],
            full_name=row["full_name"],
            email=row["email"],
            tier=row["tier"],
            outcome=row["outcome"],
            message=row["message"],
            user_id=UUID(str(row["user_id"])) if row["user_id"] else None,
            email_state=row["email_state"],
        )
        for row in rows
    ]


async def batch_progress(batch_id: UUID, total: int) -> Progress:
    counts: dict[tuple[str, str], int] = {
        (row["outcome"], row["email_state"]): row["rows"]
        for row in await engine().run_querystring(QueryString(_PROGRESS_QUERY, batch_id))
    }

    def rows(outcome: str, email_state: str | None = None) -> int:
        return sum(
            count
            for (row_outcome, state), count in counts.items()
            if row_outcome == outcome and email_state in (None, state)
        )

    return Progress(
        total=total,
        pending=rows("pending"),
        invited=rows("invited"),
        refused=rows("refused"),
        sent=rows("invited", "sent"),
        failed=rows("invited", "failed"),
    )


def _clip(text: str, length: int) -> str:
    """Refused rows keep what was given for the result table, cut to fit the column."""
    return text if len(text) <= length else text[: length - 1] + "…"
