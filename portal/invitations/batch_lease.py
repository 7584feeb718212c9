"""Who runs a batch: one worker at a time holds its lease, renews it while it works, and gives
it up at the end. A worker that dies stops renewing, so another takes the batch over as soon
as the lease runs out (the batch sweep runs at least once a lease), not a minute later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from portal.invitations.tables import InvitationBatch


async def take(batch_id: UUID, holder: str, lease: timedelta) -> bool:
    """Hold the batch if it is unfinished and nobody holds it (or their lease ran out)."""
    now = datetime.now(UTC)
    rows = await (
        InvitationBatch.update(
            {InvitationBatch.lease_until: now + lease, InvitationBatch.holder: holder}
        )
        .where(
            (InvitationBatch.id == batch_id)
            & (InvitationBatch.status != "done")
            & (InvitationBatch.lease_until.is_null() | (InvitationBatch.lease_until < now))
        )
        .returning(InvitationBatch.id)
    )
    return bool(rows)


async def renew(batch_id: UUID, holder: str, lease: timedelta) -> bool:
    """Extend the lease; False if another worker took the batch over meanwhile."""
    rows = await (
        InvitationBatch.update({InvitationBatch.lease_until: datetime.now(UTC) + lease})
        .where((InvitationBatch.id == batch_id) & (InvitationBatch.holder == holder))
        .returning(InvitationBatch.id)
    )
    return bool(rows)


async def release(batch_id: UUID, holder: str) -> None:
    await InvitationBatch.update(
        {InvitationBatch.lease_until: None, InvitationBatch.holder: ""}
    ).where((InvitationBatch.id == batch_id) & (InvitationBatch.holder == holder))
