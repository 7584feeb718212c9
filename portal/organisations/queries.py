"""Reading an organisation's own settings for its pages."""

from __future__ import annotations

from uuid import UUID

from portal.organisations.tables import Organisation


async def currency_of(organisation_id: UUID) -> str:
    """The currency its orders are placed and its approval thresholds set in."""
    row = (
        await Organisation.select(Organisation.currency)
        .where(Organisation.id == organisation_id)
        .first()
    )
    return str(row["currency"]) if row else ""
