"""Reading services, with the principal's scope applied inside every query.

One condition (`visible_to`) decides what a principal sees, so lists, detail pages, search,
counts and the API cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.columns.combination import WhereRaw

from portal.permissions.model import Scope
from portal.permissions.principal import Principal
from portal.services.tables import Service
from portal.users.queries import BadCursor, decode_cursor, encode_cursor

PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 200


def visible_to(principal: Principal) -> Any:
    condition: Any = Service.organisation == principal.organisation_id
    if principal.scope is Scope.ASSIGNED:
        condition &= Service.contact == principal.user_id
    return condition


@dataclass(frozen=True, slots=True)
class ServiceRow:
    id: UUID
    name: str
    kind: str
    site: str
    cost_centre: str
    monthly_cost: Decimal
    currency: str
    status: str
    usage: str
    contact_id: UUID | None
    contact_name: str | None


@dataclass(frozen=True, slots=True)
class ServicePage:
    rows: list[ServiceRow]
    next_cursor: str | None
    total: int


COLUMNS = (
    Service.id,
    Service.name,
    Service.kind,
    Service.site,
    Service.cost_centre,
    Service.monthly_cost,
    Service.currency,
    Service.status,
    Service.usage,
    Service.contact.id.as_alias("contact_id"),
    Service.contact.full_name.as_alias("contact_name"),
)


def _row(row: dict[str, Any]) -> ServiceRow:
    return ServiceRow(**row)


async def list_services(
    principal: Principal, search: str = "", after: str | None = None, limit: int = PAGE_SIZE
) -> ServicePage:
    condition = visible_to(principal)
    search = search.strip()[:MAX_SEARCH_LENGTH]
    if search:
        pattern = "%" + search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        condition &= Service.name.ilike(pattern) | Service.site.ilike(pattern)
    total = await Service.count().where(condition)
    if after:
        value, last_id = decode_cursor(after)
        condition &= WhereRaw('("name", "id") > ({}, {})', value, last_id)
    rows = (
        await Service.select(*COLUMNS)
        .where(condition)
        .order_by(Service.name, Service.id)
        .limit(limit + 1)
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["name"], rows[-1]["id"])
    return ServicePage([_row(r) for r in rows], next_cursor, total)


async def get_service(principal: Principal, service_id: UUID) -> ServiceRow | None:
    row = (
        await Service.select(*COLUMNS)
        .where(visible_to(principal) & (Service.id == service_id))
        .first()
    )
    return _row(row) if row else None


__all__ = ["BadCursor", "ServicePage", "ServiceRow", "get_service", "list_services", "visible_to"]
