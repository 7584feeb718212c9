"""Listing an organisation's users: search, filters, sort and keyset pagination.

Keyset, not OFFSET: a deep page costs the same as the first, because the query starts from the
last row shown (sort value, id) instead of counting past every row before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from piccolo.columns import Column
from piccolo.columns.combination import And, Or, Where, WhereRaw

from portal.errors import NotFound
from portal.invitations.tables import Invitation
from portal.pagination import decode_cursor, encode_cursor
from portal.permissions.model import Tier
from portal.permissions.tables import UserRole
from portal.users.tables import User, UserOverride

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 200


class StatusFilter(StrEnum):
    ACTIVE = "active"
    INVITED_PENDING = "invited_pending"
    INVITED_EXPIRED = "invited_expired"
    INACTIVE = "inactive"


class Sort(StrEnum):
    NAME = "name"
    EMAIL = "email"


SORT_COLUMN: dict[Sort, Column] = {Sort.NAME: User.full_name, Sort.EMAIL: User.email}

STATUS_LABELS = {
    StatusFilter.ACTIVE: "Active",
    StatusFilter.INVITED_PENDING: "Invited (pending)",
    StatusFilter.INVITED_EXPIRED: "Invited (expired)",
    StatusFilter.INACTIVE: "Inactive",
}


@dataclass(frozen=True, slots=True)
class UserQuery:
    search: str = ""
    status: StatusFilter | None = None
    tier: str | None = None
    sort: Sort = Sort.NAME
    after: str | None = None  # an opaque cursor from the previous page
    limit: int = PAGE_SIZE


@dataclass(frozen=True, slots=True)
class UserRow:
    id: UUID
    full_name: str
    email: str
    tier: str
    status: StatusFilter
    is_owner: bool
    last_sign_in_at: datetime | None
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UserPage:
    rows: list[UserRow]
    next_cursor: str | None


ROW_COLUMNS = (
    User.id,
    User.full_name,
    User.email,
    User.tier,
    User.status,
    User.is_owner,
    User.last_sign_in_at,
)


def _live_invitations(among: Any) -> Any:
    """Users with a usable invitation, among those `among` selects (an organisation, ids)."""
    return Invitation.select(Invitation.user).where(
        among & (Invitation.status == "pending") & (Invitation.expires_at > datetime.now(UTC))
    )


def _status_condition(organisation_id: UUID, status: StatusFilter) -> Where | And | Or:
    if status is StatusFilter.ACTIVE:
        return User.status == "active"
    if status is StatusFilter.INACTIVE:
        return User.status == "inactive"
    if status is StatusFilter.INVITED_PENDING:
        return (User.status == "invited") & User.id.is_in(
            _live_invitations(Invitation.organisation == organisation_id)
        )
    return (User.status == "invited") & User.id.not_in(
        _live_invitations(Invitation.organisation == organisation_id)
    )


async def list_users(organisation_id: UUID, query: UserQuery) -> UserPage:
    sort_column = SORT_COLUMN[query.sort]
    condition: Any = User.organisation == organisation_id
    search = query.search.strip()[:MAX_QUERY_LENGTH]
    if search:
        pattern = "%" + search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        condition &= User.full_name.ilike(pattern) | User.email.ilike(pattern)
    if query.status is not None:
        condition &= _status_condition(organisation_id, query.status)
    if query.tier:
        condition &= User.tier == query.tier
    if query.after:
        value, last_id = decode_cursor(query.after)
        # A row-value comparison, not "a > x OR (a = x AND id > y)": only this form lets the
        # database walk the (organisation, column, id) index from the cursor onwards.
        column = sort_column._meta.db_column_name
        condition &= WhereRaw(f'("{column}", "id") > ({{}}, {{}})', value, last_id)
    rows = (
        await User.select(*ROW_COLUMNS)
        .where(condition)
        .order_by(sort_column, User.id)
        .limit(query.limit + 1)
    )
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        sort_key = "full_name" if query.sort is Sort.NAME else "email"
        next_cursor = encode_cursor(last[sort_key], last["id"])
    return UserPage(await _user_rows(rows), next_cursor)


async def user_row(organisation_id: UUID, user_id: UUID) -> UserRow | None:
    """One user as the list shows them (status, roles), or None outside this organisation."""
    rows = await User.select(*ROW_COLUMNS).where(
        (User.id == user_id) & (User.organisation == organisation_id)
    )
    found = await _user_rows(rows)
    return found[0] if found else None


async def _user_rows(rows: list[dict[str, Any]]) -> list[UserRow]:
    """Rows with their derived status and role names: two queries for the whole page."""
    ids = [row["id"] for row in rows]
    live = set()
    roles: dict[UUID, list[str]] = {}
    if ids:
        live = {r["user"] for r in await _live_invitations(Invitation.user.is_in(ids))}
        for link in await UserRole.select(UserRole.user, UserRole.role.name.as_alias("name")).where(
            UserRole.user.is_in(ids)
        ):
            roles.setdefault(link["user"], []).append(link["name"])
    return [
        UserRow(
            id=row["id"],
            full_name=row["full_name"],
            email=row["email"],
            tier=row["tier"],
            status=_row_status(row["status"], row["id"] in live),
            is_owner=row["is_owner"],
            last_sign_in_at=row["last_sign_in_at"],
            roles=tuple(sorted(roles.get(row["id"], []))),
        )
        for row in rows
    ]


def _row_status(status: str, has_live_invitation: bool) -> StatusFilter:
    if status == "invited":
        return StatusFilter.INVITED_PENDING if has_live_invitation else StatusFilter.INVITED_EXPIRED
    return StatusFilter(status)


def parse_user_query(params: Any) -> tuple[UserQuery, str | None]:
    """The list's query from the address bar; unknown values are reported, not guessed."""
    status_raw = params.get("status") or None
    tier = params.get("tier") or None
    sort_raw = params.get("sort") or Sort.NAME.value
    problem = None
    status = None
    if status_raw is not None:
        try:
            status = StatusFilter(status_raw)
        except ValueError:
            problem = f"Unknown status filter {status_raw[:40]!r}."
    if tier is not None and tier not in {t.value for t in Tier}:
        problem, tier = f"Unknown permission level {tier[:40]!r}.", None
    try:
        sort = Sort(sort_raw)
    except ValueError:
        problem, sort = f"Unknown sort order {sort_raw[:40]!r}.", Sort.NAME
    query = UserQuery(
        search=(params.get("q") or "")[:200],
        status=status,
        tier=tier,
        sort=sort,
        after=params.get("after") or None,
    )
    return query, problem


