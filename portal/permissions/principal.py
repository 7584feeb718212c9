"""The principal of a request: who is asking, in which organisation, with which levels."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from piccolo.querystring import QueryString

from portal.db import engine
from portal.organisations.tables import Organisation
from portal.permissions.model import Area, Level, OverrideKind, Scope, Tier
from portal.permissions.resolve import Override, allows, effective_levels, service_scope
from portal.permissions.tables import PolicyGrant, RolePolicy, UserRole
from portal.users.tables import User, UserOverride


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: UUID
    organisation_id: UUID
    organisation_name: str
    email: str
    full_name: str
    display_name: str | None
    kind: str
    tier: Tier
    is_owner: bool
    roles: tuple[str, ...]
    levels: Mapping[Area, Level]
    scope: Scope
    idle_timeout_seconds: int
    absolute_timeout_seconds: int
    # The levels by name, as the API shows them; made once per permission version, not per
    # request. Read only.
    level_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.display_name or self.full_name

    def may(self, area: Area, level: Level) -> bool:
        return allows(self.levels, area, level)


@dataclass(frozen=True, slots=True)
class _Resolved:
    roles: tuple[str, ...]
    levels: Mapping[Area, Level]
    level_names: Mapping[str, str]


class _PermissionCache:
    """Resolved permissions keyed by the user's and the organisation's permission versions.

    The versions are read fresh on every request and bumped in the transaction of any change,
    so an entry can be stale only in that it is never asked for again.
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self._entries: OrderedDict[tuple[UUID, int, int], _Resolved] = OrderedDict()
        self._max = max_entries

    def get(self, key: tuple[UUID, int, int]) -> _Resolved | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: tuple[UUID, int, int], value: _Resolved) -> None:
        self._entries[key] = value
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)


_cache = _PermissionCache()


def principal_select() -> tuple[str, str]:
    """(select list, organisation join) of what a principal is made of, as SQL text built once:
    piccolo's query builder costs more CPU than the database round trip on this hot path
    (profiled with the request benchmark). The user is `u`, the organisation `o`."""
    org = Organisation._meta.tablename
    user_columns = (
        User.id,
        User.organisation,
        User.email,
        User.full_name,
        User.display_name,
        User.kind,
        User.status,
        User.tier,
        User.is_owner,
        User.session_epoch,
        User.permissions_version,
    )
    org_columns = {
        "organisation_name": Organisation.name,
        "organisation_permissions_version": Organisation.permissions_version,
        "idle_timeout_minutes": Organisation.idle_timeout_minutes,
        "absolute_timeout_minutes": Organisation.absolute_timeout_minutes,
    }
    selected = [f'u."{c._meta.db_column_name}"' for c in user_columns] + [
        f'o."{c._meta.db_column_name}" AS "{alias}"' for alias, c in org_columns.items()
    ]
    joined = f'JOIN "{org}" o ON o."id" = u."{User.organisation._meta.db_column_name}"'
    return ", ".join(selected), joined


_SELECTED, _JOINED = principal_select()
# Built from the table definitions only; the user id is a bound parameter ({}).
_PRINCIPAL_QUERY = (
    f'SELECT {_SELECTED} FROM "{User._meta.tablename}" u {_JOINED} WHERE u."id" = {{}}'  # noqa: S608
)


async def load_principal(user_id: UUID, session_epoch: int | None = None) -> Principal | None:
    """The active principal for a user id, or None when the user may not act (any more).

    With ``session_epoch``, a session issued before the user's sessions were ended is refused.
    """
    rows = await engine().run_querystring(QueryString(_PRINCIPAL_QUERY, user_id))
    return await principal_from_row(rows[0], session_epoch) if rows else None


async def principal_from_row(
    row: Mapping[str, Any], session_epoch: int | None = None
) -> Principal | None:
    """The principal of a row of `principal_select()`'s columns; None when the user may not
    act, or (with ``session_epoch``) when their sessions were ended since."""
    if row["status"] != "active":
        return None
    if session_epoch is not None and row["session_epoch"] != session_epoch:
        return None
    user_id = row["id"]
    if not isinstance(user_id, UUID):
        user_id = UUID(str(user_id))
    tier = Tier(row["tier"])
    key = (user_id, row["permissions_version"], row["organisation_permissions_version"])
    resolved = _cache.get(key)
    if resolved is None:
        resolved = await _resolve(user_id, row["organisation"], tier)
        _cache.put(key, resolved)
    return Principal(
        user_id=user_id,
        organisation_id=row["organisation"],
        organisation_name=row["organisation_name"],
        email=row["email"],
        full_name=row["full_name"],
        display_name=row["display_name"],
        kind=row["kind"],
        tier=tier,
        is_owner=row["is_owner"],
        roles=resolved.roles,
        levels=resolved.levels,
        level_names=resolved.level_names,
        scope=service_scope(tier),
        idle_timeout_seconds=row["idle_timeout_minutes"] * 60,
        absolute_timeout_seconds=row["absolute_timeout_minutes"] * 60,
    )


async def _resolve(user_id: UUID, organisation_id: UUID, tier: Tier) -> _Resolved:
    # The organisation condition makes a role of another tenant count for nothing, even if a
    # bad write ever linked one.
    roles = await UserRole.select(
        UserRole.role.id.as_alias("id"), UserRole.role.name.as_alias("name")
    ).where((UserRole.user == user_id) & (UserRole.role.organisation == organisation_id))
    role_ids = [role["id"] for role in roles]
    grants: dict[Any, dict[Area, Level]] = {}
    if role_ids:
        rows = await PolicyGrant.select(
            PolicyGrant.policy, PolicyGrant.area, PolicyGrant.level
        ).where(
            PolicyGrant.policy.is_in(
                RolePolicy.select(RolePolicy.policy).where(RolePolicy.role.is_in(role_ids))
            )
        )
        for grant in rows:
            grants.setdefault(grant["policy"], {})[Area(grant["area"])] = Level.parse(
                grant["level"]
            )
    overrides = [
        Override(Area(o["area"]), OverrideKind(o["kind"]), Level.parse(o["level"]))
        for o in await UserOverride.select(
            UserOverride.area, UserOverride.kind, UserOverride.level
        ).where(UserOverride.user == user_id)
    ]
    levels = effective_levels(tier, grants.values(), overrides)
    return _Resolved(
        roles=tuple(sorted(role["name"] for role in roles)),
        levels=levels,
        level_names={area.value: level.label for area, level in levels.items()},
    )
