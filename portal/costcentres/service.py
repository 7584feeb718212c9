"""Admins' changes to the cost centre list: add, rename, archive and restore, each written to
the activity log with what it was before and after. Cost centres are never deleted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from portal.activity.log import Actor, Subject, SubjectKind, log_action
from portal.costcentres.rules import Centre, CentreInput, same_code
from portal.costcentres.tables import CostCentre
from portal.db import UNIQUE_VIOLATIONS, for_update, lock_organisation, write_transaction
from portal.errors import NotFound, Refusal

MAX_CENTRES = 500
TAKEN = "Another cost centre has that code."


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {"code": row["code"], "name": row["name"], "archived": row["archived"]}


async def _log(actor: Actor, action: str, centre_id: UUID, before: Any, after: Any) -> None:
    await log_action(
        action,
        organisation_id=actor.organisation_id,
        actor_id=actor.user_id,
        about=Subject(SubjectKind.COST_CENTRE, centre_id),
        origin=actor.origin,
        data={"cost_centre": str(centre_id), "before": before, "after": after},
    )


async def create_centre(actor: Actor, centre: CentreInput) -> UUID:
    async with write_transaction():
        # Serialises the check of codes ignoring case; the unique index backs up exact ones.
        await lock_organisation(actor.organisation_id)
        existing = await CostCentre.select(CostCentre.code, CostCentre.archived).where(
            CostCentre.organisation == actor.organisation_id
        )
        if len(existing) >= MAX_CENTRES:
            raise Refusal(f"An organisation keeps at most {MAX_CENTRES} cost centres.")
        if same_code(centre.code, [Centre(row["code"], row["archived"]) for row in existing]):
            raise Refusal(errors={"code": TAKEN}, status=409)
        row = CostCentre(organisation=actor.organisation_id, code=centre.code, name=centre.name)
        try:
            await row.save()
        except UNIQUE_VIOLATIONS:
            raise Refusal(errors={"code": TAKEN}, status=409) from None
        after = {"code": centre.code, "name": centre.name, "archived": False}
        await _log(actor, "cost_centre.created", row.id, None, after)
    centre_id: UUID = row.id
    return centre_id


async def _locked(actor: Actor, centre_id: UUID) -> dict[str, Any]:
    row: dict[str, Any] | None = await for_update(
        CostCentre.select().where(
            (CostCentre.id == centre_id) & (CostCentre.organisation == actor.organisation_id)
        )
    ).first()
    if row is None:
        raise NotFound("cost centre")
    return row


async def rename_centre(actor: Actor, centre_id: UUID, name: str) -> bool:
    """A new name; the code stays, so whatever names the cost centre keeps naming it.
    Returns whether anything changed."""
    async with write_transaction():
        row = await _locked(actor, centre_id)
        if row["name"] == name:
            return False
        await CostCentre.update(
            {CostCentre.name: name, CostCentre.updated_at: datetime.now(UTC)}
        ).where(CostCentre.id == centre_id)
        await _log(
            actor, "cost_centre.changed", centre_id, _shown(row), _shown(row) | {"name": name}
        )
    return True


async def set_archived(actor: Actor, centre_id: UUID, archived: bool) -> bool:
    """Archive (no new order or policy may choose it; what names it keeps it) or restore.
    Returns whether anything changed: archiving an archived one changes nothing."""
    async with write_transaction():
        row = await _locked(actor, centre_id)
        if row["archived"] == archived:
            return False
        await CostCentre.update(
            {CostCentre.archived: archived, CostCentre.updated_at: datetime.now(UTC)}
        ).where(CostCentre.id == centre_id)
        after = _shown(row) | {"archived": archived}
        action = "cost_centre.archived" if archived else "cost_centre.restored"
        await _log(actor, action, centre_id, _shown(row), after)
    return True
