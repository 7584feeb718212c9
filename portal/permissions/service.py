"""Changing roles, policies and overrides. Every change bumps the permission version that
keys the principal cache, in the same transaction, so it takes effect on the next request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from portal.activity.log import Actor, Subject, SubjectKind, log_action
from portal.db import UNIQUE_VIOLATIONS, write_transaction
from portal.errors import NotFound, Refusal
from portal.organisations.tables import Organisation
from portal.permissions.model import MAX_POLICIES_PER_ROLE, Area, Level, parse_grants
from portal.permissions.tables import PermissionPolicy, PolicyGrant, Role, RolePolicy
from portal.text import has_control_characters

MAX_ROLE_NAME = 100
MAX_DESCRIPTION = 500
# A description is free text over several lines; every other control character is refused
# (PostgreSQL cannot even store NUL).


class PermissionChangeError(Refusal):
    """Refused; nothing was written. ``errors`` maps each refused field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(errors=errors)


async def create_policy(
    actor: Actor, name: str, grants: Mapping[str, str], *, description: str = ""
) -> UUID:
    errors: dict[str, str] = {}
    name = _check_name(name, errors)
    description = _check_description(description, errors)
    parsed, grant_errors = parse_grants(grants)
    errors.update(grant_errors)
    _refuse(errors)
    try:
        async with write_transaction():
            await _refuse_duplicate_name("policy", actor.organisation_id, name)
            policy = PermissionPolicy(
                organisation=actor.organisation_id, name=name, description=description
            )
            await policy.save()
            await _write_grants(policy.id, parsed)
            await log_action(
                "policy.created",
                organisation_id=actor.organisation_id,
                about=Subject(SubjectKind.PERMISSION_POLICY, policy.id),
                actor_id=actor.user_id,
                origin=actor.origin,
                data={"policy": name, "after": _policy_state(name, description, parsed)},
            )
    except UNIQUE_VIOLATIONS:
        # Two submits raced past the check above; the unique index kept one.
        raise _duplicate("policy", name) from None
    return policy.id


async def update_policy(
    actor: Actor, policy_id: UUID, *, name: str, description: str, grants: Mapping[str, str]
) -> None:
    """Rename, describe and replace the grants of a policy: every holder of a role that uses
    it gets the new access on their next request. A save that changes nothing writes, bumps
    and logs nothing."""
    errors: dict[str, str] = {}
    name = _check_name(name, errors)
    description = _check_description(description, errors)
    parsed, grant_errors = parse_grants(grants)
    errors.update(grant_errors)
    _refuse(errors)
    try:
        async with write_transaction():
            policy = (
                await PermissionPolicy.select(PermissionPolicy.name, PermissionPolicy.description)
                .where(
                    (PermissionPolicy.id == policy_id)
                    & (PermissionPolicy.organisation == actor.organisation_id)
                )
                .first()
            )
            if policy is None:
                raise NotFound("policy")
            await _refuse_duplicate_name("policy", actor.organisation_id, name, except_id=policy_id)
            before = _policy_state(
                policy["name"], policy["description"], await _stored_grants(policy_id)
            )
            after = _policy_state(name, description, parsed)
            if before == after:
                return
            await PermissionPolicy.update(
                {PermissionPolicy.name: name, PermissionPolicy.description: description}
            ).where(PermissionPolicy.id == policy_id)
            await PolicyGrant.delete().where(PolicyGrant.policy == policy_id)
            await _write_grants(policy_id, parsed)
            # Every holder of every role using this policy: one organisation-wide bump.
            await _bump_organisation(actor.organisation_id)
            await log_action(
                "policy.changed",
                organisation_id=actor.organisation_id,
                about=Subject(SubjectKind.PERMISSION_POLICY, policy_id),
                actor_id=actor.user_id,
                origin=actor.origin,
                data={"policy": name, "before": before, "after": after},
            )
    except UNIQUE_VIOLATIONS:
        raise _duplicate("policy", name) from None


async def create_role(
    actor: Actor, name: str, policy_ids: Iterable[UUID], *, description: str = ""
) -> UUID:
    errors: dict[str, str] = {}
    name = _check_name(name, errors)
    description = _check_description(description, errors)
    wanted = _check_policy_ids(policy_ids, errors)
    _refuse(errors)
    try:
        async with write_transaction():
            policy_names = await _require_policies(actor.organisation_id, wanted)
            await _refuse_duplicate_name("role", actor.organisation_id, name)
            role = Role(organisation=actor.organisation_id, name=name, description=description)
            await role.save()
            await _link_policies(role.id, wanted)
            await log_action(
                "role.created",
                organisation_id=actor.organisation_id,
                about=Subject(SubjectKind.ROLE, role.id),
                actor_id=actor.user_id,
                origin=actor.origin,
                data={"role": name, "after": _role_state(name, description, policy_names)},
            )
    except UNIQUE_VIOLATIONS:
        raise _duplicate("role", name) from None
    return role.id


