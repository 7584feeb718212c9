"""Services as CSV: every row the principal's list shows, streamed in chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from litestar.response import Stream

from portal.permissions.principal import Principal
from portal.services.queries import ExportedService, all_visible
from portal.spreadsheets import csv_text, safe_cell

HEADER = (
    "id",
    "name",
    "type",
    "site",
    "cost_centre",
    "monthly_cost",
    "currency",
    "status",
    "usage",
    "contact_name",
    "contact_email",
)
ROWS_PER_WRITE = 500


def csv_cells(service: ExportedService) -> list[str]:
    # id and monthly_cost are ours, not typed by anyone: a negative cost stays a number.
    return [
        str(service.id),
        safe_cell(service.name),
        safe_cell(service.kind),
        safe_cell(service.site),
        safe_cell(service.cost_centre),
        service.monthly_cost_text,
        safe_cell(service.currency),
        safe_cell(service.status),
        safe_cell(service.usage),
        safe_cell(service.contact_name),
        safe_cell(service.contact_email),
    ]


async def csv_chunks(principal: Principal, search: str) -> AsyncIterator[str]:
    yield csv_text([HEADER])
    batch: list[list[str]] = []
    async for service in all_visible(principal, search):
        batch.append(csv_cells(service))
        if len(batch) == ROWS_PER_WRITE:
            yield csv_text(batch)
            batch = []
    if batch:
        yield csv_text(batch)


def services_csv(principal: Principal, search: str) -> Stream:
    filename = f"services-{datetime.now(UTC):%Y-%m-%d}.csv"
    return Stream(
        csv_chunks(principal, search),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
