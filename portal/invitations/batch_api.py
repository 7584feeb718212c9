"""JSON API for bulk invitations: the rows of a file as JSON, checked the same way, invited by
the same worker; and the batch's progress."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from portal.activity.log import Actor
from portal.errors import InputError, NotFound
from portal.invitations.batches import batch_in, batch_progress, emails_in_use, store_batch
from portal.invitations.csv_import import MAX_ROWS, RowIn, check_rows, emails_to_look_up
from portal.permissions.principal import Principal
from portal.permissions.requirements import USERS_FULL

TAGS = ["users"]


class BulkRowIn(msgspec.Struct, forbid_unknown_fields=True):
    full_name: str
    email: str
    tier: str


class BulkInviteIn(msgspec.Struct, forbid_unknown_fields=True):
    rows: list[BulkRowIn]


class RefusedRowOut(msgspec.Struct):
    """A refused row: its position in ``rows`` counting from 1, the field and why."""

    row: int
    field: str
    message: str


class BulkAcceptedOut(msgspec.Struct):
    batch_id: UUID
    accepted: int
    refused: list[RefusedRowOut]


class BulkProgressOut(msgspec.Struct):
    """Rows so far: ``invited`` rows have a user; ``sent`` of them have their email out;
    ``failed`` ones could not be delivered; ``done`` once no row has anything left to do."""

    total: int
    invited: int
    refused: int
    sent: int
    failed: int
    done: bool


@post(
    "/",
    opt=USERS_FULL,
    summary="Invite up to 5,000 colleagues; refused rows are reported, the others go ahead",
    status_code=202,
)
async def bulk_invite_api(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    data: JSONBody[BulkInviteIn],
) -> BulkAcceptedOut:
    if not data.rows:
        raise InputError({"rows": "Send at least one row."})
    if len(data.rows) > MAX_ROWS:
        raise InputError({"rows": f"Send at most {MAX_ROWS:,} rows at once."})
    rows = [
        RowIn(number, row.full_name, row.email, row.tier)
        for number, row in enumerate(data.rows, start=1)
    ]
    results = check_rows(rows, await emails_in_use(emails_to_look_up(rows)))
    batch_id = await store_batch(actor, "", results)
    accepted = sum(result.valid for result in results)
    refused = [
        RefusedRowOut(result.row_number, problem.field, problem.message)
        for result in results
        for problem in result.problems
    ]
    return BulkAcceptedOut(batch_id, accepted, refused)


@get("/{batch_id:uuid}", opt=USERS_FULL, summary="Progress of a bulk invitation")
async def bulk_progress_api(
    principal: NamedDependency[Principal], batch_id: FromPath[UUID]
) -> BulkProgressOut:
    batch = await batch_in(principal.organisation_id, batch_id)
    if batch is None:
        raise NotFound("batch")
    progress = await batch_progress(batch_id, batch["total_rows"])
    return BulkProgressOut(
        total=progress.total,
        invited=progress.invited,
        refused=progress.refused,
        sent=progress.sent,
        failed=progress.failed,
        done=progress.done,
    )


API = Router(
    "/api/v1/users/invitations/bulk",
    route_handlers=[bulk_invite_api, bulk_progress_api],
    tags=TAGS,
)
ROUTERS = [API]