async def update_role(
    actor: Actor, role_id: UUID, *, name: str, description: str, policy_ids: Iterable[UUID]
) -> None:
    """Rename, describe and choose the policies of a role: its holders get the new access
    (and see the new name) on their next request. A save that changes nothing writes nothing."""
    errors: dict[str, str] = {}
    name = _check_name(name, errors)
    description = _check_description(description, errors)
    wanted = _check_policy_ids(policy_ids, errors)
    _refuse(errors)
    try:
        async with write_transaction():
            role = (
                await Role.select(Role.name, Role.description)
                .where((Role.id == role_id) & (Role.organisation == actor.organisation_id))
                .first()
            )
            if role is None:
                raise NotFound("role")
            policy_names = await _require_policies(actor.organisation_id, wanted)
            await _refuse_duplicate_name("role", actor.organisation_id, name, except_id=role_id)
            linked = {
                link["policy"]
                for link in await RolePolicy.select(RolePolicy.policy).where(
                    RolePolicy.role == role_id
                )
            }
            if (role["name"], role["description"], linked) == (name, description, set(wanted)):
                return
            before_names = await _policy_names(actor.organisation_id, linked)
            await Role.update({Role.name: name, Role.description: description}).where(
                Role.id == role_id
            )
            await RolePolicy.delete().where(RolePolicy.role == role_id)
            await _link_policies(role_id, wanted)
            await _bump_organisation(actor.organisation_id)
            await log_action(
                "role.changed",
                organisation_id=actor.organisation_id,
                about=Subject(SubjectKind.ROLE, role_id),
                actor_id=actor.user_id,
                origin=actor.origin,
                data={
                    "role": name,
                    "before": _role_state(role["name"], role["description"], before_names),
                    "after": _role_state(name, description, policy_names),
                },
            )
    except UNIQUE_VIOLATIONS:
        raise _duplicate("role", name) from None


def _check_name(name: str, errors: dict[str, str]) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        errors["name"] = "Enter a name."
    elif len(cleaned) > MAX_ROLE_NAME:
        errors["name"] = (
            f"The name can be at most {MAX_ROLE_NAME} characters; this one has {len(cleaned):,}."
        )
    elif has_control_characters(cleaned):
        errors["name"] = "The name cannot contain control characters."
    return cleaned


def _check_description(description: str, errors: dict[str, str]) -> str:
    cleaned = description.replace("\r\n", "\n").strip()
    if len(cleaned) > MAX_DESCRIPTION:
        errors["description"] = (
            f"The description can be at most {MAX_DESCRIPTION} characters; "
            f"this one has {len(cleaned):,}."
        )
    elif has_control_characters(cleaned, multiline=True):
        errors["description"] = "The description cannot contain control characters."
    return cleaned


def _check_policy_ids(policy_ids: Iterable[UUID], errors: dict[str, str]) -> list[UUID]:
    unique = list(dict.fromkeys(policy_ids))
    if len(unique) > MAX_POLICIES_PER_ROLE:
        errors["policy_ids"] = f"A role can use at most {MAX_POLICIES_PER_ROLE} policies."
        return []
    return unique


def _refuse(errors: Mapping[str, str]) -> None:
    if errors:
        raise PermissionChangeError(errors)


def _duplicate(kind: str, name: str) -> PermissionChangeError:
    return PermissionChangeError(
        {"name": f"A {kind} named {name!r} already exists. Choose another name."}
    )


async def _refuse_duplicate_name(
    kind: str, organisation_id: UUID, name: str, except_id: UUID | None = None
) -> None:
    table: type[PermissionPolicy] | type[Role] = PermissionPolicy if kind == "policy" else Role
    query = table.exists().where((table.organisation == organisation_id) & (table.name == name))
    if except_id is not None:
        query = query.where(table.id != except_id)
    if await query:
        raise _duplicate(kind, name)


async def _require_policies(organisation_id: UUID, policy_ids: list[UUID]) -> list[str]:
    """The names of the policies, all of this organisation, or NotFound("policy")."""
    names = await _policy_names(organisation_id, policy_ids)
    if len(names) != len(policy_ids):
        raise NotFound("policy")
    return names


async def _policy_names(organisation_id: UUID, policy_ids: Iterable[UUID]) -> list[str]:
    ids = list(policy_ids)
    if not ids:
        return []
    rows = (
        await PermissionPolicy.select(PermissionPolicy.name)
        .where(PermissionPolicy.id.is_in(ids) & (PermissionPolicy.organisation == organisation_id))
        .order_by(PermissionPolicy.name)
    )
    return [row["name"] for row in rows]


async def _link_policies(role_id: UUID, policy_ids: list[UUID]) -> None:
    if policy_ids:
        await RolePolicy.insert(*(RolePolicy(role=role_id, policy=p) for p in policy_ids))


async def _stored_grants(policy_id: UUID) -> dict[Area, Level]:
    rows = await PolicyGrant.select(PolicyGrant.area, PolicyGrant.level).where(
        PolicyGrant.policy == policy_id
    )
    return {Area(row["area"]): Level.parse(row["level"]) for row in rows}


def _policy_state(name: str, description: str, grants: Mapping[Area, Level]) -> dict[str, Any]:
    """A policy as the activity log records it, before or after a change."""
    return {
        "name": name,
        "description": description,
        "grants": {area.value: level.label for area, level in sorted(grants.items())},
    }


def _role_state(name: str, description: str, policy_names: list[str]) -> dict[str, Any]:
    return {"name": name, "description": description, "policies": sorted(policy_names)}


async def _write_grants(policy_id: UUID, grants: Mapping[Area, Level]) -> None:
    if grants:
        await PolicyGrant.insert(
            *(
                PolicyGrant(policy=policy_id, area=a.value, level=lv.label)
                for a, lv in grants.items()
            )
        )


async def _bump_organisation(organisation_id: UUID) -> None:
    await Organisation.update(
        {Organisation.permissions_version: Organisation.permissions_version + 1}
    ).where(Organisation.id == organisation_id)