async def people(organisation_id: UUID, *, active_only: bool = True) -> list[dict[str, Any]]:
    """The organisation's people as choices (id, full name), by name: contacts, approvers,
    requesters."""
    condition: Where | And = User.organisation == organisation_id
    if active_only:
        condition = condition & (User.status == "active")
    rows: list[dict[str, Any]] = (
        await User.select(User.id, User.full_name).where(condition).order_by(User.full_name)
    )
    return rows


async def person(organisation_id: UUID, user_id: UUID) -> dict[str, Any]:
    """One of the organisation's people (id, full name), or NotFound("user")."""
    row = (
        await User.select(User.id, User.full_name)
        .where((User.id == user_id) & (User.organisation == organisation_id))
        .first()
    )
    if row is None:
        raise NotFound("user")
    return row


async def user_detail(organisation_id: UUID, user_id: UUID) -> dict[str, Any]:
    """What the user's page shows of their account, or NotFound("user")."""
    row = (
        await User.select(
            User.id,
            User.full_name,
            User.display_name,
            User.email,
            User.tier,
            User.status,
            User.kind,
            User.is_owner,
            User.created_at,
            User.last_sign_in_at,
        )
        .where((User.id == user_id) & (User.organisation == organisation_id))
        .first()
    )
    if row is None:
        raise NotFound("user")
    return row


@dataclass(frozen=True, slots=True)
class Editable:
    """What the edit form starts from: the fields, the roles held and each area's override as
    the form writes it ("grant:read")."""

    fields: dict[str, Any]
    role_ids: set[UUID]
    overrides: dict[str, str]


async def editable(organisation_id: UUID, user_id: UUID) -> Editable:
    fields = (
        await User.select(User.full_name, User.display_name, User.locale, User.time_zone, User.tier)
        .where((User.id == user_id) & (User.organisation == organisation_id))
        .first()
    )
    if fields is None:
        raise NotFound("user")
    held = await UserRole.select(UserRole.role).where(UserRole.user == user_id)
    overrides = await UserOverride.select(
        UserOverride.area, UserOverride.kind, UserOverride.level
    ).where(UserOverride.user == user_id)
    return Editable(
        fields=fields,
        role_ids={row["role"] for row in held},
        overrides={o["area"]: f"{o['kind']}:{o['level']}" for o in overrides},
    )


async def names_of(people: Iterable[UUID]) -> dict[UUID, str]:
    """Full names by id, in one query (none for no ids)."""
    wanted = sorted(set(people))
    if not wanted:
        return {}
    rows = await User.select(User.id, User.full_name).where(User.id.is_in(wanted))
    return {row["id"]: row["full_name"] for row in rows}
