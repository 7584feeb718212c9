from decimal import Decimal

import pytest

from portal.money import format_money


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("0"), "GBP 0.00"),
        (0, "GBP 0.00"),
        (Decimal("-0.004"), "GBP 0.00"),
        (Decimal("500"), "GBP 500.00"),
        (Decimal("1250.5"), "GBP 1,250.50"),
        (Decimal("-1250.5"), "GBP -1,250.50"),
        (Decimal("123456789012.34"), "GBP 123,456,789,012.34"),
        (Decimal("0.005"), "GBP 0.01"),
        (Decimal("2.675"), "GBP 2.68"),
        (Decimal("-2.675"), "GBP -2.68"),
        (Decimal("0.0049"), "GBP 0.00"),
        ("6200", "GBP 6,200.00"),
    ],
)
def test_money_reads_as_currency_then_amount_rounded_half_up_to_the_cent(
    amount: Decimal | int | str, expected: str
) -> None:
    assert format_money(amount, "GBP") == expected


def test_the_currency_is_the_one_given() -> None:
    assert format_money(Decimal("1250"), "EUR") == "EUR 1,250.00"
