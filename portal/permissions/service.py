"""Changing roles, policies and overrides. Every change bumps the permission version that
keys the principal cache, in the same transaction, so it takes effect on the next request."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from portal.activity.log import log_action
from portal.db import write_transaction
from portal.organisations.tables import Organisation
from portal.permissions.model import Area, Level, OverrideKind, validate_grants
from portal.permissions.tables import PermissionPolicy, PolicyGrant, Role, RolePolicy, UserRole
from portal.users.tables import User, UserOverride

MAX_ROLE_NAME = 100


class PermissionChangeError(ValueError):
    """Refused; nothing was written."""


class NotFound(LookupError):
    """No such record in this organisation (whether or not it exists in another)."""


async def create_policy(
    organisation_id: UUID, actor_id: UUID | None, name: str, grants: Mapping[str, str]
) -> UUID:
    name = _clean_name(name)
    parsed = _parse_grants(grants)
    async with write_transaction():
        if await PermissionPolicy.exists().where(
            (PermissionPolicy.organisation == organisation_id) & (PermissionPolicy.name == name)
        ):
            raise PermissionChangeError(f"A policy named {name!r} already exists.")
        policy = PermissionPolicy(organisation=organisation_id, name=name)
        await policy.save()
        await _write_grants(policy.id, parsed)
        await log_action(
            "policy.created",
            organisation_id=organisation_id,
            actor_id=actor_id,
            data={"policy": name, "grants": {a.value: lv.label for a, lv in parsed.items()}},
        )
    return policy.id


async def set_policy_grants(
    organisation_id: UUID, actor_id: UUID | None, policy_id: UUID, grants: Mapping[str, str]
) -> None:
    parsed = _parse_grants(grants)
    async with write_transaction():
        policy = (
            await PermissionPolicy.select(PermissionPolicy.name)
            .where(
                (PermissionPolicy.id == policy_id)
                & (PermissionPolicy.organisation == organisation_id)
            )
            .first()
        )
        if policy is None:
            raise NotFound("policy")
        before = {
            g["area"]: g["level"]
            for g in await PolicyGrant.select(PolicyGrant.area, PolicyGrant.level).where(
                PolicyGrant.policy == policy_id
            )
        }
        await PolicyGrant.delete().where(PolicyGrant.policy == policy_id)
        await _write_grants(policy_id, parsed)
        await _bump_organisation(organisation_id)
        await log_action(
            "policy.changed",
            organisation_id=organisation_id,
            actor_id=actor_id,
            data={
                "policy": policy["name"],
                "before": before,
                "after": {a.value: lv.label for a, lv in parsed.items()},
            },
        )


async def create_role(
    organisation_id: UUID, actor_id: UUID | None, name: str, policy_ids: list[UUID]
) -> UUID:
    name = _clean_name(name)
    async with write_transaction():
        found = (
            await PermissionPolicy.count().where(
                PermissionPolicy.id.is_in(policy_ids)
                & (PermissionPolicy.organisation == organisation_id)
            )
            if policy_ids
            else 0
        )
        if found != len(set(policy_ids)):
            raise NotFound("policy")
        if await Role.exists().where((Role.organisation == organisation_id) & (Role.name == name)):
            raise PermissionChangeError(f"A role named {name!r} already exists.")
        role = Role(organisation=organisation_id, name=name)
        await role.save()
        for policy_id in set(policy_ids):
            await RolePolicy(role=role.id, policy=policy_id).save()
        await log_action(
            "role.created", organisation_id=organisation_id, actor_id=actor_id, data={"role": name}
        )
    return role.id


async def assign_role(
    organisation_id: UUID, actor_id: UUID | None, user_id: UUID, role_id: UUID
) -> None:
    async with write_transaction():
        await _require_user(organisation_id, user_id)
        if not await Role.exists().where(
            (Role.id == role_id) & (Role.organisation == organisation_id)
        ):
            raise NotFound("role")
        if not await UserRole.exists().where(
            (UserRole.user == user_id) & (UserRole.role == role_id)
        ):
            await UserRole(user=user_id, role=role_id).save()
            await _bump_user(user_id)
            await log_action(
                "user.role_added",
                organisation_id=organisation_id,
                actor_id=actor_id,
                subject_id=user_id,
                data={"role": str(role_id)},
            )


async def set_override(
    organisation_id: UUID,
    actor_id: UUID | None,
    user_id: UUID,
    area: Area,
    kind: OverrideKind,
    level: Level | None,
) -> None:
    """Set (or with level None, remove) a user's grant or restriction in one area."""
    async with write_transaction():
        await _require_user(organisation_id, user_id)
        await UserOverride.delete().where(
            (UserOverride.user == user_id)
            & (UserOverride.area == area.value)
            & (UserOverride.kind == kind.value)
        )
        if level is not None:
            await UserOverride(
                user=user_id, area=area.value, kind=kind.value, level=level.label
            ).save()
        await _bump_user(user_id)
        await log_action(
            "user.override_set",
            organisation_id=organisation_id,
            actor_id=actor_id,
            subject_id=user_id,
            data={"area": area.value, "kind": kind.value, "level": level.label if level else None},
        )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_ROLE_NAME:
        raise PermissionChangeError(f"The name must be 1 to {MAX_ROLE_NAME} characters.")
    return cleaned


def _parse_grants(grants: Mapping[str, str]) -> dict[Area, Level]:
    try:
        return validate_grants(grants)
    except ValueError as error:
        raise PermissionChangeError(str(error)) from None


async def _write_grants(policy_id: UUID, grants: Mapping[Area, Level]) -> None:
    if grants:
        await PolicyGrant.insert(
            *(
                PolicyGrant(policy=policy_id, area=a.value, level=lv.label)
                for a, lv in grants.items()
            )
        )


async def _require_user(organisation_id: UUID, user_id: UUID) -> None:
    if not await User.exists().where((User.id == user_id) & (User.organisation == organisation_id)):
        raise NotFound("user")


async def _bump_user(user_id: UUID) -> None:
    await User.update({User.permissions_version: User.permissions_version + 1}).where(
        User.id == user_id
    )


async def _bump_organisation(organisation_id: UUID) -> None:
    await Organisation.update(
        {Organisation.permissions_version: Organisation.permissions_version + 1}
    ).where(Organisation.id == organisation_id)
