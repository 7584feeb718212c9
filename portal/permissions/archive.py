"""Archiving a custom role, and restoring it. Roles are never deleted: an archived role keeps
its name, policies and history, and is no longer offered or accepted when giving roles.
A role that someone still holds is not archived: its holders would keep access through it."""

from __future__ import annotations

from uuid import UUID

from portal.activity.log import Actor, Subject, SubjectKind, log_action
from portal.db import lock_organisation, write_transaction
from portal.errors import NotFound, Refusal
from portal.permissions.tables import Role, UserRole


class RoleArchiveError(Refusal):
    """The role is not in a state to be archived or restored; nothing was written."""

    status = 409


def why_not_archive(*, archived: bool, holders: int) -> str | None:
    """Why a role may not be archived (None: it may). The role's page asks the same."""
    if archived:
        return "This role is already archived."
    if holders == 1:
        return "1 person holds this role; take it from them first."
    if holders:
        return f"{holders:,} people hold this role; take it from them first."
    return None


def why_not_restore(*, archived: bool) -> str | None:
    return None if archived else "This role is not archived."


async def archive_role(actor: Actor, role_id: UUID) -> None:
    await _set_archived(actor, role_id, archived=True)


async def restore_role(actor: Actor, role_id: UUID) -> None:
    await _set_archived(actor, role_id, archived=False)


async def role_holders(role_id: UUID) -> int:
    count: int = await UserRole.count().where(UserRole.role == role_id)
    return count


async def _set_archived(actor: Actor, role_id: UUID, *, archived: bool) -> None:
    async with write_transaction():
        # Serialised with giving roles (users' edits and invitations lock it too), so nobody
        # is given the role between the count of its holders and the archiving.
        await lock_organisation(actor.organisation_id)
        role = (
            await Role.select(Role.name, Role.archived)
            .where((Role.id == role_id) & (Role.organisation == actor.organisation_id))
            .first()
        )
        if role is None:
            raise NotFound("role")
        if archived:
            refusal = why_not_archive(
                archived=role["archived"], holders=await role_holders(role_id)
            )
        else:
            refusal = why_not_restore(archived=role["archived"])
        if refusal:
            raise RoleArchiveError(refusal)
        await Role.update({Role.archived: archived}).where(Role.id == role_id)
        await log_action(
            "role.archived" if archived else "role.restored",
            organisation_id=actor.organisation_id,
            about=Subject(SubjectKind.ROLE, role_id),
            actor_id=actor.user_id,
            origin=actor.origin,
            data={
                "role": role["name"],
                "before": {"archived": not archived},
                "after": {"archived": archived},
            },
        )
