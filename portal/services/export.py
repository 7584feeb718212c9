"""Services as CSV: every row the principal's list shows, streamed in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime

from litestar.response import Stream

from portal.permissions.principal import Principal
from portal.services.queries import ExportedService, all_visible

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
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str | None) -> str:
    text = value or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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


def csv_text(rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


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
