"""How money reads on every page and in every email: the currency code, then the amount with
thousands separators and two places ("GBP 1,250.00", "GBP -40.00"). Exports and the API keep
plain machine-readable amounts ("1250.00") beside the currency instead."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def format_money(amount: Decimal | int | str, currency: str) -> str:
    """Rounded half up to the cent (never through float); a negative zero reads as zero."""
    cents = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    if cents.is_zero():
        cents = abs(cents)
    return f"{currency} {cents:,.2f}"
