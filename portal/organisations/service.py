"""Creating organisations and their owners: the provider operator's job."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from portal.activity.log import Subject, SubjectKind, log_action
from portal.approvals.eligibility import refresh_for_organisation
from portal.auth.password_policy import PasswordRules, password_problems
from portal.auth.passwords import hash_password
from portal.db import UNIQUE_VIOLATIONS, write_transaction
from portal.errors import Refusal
from portal.organisations.tables import Organisation
from portal.permissions.model import Tier
from portal.users.emails import is_valid_email, normalise_email
from portal.users.tables import User

MAX_NAME_LENGTH = 200


class OrganisationError(Refusal):
    """Input refused; the message says why and nothing was written."""


@dataclass(frozen=True, slots=True)
class NewMember:
    email: str
    full_name: str
    tier: Tier
    password: str


def organisation_key(name: str) -> str:
    return " ".join(name.casefold().split())


async def create_organisation(name: str, owner: NewMember) -> UUID:
    """Create an organisation whose first member is its owner, an active admin."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise OrganisationError(f"The organisation name must be 1 to {MAX_NAME_LENGTH} characters.")
    try:
        return await _create(name, owner)
    except UNIQUE_VIOLATIONS as error:
        # Two operators racing with the same name or email: the database keeps one.
        raise OrganisationError(
            "That organisation name or owner email was taken a moment ago."
        ) from error


async def _create(name: str, owner: NewMember) -> UUID:
    async with write_transaction():
        if await Organisation.exists().where(Organisation.name_key == organisation_key(name)):
            raise OrganisationError(f"An organisation named {name!r} already exists.")
        organisation = Organisation(name=name, name_key=organisation_key(name))
        await organisation.save()
        await add_member(organisation.id, name, owner, is_owner=True)
        await log_action(
            "organisation.created",
            organisation_id=organisation.id,
            about=Subject(SubjectKind.ORGANISATION, organisation.id),
        )
    return organisation.id


async def add_member(
    organisation_id: UUID, organisation_name: str, member: NewMember, *, is_owner: bool = False
) -> UUID:
    """Add an active member with a password. Call inside a write transaction."""
    email = normalise_email(member.email)
    full_name = " ".join(member.full_name.split())
    if not is_valid_email(email):
        raise OrganisationError(f"{member.email!r} is not a valid email address.")
    if not full_name or len(full_name) > MAX_NAME_LENGTH:
        raise OrganisationError(f"The full name must be 1 to {MAX_NAME_LENGTH} characters.")
    problems = password_problems(member.password, PasswordRules(), email, organisation_name)
    if problems:
        raise OrganisationError(" ".join(problems))
    if await User.exists().where(User.email == email):
        raise OrganisationError(f"The email {email} is already in use.")
    user = User(
        organisation=organisation_id,
        email=email,
        full_name=full_name,
        tier=member.tier.value,
        status="active",
        is_owner=is_owner,
        password_hash=hash_password(member.password),
    )
    await user.save()
    await refresh_for_organisation(organisation_id)  # a new admin may decide fallen levels
    await log_action(
        "user.created",
        organisation_id=organisation_id,
        subject_id=user.id,
        data={"email": email, "tier": member.tier.value, "owner": is_owner},
    )
    return user.id
