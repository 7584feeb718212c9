"""Who is who in an organisation, as the approval rules need it: active users, admins, and the
members of the roles that policies name. Read fresh for every evaluation and decision."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from piccolo.querystring import QueryString

from portal.approvals.rules import TIER_ROLE_PREFIX, Directory
from portal.db import engine
from portal.organisations.tables import Organisation
from portal.permissions.model import Tier
from portal.permissions.tables import UserRole
from portal.users.tables import User


def _people_query() -> str:
    """The organisation's active people, as SQL text built once from the table definition:
    every evaluation and decision reads it."""
    columns = ", ".join(
        f'"{c._meta.db_column_name}"' for c in (User.id, User.tier, User.email, User.full_name)
    )
    return (
        f'SELECT {columns} FROM "{User._meta.tablename}" '  # noqa: S608
        f'WHERE "{User.organisation._meta.db_column_name}" = {{}} '
        f"AND \"{User.status._meta.db_column_name}\" = 'active'"
    )


_PEOPLE_QUERY = _people_query()


async def load_directory(
    organisation_id: UUID, roles: Collection[str] = (), distinct_levels: bool | None = None
) -> Directory:
    """`distinct_levels`: the organisation's rule where the caller has read it already (the
    engine's order row holds it), saving a statement."""
    people = await engine().run_querystring(QueryString(_PEOPLE_QUERY, organisation_id))
    active = frozenset(person["id"] for person in people)
    members: dict[str, frozenset[UUID]] = {}
    custom: list[UUID] = []
    for role in roles:
        if role.startswith(TIER_ROLE_PREFIX):
            tier = role.removeprefix(TIER_ROLE_PREFIX)
            members[role] = frozenset(p["id"] for p in people if p["tier"] == tier)
        else:
            try:
                custom.append(UUID(role))
            except ValueError:
                continue
    if custom:
        holders = await UserRole.select(UserRole.role, UserRole.user).where(
            UserRole.role.is_in(custom)
        )
        for role_id in custom:
            members[str(role_id)] = frozenset(
                h["user"] for h in holders if h["role"] == role_id and h["user"] in active
            )
    admins = frozenset(p["id"] for p in people if p["tier"] == Tier.ADMIN.value)
    return Directory(
        active=active,
        admins=admins,
        role_members=members,
        contacts={p["id"]: (p["email"], p["full_name"]) for p in people},
        distinct_levels=(
            await distinct_levels_of(organisation_id)
            if distinct_levels is None
            else bool(distinct_levels)
        ),
    )


async def distinct_levels_of(organisation_id: UUID) -> bool:
    """The organisation's rule "each level needs a different person"."""
    row = (
        await Organisation.select(Organisation.approval_distinct_levels)
        .where(Organisation.id == organisation_id)
        .first()
    )
    return bool(row and row["approval_distinct_levels"])
