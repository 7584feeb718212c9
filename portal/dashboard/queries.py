"""The dashboard's figures, each read only for whom the page it sums up is open to: the
principal's orders by status and the services they see with their cost, in one statement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from portal.db import HotQuery
from portal.money import format_money
from portal.orders.states import STATUSES
from portal.orders.tables import Order
from portal.organisations.tables import Organisation
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal
from portal.services.queries import sees_every_service
from portal.services.tables import Service


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    count: int
    # One amount per currency the services are billed in: "GBP 1,250.00".
    monthly_costs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DashboardFigures:
    # None where the principal may not open the page the figure sums up.
    my_orders: tuple[tuple[str, int], ...] | None
    services: ServiceFigures | None


def orders_by_status(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """("Pending approval", 2) for each status that has orders, in the order orders move."""
    return tuple(
        (status.replace("_", " ").capitalize(), counts[status])
        for status in STATUSES
        if counts.get(status)
    )


def service_figures(rows: Iterable[Mapping[str, Any]], currency: str) -> ServiceFigures:
    """From (currency, count, total) rows; with no services, nothing a month in `currency`."""
    rows = sorted(rows, key=lambda row: str(row["currency"]))
    if not rows:
        return ServiceFigures(0, (format_money(0, currency),))
    # str() first: SQLite sums NUMERIC columns as floats, PostgreSQL as Decimal.
    costs = tuple(format_money(Decimal(str(row["total"])), row["currency"]) for row in rows)
    return ServiceFigures(sum(int(row["count"]) for row in rows), costs)


_ORDERS = Order._meta.tablename
_SERVICES = Service._meta.tablename
_ORGANISATIONS = Organisation._meta.tablename
# One statement for every figure (a request's round trips cost more CPU than the sums): each
# branch is switched on by a bound flag, so a figure the principal may not see is not read.
_FIGURES = HotQuery(
    'SELECT \'order\' AS "kind", o."status" AS "key", count(*) AS "count", NULL AS "total" '  # noqa: S608
    f'FROM "{_ORDERS}" o WHERE {{}} AND o."organisation" = {{}} AND o."requester" = {{}} '
    'GROUP BY o."status" '
    'UNION ALL SELECT \'service\', s."currency", count(*), sum(s."monthly_cost") '
    f'FROM "{_SERVICES}" s WHERE {{}} AND s."organisation" = {{}} '
    'AND ({} OR s."contact" = {}) GROUP BY s."currency" '
    f'UNION ALL SELECT \'currency\', g."currency", 0, NULL FROM "{_ORGANISATIONS}" g '
    'WHERE g."id" = {}'
)


async def dashboard_figures(principal: Principal) -> DashboardFigures:
    sees_orders = principal.may(Area.ORDERS, Level.READ)
    sees_services = principal.may(Area.SERVICES, Level.READ)
    rows = await _FIGURES.fetch(
        sees_orders,
        principal.organisation_id,
        principal.user_id,
        sees_services,
        principal.organisation_id,
        sees_every_service(principal),
        principal.user_id,
        principal.organisation_id,
    )
    by_kind: dict[str, list[Any]] = {"order": [], "service": [], "currency": []}
    for row in rows:
        by_kind[row["kind"]].append(row)
    my_orders = None
    if sees_orders:
        my_orders = orders_by_status({row["key"]: int(row["count"]) for row in by_kind["order"]})
    services = None
    if sees_services:
        currency = str(by_kind["currency"][0]["key"]) if by_kind["currency"] else ""
        services = service_figures(
            [
                {"currency": r["key"], "count": r["count"], "total": r["total"]}
                for r in by_kind["service"]
            ],
            currency,
        )
    return DashboardFigures(my_orders, services)
