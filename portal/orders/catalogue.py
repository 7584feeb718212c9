"""The small catalogue of new services an order can ask for. Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    code: str
    name: str
    kind: str
    # A guide for the estimate, per unit and month, in the organisation's currency.
    unit_price: Decimal


CATALOGUE: Mapping[str, CatalogueItem] = MappingProxyType(
    {
        item.code: item
        for item in (
            CatalogueItem(
                "broadband-1g", "Business broadband 1 Gbps", "Broadband", Decimal("189.50")
            ),
            CatalogueItem(
                "leased-line-10g", "Leased line 10 Gbps", "Leased line", Decimal("1250.00")
            ),
            CatalogueItem("sip-channel", "SIP trunk channel", "Voice", Decimal("12.00")),
            CatalogueItem("mobile-5g", "5G mobile line", "Mobile", Decimal("22.00")),
            CatalogueItem("firewall", "Managed firewall", "Security", Decimal("95.00")),
            CatalogueItem("m365-seat", "Microsoft 365 Business seat", "Licences", Decimal("18.10")),
        )
    }
)
