"""Reading services, with the principal's scope applied inside every query.

One condition (`visible_to`) decides what a principal sees, so lists, detail pages, search,
counts and the API cannot disagree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.columns.combination import WhereRaw

from portal.pagination import BadListQuery, decode_cursor, encode_cursor
from portal.permissions.model import Scope
from portal.permissions.principal import Principal
from portal.services.tables import Service

PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 200
EXPORT_CHUNK = 1000


def sees_every_service(principal: Principal) -> bool:
    """Whether the principal sees all of the organisation's services, not only those they are
    the contact of."""
    return principal.scope is not Scope.ASSIGNED


def visible_to(principal: Principal) -> Any:
    condition: Any = Service.organisation == principal.organisation_id
    if not sees_every_service(principal):
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

    @property
    def monthly_cost_text(self) -> str:
        """A decimal string with two places, never a float: "189.50"."""
        return str(Decimal(self.monthly_cost).quantize(Decimal("0.01")))


@dataclass(frozen=True, slots=True)
class ExportedService(ServiceRow):
    contact_email: str | None


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


def _matching(principal: Principal, search: str) -> Any:
    condition = visible_to(principal)
    search = search.strip()[:MAX_SEARCH_LENGTH]
    if search:
        pattern = "%" + search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        condition &= Service.name.ilike(pattern) | Service.site.ilike(pattern)
    return condition


def _after(name: str, service_id: UUID) -> Any:
    # Qualified: the contact join brings a second "id"; the row value walks the
    # (organisation, name, id) index.
    return WhereRaw('("service"."name", "service"."id") > ({}, {})', name, service_id)


async def list_services(
    principal: Principal,
    search: str = "",
    after: str | None = None,
    limit: int = PAGE_SIZE,
    contact_id: UUID | None = None,
) -> ServicePage:
    condition = _matching(principal, search)
    if contact_id is not None:
        condition &= Service.contact == contact_id
    total = await Service.count().where(condition)
    if after:
        condition &= _after(*decode_cursor(after))
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


async def all_visible(
    principal: Principal, search: str = "", chunk: int = EXPORT_CHUNK
) -> AsyncIterator[ExportedService]:
    """Every service the list would show, in its order, read in keyset chunks of `chunk` rows."""
    condition = _matching(principal, search)
    columns = (*COLUMNS, Service.contact.email.as_alias("contact_email"))
    last: tuple[str, UUID] | None = None
    while True:
        query = Service.select(*columns).order_by(Service.name, Service.id).limit(chunk)
        rows = await query.where(condition if last is None else condition & _after(*last))
        for row in rows:
            yield ExportedService(**row)
        if len(rows) < chunk:
            return
        last = (rows[-1]["name"], rows[-1]["id"])


async def contact_services_count(principal: Principal, contact_id: UUID) -> int:
    """How many of the services this principal sees have `contact_id` as their contact."""
    count: int = await Service.count().where(
        visible_to(principal) & (Service.contact == contact_id)
    )
    return count


async def get_service(principal: Principal, service_id: UUID) -> ServiceRow | None:
    row = (
        await Service.select(*COLUMNS)
        .where(visible_to(principal) & (Service.id == service_id))
        .first()
    )
    return _row(row) if row else None


__all__ = [
    "BadListQuery",
    "ExportedService",
    "ServicePage",
    "ServiceRow",
    "all_visible",
    "contact_services_count",
    "get_service",
    "list_services",
    "visible_to",
]
