"""The user lifecycle: deactivate and reactivate. Users are never deleted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from portal.activity.log import Actor, log_action
from portal.approvals.completion import settle_after_people_change
from portal.approvals.eligibility import refresh_for_organisation
from portal.approvals.upkeep import hand_over_after_deactivation
from portal.db import lock_organisation, write_transaction
from portal.errors import NotFound, Refusal
from portal.invitations.service import InvitationError, send_invitation
from portal.invitations.tables import Invitation
from portal.jobs import wake_delivery
from portal.organisations.service import MAX_NAME_LENGTH
from portal.permissions.model import AREA_MAX_LEVEL, Area, Level, OverrideKind, Tier
from portal.permissions.queries import NOT_ASSIGNABLE, all_assignable
from portal.permissions.tables import UserRole
from portal.text import add_control_character_errors
from portal.users.profile import language_problem, time_zone_problem
from portal.users.tables import User, UserOverride

MAX_REASON_LENGTH = 500


class LifecycleError(Refusal):
    """A rule of the organisation refuses the change (owner, last admin); nothing was written."""

    status = 409


async def deactivate(actor: Actor, user_id: UUID, base_url: str, reason: str = "") -> list[UUID]:
    """Stop sign-in, end sessions and API access on the next request, cancel any invitation.
    Orders left without an approver go to the admins; the emails telling them are woken
    after the commit, and their ids returned."""
    reason = reason.strip()[:MAX_REASON_LENGTH]
    async with write_transaction():
        await lock_organisation(actor.organisation_id)
        user = await _user(actor.organisation_id, user_id)
        if user["status"] == "inactive":
            return []
        refusal = why_not_deactivate(
            is_owner=bool(user["is_owner"]),
            by_themselves=user_id == actor.user_id,
            active_admin=user["status"] == "active" and user["tier"] == "admin",
            other_active_admins=await other_active_admins(actor.organisation_id, user_id),
        )
        if refusal:
            raise LifecycleError(refusal)
        await Invitation.update({Invitation.status: "cancelled"}).where(
            (Invitation.user == user_id) & (Invitation.status == "pending")
        )
        await User.update(
            {User.status: "inactive", User.session_epoch: User.session_epoch + 1}
        ).where(User.id == user_id)
        await log_action(
            "user.deactivated",
            organisation_id=actor.organisation_id,
            actor_id=actor.user_id,
            subject_id=user_id,
            origin=actor.origin,
            reason=reason[:64],
            data={"before": user["status"], "after": "inactive", "reason": reason},
        )
        emails = await hand_over_after_deactivation(actor.organisation_id, user_id, base_url)
    wake_delivery(emails)
    return emails


async def reactivate(actor: Actor, user_id: UUID, base_url: str, reason: str = "") -> UUID | None:
    """Restore the same account. One that never set a password is invited again: the id of
    the id of the invitation email, woken after the commit, is returned."""
    reason = reason.strip()[:MAX_REASON_LENGTH]
    async with write_transaction():
        user = await _user(actor.organisation_id, user_id)
        if user["status"] != "inactive":
            raise LifecycleError("Only inactive users can be reactivated.")
        never_activated = user["password_hash"] is None
        await User.update({User.status: "invited" if never_activated else "active"}).where(
            User.id == user_id
        )
        await refresh_for_organisation(actor.organisation_id)
        await log_action(
            "user.reactivated",
            organisation_id=actor.organisation_id,
            actor_id=actor.user_id,
            subject_id=user_id,
            origin=actor.origin,
            reason=reason[:64],
            data={"reason": reason, "invited_again": never_activated},
        )
    if never_activated:
        try:
            return await send_invitation(actor, user_id, base_url)
        except InvitationError as error:
            raise LifecycleError(" ".join(error.errors.values())) from None
    return None


async def _user(organisation_id: UUID, user_id: UUID) -> dict[str, object]:
    user = (
        await User.select(User.status, User.tier, User.is_owner, User.password_hash)
        .where((User.id == user_id) & (User.organisation == organisation_id))
        .first()
    )
    if user is None:
        raise NotFound("user")
    return user


def why_not_deactivate(
    *, is_owner: bool, by_themselves: bool, active_admin: bool, other_active_admins: int
) -> str | None:
    """Why a user may not be deactivated (None: they may). The user's page asks the same, so
    it offers no button that would only be refused."""
    if is_owner and not by_themselves:
        return "The owner of the organisation cannot be deactivated by others."
    if active_admin and other_active_admins == 0:
        return "The last active admin of the organisation cannot be deactivated."
    return None


async def other_active_admins(organisation_id: UUID, user_id: UUID) -> int:
    count: int = await User.count().where(
        (User.organisation == organisation_id)
        & (User.status == "active")
        & (User.tier == "admin")
        & (User.id != user_id)
    )
    return count


@dataclass(frozen=True, slots=True)
class UserChanges:
    """What an admin may change on a user; None leaves a field as it is."""

    full_name: str | None = None
    display_name: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    tier: str | None = None
    role_ids: Sequence[UUID] | None = None
    # area -> (kind, level), or None to remove; areas left out are unchanged.
    overrides: Mapping[Area, tuple[OverrideKind, Level] | None] = field(default_factory=dict)


def validate_changes(changes: UserChanges) -> dict[str, str]:
    """Field errors, without touching the database."""
    errors = {}
    if changes.full_name is not None:
        name = " ".join(changes.full_name.split())
        if not name or len(name) > MAX_NAME_LENGTH:
            errors["full_name"] = f"Use 1 to {MAX_NAME_LENGTH} characters."
    if changes.display_name is not None and len(changes.display_name.strip()) > MAX_NAME_LENGTH:
        errors["display_name"] = f"Use at most {MAX_NAME_LENGTH} characters."
    if changes.locale is not None and (problem := language_problem(changes.locale.strip())):
        errors["locale"] = problem
    if changes.time_zone is not None and (problem := time_zone_problem(changes.time_zone.strip())):
        errors["time_zone"] = problem
    if changes.tier is not None and changes.tier not in {tier.value for tier in Tier}:
        errors["tier"] = "Choose admin, manager or user."
    for area, override in changes.overrides.items():
        if override is not None and override[1] > AREA_MAX_LEVEL[area]:
            errors[f"override_{area.value}"] = "That level does not exist in this area."
    # Locale and time zone come from fixed lists; the names hold free text.
    add_control_character_errors(
        errors,
        {"full_name": changes.full_name or "", "display_name": changes.display_name or ""},
    )
    return errors


async def change_user(
    actor: Actor,
    user_id: UUID,
    changes: UserChanges,
    reason: str = "",
    detail: str = "",
    *,
    base_url: str,
) -> int | None:
    """Apply an admin's edit in one transaction, logged with before and after values. Returns
    the user's new session epoch when the edit ended their sessions (a new permission level).
    A new tier changes who may decide waiting orders: a demoted admin leaves the levels that
    fell to the admins, which may leave one complete (it then moves on)."""
    errors = validate_changes(changes)
    if errors:
        raise ChangeError(errors)
    reason, detail = reason.strip()[:MAX_REASON_LENGTH], detail.strip()[:MAX_REASON_LENGTH]
    async with write_transaction():
        await lock_organisation(actor.organisation_id)
        current = (
            await User.select(
                User.full_name,
                User.display_name,
                User.locale,
                User.time_zone,
                User.tier,
                User.status,
                User.is_owner,
            )
            .where((User.id == user_id) & (User.organisation == actor.organisation_id))
            .first()
        )
        if current is None:
            raise NotFound("user")
        updates: dict[Any, Any] = {}
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for name, value in requested_fields(changes).items():
            if current[name] != value:
                updates[getattr(User, name)] = value
                before[name], after[name] = current[name], value
        if "tier" in after and current["tier"] == "admin":
            if current["is_owner"] and user_id != actor.user_id:
                raise LifecycleError("Nobody else can change the owner's permission level.")
            if current["status"] == "active" and not await other_active_admins(
                actor.organisation_id, user_id
            ):
                raise LifecycleError(
                    "The last active admin of the organisation keeps the admin level: "
                    "make someone else an admin first."
                )
        permissions_changed = "tier" in after
        if changes.role_ids is not None:
            permissions_changed |= await _set_roles(actor, user_id, changes.role_ids, before, after)
        for area, override in changes.overrides.items():
            permissions_changed |= await _set_override(user_id, area, override, before, after)
        if not after:
            return None
        if permissions_changed:
            updates[User.permissions_version] = User.permissions_version + 1
        if "tier" in after:
            # A new permission level ends the user's sessions: they sign in again under it.
            updates[User.session_epoch] = User.session_epoch + 1
        epoch = None
        emails: list[UUID] = []
        if updates:
            changed = (
                await User.update(updates).where(User.id == user_id).returning(User.session_epoch)
            )
            if "tier" in after:
                epoch = changed[0]["session_epoch"]
                emails = (await settle_after_people_change(actor.organisation_id, base_url)).emails
        await log_action(
            "user.changed",
            organisation_id=actor.organisation_id,
            actor_id=actor.user_id,
            subject_id=user_id,
            origin=actor.origin,
            reason=reason[:64],
            data={"before": before, "after": after, "reason": reason, "detail": detail},
        )
    wake_delivery(emails)
    return epoch


def requested_fields(changes: UserChanges) -> dict[str, str | None]:
    """The profile and tier values an edit asks for, cleaned; an empty display name clears it."""
    fields: dict[str, str | None] = {}
    if changes.full_name is not None:
        fields["full_name"] = " ".join(changes.full_name.split())
    if changes.display_name is not None:
        fields["display_name"] = changes.display_name.strip() or None
    if changes.locale is not None:
        fields["locale"] = changes.locale.strip()
    if changes.time_zone is not None:
        fields["time_zone"] = changes.time_zone.strip()
    if changes.tier is not None:
        fields["tier"] = changes.tier
    return fields


class ChangeError(Refusal):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


async def _set_roles(
    actor: Actor,
    user_id: UUID,
    role_ids: Sequence[UUID],
    before: dict[str, Any],
    after: dict[str, Any],
) -> bool:
    wanted = set(role_ids)
    held = {r["role"] for r in await UserRole.select(UserRole.role).where(UserRole.user == user_id)}
    if not await all_assignable(actor.organisation_id, wanted - held):
        raise ChangeError({"roles": NOT_ASSIGNABLE})
    if held == wanted:
        return False
    if held - wanted:
        await UserRole.delete().where(
            (UserRole.user == user_id) & UserRole.role.is_in(list(held - wanted))
        )
    for role_id in wanted - held:
        await UserRole(user=user_id, role=role_id).save()
    before["roles"] = sorted(str(r) for r in held)
    after["roles"] = sorted(str(r) for r in wanted)
    return True


async def _set_override(
    user_id: UUID,
    area: Area,
    override: tuple[OverrideKind, Level] | None,
    before: dict[str, Any],
    after: dict[str, Any],
) -> bool:
    """One override per area: a grant or a restriction, or none."""
    rows = await UserOverride.select(UserOverride.kind, UserOverride.level).where(
        (UserOverride.user == user_id) & (UserOverride.area == area.value)
    )
    held = {(r["kind"], r["level"]) for r in rows}
    wanted = {(override[0].value, override[1].label)} if override else set()
    if held == wanted:
        return False
    await UserOverride.delete().where(
        (UserOverride.user == user_id) & (UserOverride.area == area.value)
    )
    if override is not None:
        await UserOverride(
            user=user_id, area=area.value, kind=override[0].value, level=override[1].label
        ).save()
    key = f"override.{area.value}"
    before[key] = sorted(f"{k}:{v}" for k, v in held) or None
    after[key] = sorted(f"{k}:{v}" for k, v in wanted) or None
    return True
