"""The dashboard's figures, each read only for whom the page it sums up is open to: one
query for the principal's orders by status, one for the services they see and their cost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum

from portal.money import format_money
from portal.orders.states import STATUSES
from portal.orders.tables import Order
from portal.organisations.queries import currency_of
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal
from portal.services.queries import visible_to
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


async def dashboard_figures(principal: Principal) -> DashboardFigures:
    my_orders = None
    if principal.may(Area.ORDERS, Level.READ):
        rows = (
            await Order.select(Order.status, Count(alias="count"))
            .where(
                (Order.organisation == principal.organisation_id)
                & (Order.requester == principal.user_id)
            )
            .group_by(Order.status)
        )
        my_orders = orders_by_status({row["status"]: row["count"] for row in rows})
    services = None
    if principal.may(Area.SERVICES, Level.READ):
        rows = (
            await Service.select(
                Service.currency, Count(alias="count"), Sum(Service.monthly_cost, alias="total")
            )
            .where(visible_to(principal))
            .group_by(Service.currency)
        )
        currency = "" if rows else await currency_of(principal.organisation_id)
        services = service_figures(rows, currency)
    return DashboardFigures(my_orders, services)
