"""Assigning services to a contact, one or many at once."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from portal.activity.log import Actor, Subject, SubjectKind, log_action
from portal.db import write_transaction
from portal.errors import Refusal
from portal.permissions.principal import Principal
from portal.services.queries import visible_to
from portal.services.tables import Service
from portal.users.tables import User

MAX_BULK = 1000


class AssignmentError(Refusal):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


async def assign_contact(
    principal: Principal, actor: Actor, service_ids: Sequence[UUID], contact_id: UUID
) -> int:
    """Make one active user of the organisation the contact of the given services.

    Every id must be a service the principal sees (their scope, in the query); otherwise
    nothing changes.
    """
    ids = list(dict.fromkeys(service_ids))
    if not ids:
        raise AssignmentError({"services": "Choose at least one service."})
    if len(ids) > MAX_BULK:
        raise AssignmentError({"services": f"Choose at most {MAX_BULK} services at once."})
    async with write_transaction():
        contact = (
            await User.select(User.status)
            .where((User.id == contact_id) & (User.organisation == actor.organisation_id))
            .first()
        )
        if contact is None or contact["status"] != "active":
            raise AssignmentError({"contact": "Choose an active user of this organisation."})
        chosen = visible_to(principal) & Service.id.is_in(ids)
        found = await Service.select(Service.id, Service.contact).where(chosen)
        if len(found) != len(ids):
            raise AssignmentError({"services": "Choose services of this organisation."})
        await Service.update({Service.contact: contact_id}).where(chosen)
        for row in found:
            await log_action(
                "service.contact_assigned",
                organisation_id=actor.organisation_id,
                actor_id=actor.user_id,
                subject_id=contact_id,
                about=Subject(SubjectKind.SERVICE, row["id"]),
                origin=actor.origin,
                data={
                    "service": str(row["id"]),
                    "before": str(row["contact"]) if row["contact"] else None,
                    "after": str(contact_id),
                },
            )
    return len(ids)
