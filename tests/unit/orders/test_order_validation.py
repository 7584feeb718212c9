"""Checking what someone typed into an order: amounts, quantities, every field at once, and
which edits make earlier approvals stale."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.orders.catalogue import CATALOGUE
from portal.orders.states import OrderKind
from portal.orders.validation import (
    MAX_COST,
    MAX_COST_CENTRE,
    MAX_DESCRIPTION,
    MAX_NOTES,
    MAX_QUANTITY,
    OrderDraft,
    check_order,
    parse_money,
    parse_quantity,
)

# --- parse_money -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1250.0, 0.1, 1.0, float("nan"), float("inf")])
def test_parse_money_refuses_floats(value: float) -> None:
    with pytest.raises(ValueError, match="decimal string"):
        parse_money(value)


@pytest.mark.parametrize("value", [True, False])
def test_parse_money_refuses_bools(value: bool) -> None:
    with pytest.raises(ValueError, match="decimal string"):
        parse_money(value)


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "nan",
        "sNaN",
        "-NaN",
        "Infinity",
        "-Infinity",
        "inf",
        "  Infinity ",
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
    ],
)
def test_parse_money_refuses_nan_and_infinity(value: object) -> None:
    with pytest.raises(ValueError, match="Enter an amount such as"):
        parse_money(value)


@pytest.mark.parametrize("value", ["0", "0.00", "-0", "-0.01", "-1250.00", 0, -5, Decimal("0")])
def test_parse_money_refuses_zero_and_negative(value: object) -> None:
    with pytest.raises(ValueError, match="above zero"):
        parse_money(value)


@pytest.mark.parametrize("value", ["1.001", "0.005", "1250.999", Decimal("10.125"), "1e-3"])
def test_parse_money_refuses_more_than_two_decimals(value: object) -> None:
    with pytest.raises(ValueError, match="two decimal places"):
        parse_money(value)


@pytest.mark.parametrize(
    "value", [MAX_COST + Decimal("0.01"), "1000000000000", "1,000,000,000,000.00", 10**13]
)
def test_parse_money_refuses_above_max_cost(value: object) -> None:
    with pytest.raises(ValueError, match="at most"):
        parse_money(value)


@pytest.mark.parametrize(
    "value",
    ["", "   ", "abc", "12abc", "1.2.3", "$100", "100 EUR", "€5", "1 250", "--1", None, "0x10"],
)
def test_parse_money_refuses_garbage(value: object) -> None:
    with pytest.raises(ValueError, match="Enter an amount such as"):
        parse_money(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,250.00", "1250.00"),
        ("1250", "1250.00"),
        (" 1250.5 ", "1250.50"),
        (1250, "1250.00"),
        (Decimal("1250"), "1250.00"),
        (Decimal("99.5"), "99.50"),
        (Decimal("1250.000"), "1250.00"),
        ("0.01", "0.01"),
        (str(MAX_COST), str(MAX_COST)),
        (MAX_COST, str(MAX_COST)),
    ],
)
def test_parse_money_accepts_decimal_amounts(value: object, expected: str) -> None:
    amount = parse_money(value)
    assert isinstance(amount, Decimal)
    assert amount == Decimal(expected)
    assert str(amount) == expected  # always two places


@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_COST, places=2))
def test_property_parse_money_accepts_any_two_place_amount_in_range(amount: Decimal) -> None:
    assert parse_money(str(amount)) == amount
    assert parse_money(f"{amount:,}") == amount
    assert parse_money(amount).as_tuple().exponent == -2


@pytest.mark.parametrize("value", ["1e30", "1E+26", "9" * 40])
def test_parse_money_refuses_huge_amounts_with_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="at most"):
        parse_money(value)


def test_check_order_reports_a_huge_cost_instead_of_raising() -> None:
    draft, errors = check_order({**NEW_ORDER, "estimated_cost": "1e30"})
    assert draft is None
    assert "estimated_cost" in errors


# --- parse_quantity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), (MAX_QUANTITY, MAX_QUANTITY), ("5", 5), (" 7 ", 7), ("100000", 100_000)],
)
def test_parse_quantity_accepts_whole_numbers_in_bounds(value: object, expected: int) -> None:
    assert parse_quantity(value) == expected


@pytest.mark.parametrize("value", [0, -1, MAX_QUANTITY + 1, "0", "-3", "100001", 10**12])
def test_parse_quantity_refuses_out_of_bounds(value: object) -> None:
    with pytest.raises(ValueError, match="quantity from 1 to 100,000"):
        parse_quantity(value)


@pytest.mark.parametrize(
    "value", [True, False, 2.5, 2.0, "2.0", "1e3", "", "  ", "two", None, "1/2", "9" * 5000]
)
def test_parse_quantity_refuses_what_is_not_a_whole_number(value: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        parse_quantity(value)


# --- check_order -----------------------------------------------------------------------------

NEW_ORDER: dict[str, object] = {
    "kind": "new",
    "item": "firewall",
    "quantity": "3",
    "estimated_cost": "",
    "cost_centre": "CC-1",
    "notes": "",
}


def change_order(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "kind": "change",
        "service": str(uuid4()),
        "description": "Raise the bandwidth to 2 Gbps",
        "quantity": "1",
        "estimated_cost": "250.00",
        "cost_centre": "CC-1",
        "notes": "",
    }
    return {**fields, **overrides}


def test_new_item_cost_defaults_to_unit_price_times_quantity() -> None:
    draft, errors = check_order(NEW_ORDER)
    assert errors == {}
    assert draft is not None
    assert draft.estimated_cost == CATALOGUE["firewall"].unit_price * 3 == Decimal("285.00")
    assert draft.quantity == 3


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_or_missing_cost_defaults_for_a_new_item(blank: object) -> None:
    fields: dict[str, Any] = {**NEW_ORDER, "item": "leased-line-10g", "quantity": 2}
    if blank is None:
        del fields["estimated_cost"]
    else:
        fields["estimated_cost"] = blank
    draft, errors = check_order(fields)
    assert errors == {}
    assert draft is not None
    assert draft.estimated_cost == Decimal("2500.00")


def test_given_cost_overrides_the_catalogue_estimate() -> None:
    draft, errors = check_order({**NEW_ORDER, "estimated_cost": "1,000.00"})
    assert errors == {}
    assert draft is not None
    assert draft.estimated_cost == Decimal("1000.00")


@pytest.mark.parametrize(
    ("item", "quantity", "typed"),
    [("leased-line-10g", 1, "120"), ("leased-line-10g", 2, "2499.99"), ("firewall", 3, "0.01")],
)
def test_a_typed_estimate_below_the_catalogue_price_is_refused(
    item: str, quantity: int, typed: str
) -> None:
    # Policies weigh the cost: typing a low estimate must not slip an order under a threshold.
    draft, errors = check_order(
        {**NEW_ORDER, "item": item, "quantity": quantity, "estimated_cost": typed}
    )
    assert draft is None
    floor = CATALOGUE[item].unit_price * quantity
    assert errors == {
        "estimated_cost": f"At least {floor:,.2f} for {quantity:,} x {CATALOGUE[item].name} "
        f"({CATALOGUE[item].unit_price:,.2f} each); an estimate may add to the catalogue "
        "price, not take from it."
    }


@pytest.mark.parametrize("typed", ["2500.00", "2500.01", "9000"])
def test_a_typed_estimate_may_add_to_the_catalogue_price(typed: str) -> None:
    draft, errors = check_order(
        {**NEW_ORDER, "item": "leased-line-10g", "quantity": 2, "estimated_cost": typed}
    )
    assert errors == {}
    assert draft is not None
    assert draft.estimated_cost == Decimal(typed).quantize(Decimal("0.01"))


def test_valid_new_order_gives_a_clean_draft() -> None:
    draft, errors = check_order(
        {
            **NEW_ORDER,
            "item": "  firewall ",
            "cost_centre": "  CC-9 ",
            "notes": "  rack 4 ",
            "service": str(uuid4()),
        }
    )
    assert errors == {}
    assert draft == OrderDraft(
        kind=OrderKind.NEW,
        item="firewall",
        service_id=None,
        description=CATALOGUE["firewall"].name,
        quantity=3,
        estimated_cost=Decimal("285.00"),
        cost_centre="CC-9",
        notes="rack 4",
    )


def test_new_order_keeps_a_description_that_was_given() -> None:
    draft, _ = check_order({**NEW_ORDER, "description": "For the Leeds office"})
    assert draft is not None
    assert draft.description == "For the Leeds office"


def test_quantity_defaults_to_one_when_missing() -> None:
    fields = {k: v for k, v in NEW_ORDER.items() if k != "quantity"}
    draft, errors = check_order(fields)
    assert errors == {}
    assert draft is not None
    assert draft.quantity == 1
    assert draft.estimated_cost == CATALOGUE["firewall"].unit_price


def test_new_order_needs_a_catalogue_item() -> None:
    for item in ["", "no-such-item", None]:
        draft, errors = check_order({**NEW_ORDER, "item": item, "estimated_cost": "10.00"})
        assert draft is None
        assert set(errors) == {"item"}


def test_valid_change_order_gives_a_clean_draft() -> None:
    service = uuid4()
    draft, errors = check_order(change_order(service=str(service), item="firewall"))
    assert errors == {}
    assert draft is not None
    assert draft.kind is OrderKind.CHANGE
    assert draft.service_id == service
    assert draft.item == ""
    assert draft.description == "Raise the bandwidth to 2 Gbps"
    assert draft.estimated_cost == Decimal("250.00")


@pytest.mark.parametrize("service", [None, "", "not-a-uuid", "1234"])
def test_change_order_needs_a_service_uuid(service: object) -> None:
    draft, errors = check_order(change_order(service=service))
    assert draft is None
    assert set(errors) == {"service"}


@pytest.mark.parametrize("description", [None, "", "    "])
def test_change_order_needs_a_description(description: object) -> None:
    draft, errors = check_order(change_order(description=description))
    assert draft is None
    assert errors == {"description": "Say what should change."}


def test_change_order_needs_a_cost() -> None:
    draft, errors = check_order(change_order(estimated_cost=""))
    assert draft is None
    assert set(errors) == {"estimated_cost"}


@pytest.mark.parametrize("kind", ["upgrade", "", None, "NEW", "Change"])
def test_unknown_kind_is_refused(kind: object) -> None:
    draft, errors = check_order({**NEW_ORDER, "kind": kind})
    assert draft is None
    assert errors["kind"] == "Choose a new service or a change to a service."


def test_every_field_error_is_reported_at_once_for_a_change() -> None:
    draft, errors = check_order(
        change_order(
            service="nope",
            description="",
            quantity="0",
            estimated_cost="abc",
            cost_centre="C" * (MAX_COST_CENTRE + 1),
            notes="n" * (MAX_NOTES + 1),
        )
    )
    assert draft is None
    assert set(errors) == {
        "service",
        "description",
        "quantity",
        "estimated_cost",
        "cost_centre",
        "notes",
    }


def test_every_field_error_is_reported_at_once_for_a_new_item() -> None:
    draft, errors = check_order(
        {
            "kind": "new",
            "item": "unknown",
            "description": "d" * (MAX_DESCRIPTION + 1),
            "quantity": "lots",
            "estimated_cost": "-1",
            "cost_centre": "C" * (MAX_COST_CENTRE + 1),
            "notes": "n" * (MAX_NOTES + 1),
        }
    )
    assert draft is None
    assert set(errors) == {
        "item",
        "description",
        "quantity",
        "estimated_cost",
        "cost_centre",
        "notes",
    }
    assert errors["quantity"] == "Enter a whole number."
    assert errors["estimated_cost"] == "Enter an amount above zero."


def test_unknown_kind_still_reports_the_other_fields() -> None:
    draft, errors = check_order({"kind": "upgrade", "quantity": "0", "notes": "n" * 5000})
    assert draft is None
    assert {"kind", "quantity", "notes"} <= set(errors)


@pytest.mark.parametrize(
    ("field", "limit"),
    [("notes", MAX_NOTES), ("description", MAX_DESCRIPTION), ("cost_centre", MAX_COST_CENTRE)],
)
def test_strings_at_the_limit_are_accepted(field: str, limit: int) -> None:
    draft, errors = check_order(change_order(**{field: "x" * limit}))
    assert errors == {}
    assert draft is not None
    assert getattr(draft, field) == "x" * limit


@pytest.mark.parametrize(
    ("field", "limit"),
    [("notes", MAX_NOTES), ("description", MAX_DESCRIPTION), ("cost_centre", MAX_COST_CENTRE)],
)
@pytest.mark.parametrize("extra", [1, 1_000_000])
def test_strings_over_the_limit_are_refused(field: str, limit: int, extra: int) -> None:
    draft, errors = check_order(change_order(**{field: "x" * (limit + extra)}))
    assert draft is None
    assert errors == {field: f"Use at most {limit} characters."}


def test_surrounding_spaces_do_not_count_towards_the_limit() -> None:
    draft, errors = check_order(change_order(notes="  " + "x" * MAX_NOTES + "  "))
    assert errors == {}
    assert draft is not None


def test_new_item_description_over_the_limit_is_refused() -> None:
    draft, errors = check_order({**NEW_ORDER, "description": "d" * (MAX_DESCRIPTION + 1)})
    assert draft is None
    assert errors["description"] == f"Use at most {MAX_DESCRIPTION} characters."


def test_blank_cost_on_a_new_item_is_not_an_error_when_another_field_is_wrong() -> None:
    draft, errors = check_order({**NEW_ORDER, "description": "d" * (MAX_DESCRIPTION + 1)})
    assert draft is None
    assert set(errors) == {"description"}


# --- differs_for_approval --------------------------------------------------------------------


def draft() -> OrderDraft:
    return OrderDraft(
        kind=OrderKind.NEW,
        item="firewall",
        service_id=None,
        description="Managed firewall",
        quantity=2,
        estimated_cost=Decimal("190.00"),
        cost_centre="CC-1",
        notes="first",
    )


def test_same_draft_does_not_differ() -> None:
    assert not draft().differs_for_approval(draft())


def test_only_notes_differing_does_not_differ_for_approval() -> None:
    edited = replace(draft(), notes="completely different notes")
    assert not edited.differs_for_approval(draft())
    assert not draft().differs_for_approval(edited)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("estimated_cost", Decimal("190.01")),
        ("quantity", 3),
        ("item", "mobile-5g"),
        ("cost_centre", "CC-2"),
        ("description", "Something else"),
        ("service_id", UUID(int=1)),
        ("kind", OrderKind.CHANGE),
    ],
)
def test_what_approvers_weigh_differs_for_approval(field: str, value: object) -> None:
    changes: dict[str, Any] = {field: value}
    edited = replace(draft(), **changes)
    assert edited.differs_for_approval(draft())
    assert draft().differs_for_approval(edited)


def test_equal_cost_written_differently_does_not_differ() -> None:
    assert not replace(draft(), estimated_cost=Decimal("190")).differs_for_approval(draft())
