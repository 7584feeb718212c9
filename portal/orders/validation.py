"""Checking what someone typed into an order. Pure: values in, a clean draft or messages out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from uuid import UUID

from portal.orders.catalogue import CATALOGUE
from portal.orders.states import OrderKind
from portal.text import add_control_character_errors

MAX_QUANTITY = 100_000
# Below the column's 14 digits with 2 decimals; no order of a portal customer comes near it.
MAX_COST = Decimal("999999999999.99")
MAX_NOTES = 2000
MAX_DESCRIPTION = 500
MAX_COST_CENTRE = 60


@dataclass(frozen=True, slots=True)
class OrderDraft:
    kind: OrderKind
    item: str
    service_id: UUID | None
    description: str
    quantity: int
    estimated_cost: Decimal
    cost_centre: str
    notes: str

    def differs_for_approval(self, other: OrderDraft) -> bool:
        """Whether approvals given to `other` may not hold for this: anything a policy reads or
        an approver weighed (item, service, quantity, cost, cost centre)."""
        return (
            self.kind,
            self.item,
            self.service_id,
            self.description,
            self.quantity,
            self.estimated_cost,
            self.cost_centre,
        ) != (
            other.kind,
            other.item,
            other.service_id,
            other.description,
            other.quantity,
            other.estimated_cost,
            other.cost_centre,
        )


def parse_money(value: object, allow_zero: bool = False) -> Decimal:
    """A decimal amount with at most two places, above zero (or zero, when allowed: a
    threshold); floats are refused, not rounded."""
    if isinstance(value, (bool, float)):
        raise ValueError('Give the amount as a decimal string, such as "1250.00".')
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("Enter an amount such as 1250.00.") from None
    if not amount.is_finite():
        raise ValueError("Enter an amount such as 1250.00.")
    # Both checked before quantize(), which cannot represent amounts this large.
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError("Enter an amount above zero." if not allow_zero else "Enter 0 or more.")
    if amount > MAX_COST:
        raise ValueError(f"Enter an amount of at most {MAX_COST:,}.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Use at most two decimal places.")
    return amount.quantize(Decimal("0.01"))


def parse_quantity(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("Enter a whole number.")
    try:
        quantity = int(str(value).strip())
    except ValueError:
        raise ValueError("Enter a whole number.") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValueError(f"Enter a quantity from 1 to {MAX_QUANTITY:,}.")
    return quantity


def catalogue_floor(item: str, quantity: int) -> Decimal:
    """The least a catalogue item can cost: its price times the quantity."""
    return CATALOGUE[item].unit_price * quantity


def below_catalogue_price(item: str, quantity: int, cost: Decimal) -> str | None:
    """Why an estimate is refused: policies weigh the cost, so typing a low estimate must not
    slip an order under a threshold. An estimate may add to the catalogue price (installation,
    extras), never take from it."""
    floor = catalogue_floor(item, quantity)
    if cost >= floor:
        return None
    return (
        f"At least {floor:,.2f} for {quantity:,} x {CATALOGUE[item].name} "
        f"({CATALOGUE[item].unit_price:,.2f} each); an estimate may add to the catalogue "
        "price, not take from it."
    )


def check_order(fields: Mapping[str, object]) -> tuple[OrderDraft | None, dict[str, str]]:
    """Every field checked at once, so the person sees every problem in one go.

    `fields`: kind, item (new), service (change, a UUID), description, quantity,
    estimated_cost (blank for a new item: unit price times quantity), cost_centre, notes.
    """
    errors: dict[str, str] = {}
    try:
        kind = OrderKind(str(fields.get("kind") or ""))
    except ValueError:
        errors["kind"] = "Choose a new service or a change to a service."
        kind = OrderKind.NEW
    item = str(fields.get("item") or "").strip()
    service_id: UUID | None = None
    description = str(fields.get("description") or "").strip()
    if kind is OrderKind.NEW:
        if item not in CATALOGUE:
            errors["item"] = "Choose an item from the catalogue."
    elif kind is OrderKind.CHANGE and "kind" not in errors:
        item = ""
        try:
            service_id = UUID(str(fields.get("service") or ""))
        except ValueError:
            errors["service"] = "Choose the service to change."
        if not description:
            errors["description"] = "Say what should change."
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Use at most {MAX_DESCRIPTION} characters."
    quantity = 1
    try:
        quantity = parse_quantity(fields.get("quantity", 1))
    except ValueError as error:
        errors["quantity"] = str(error)
    raw_cost = fields.get("estimated_cost")
    cost = Decimal("0")
    if (raw_cost is None or str(raw_cost).strip() == "") and item in CATALOGUE:
        cost = CATALOGUE[item].unit_price * quantity
    else:
        try:
            cost = parse_money(raw_cost if raw_cost is not None else "")
        except ValueError as error:
            errors["estimated_cost"] = str(error)
    if kind is OrderKind.NEW and item in CATALOGUE and "estimated_cost" not in errors:
        problem = below_catalogue_price(item, quantity, cost)
        if problem:
            errors["estimated_cost"] = problem
    cost_centre = str(fields.get("cost_centre") or "").strip()
    if len(cost_centre) > MAX_COST_CENTRE:
        errors["cost_centre"] = f"Use at most {MAX_COST_CENTRE} characters."
    notes = str(fields.get("notes") or "").strip()
    if len(notes) > MAX_NOTES:
        errors["notes"] = f"Use at most {MAX_NOTES} characters."
    add_control_character_errors(
        errors,
        {"item": item, "description": description, "cost_centre": cost_centre, "notes": notes},
    )
    if errors:
        return None, errors
    if kind is OrderKind.NEW and not description:
        description = CATALOGUE[item].name
    return (
        OrderDraft(kind, item, service_id, description, quantity, cost, cost_centre, notes),
        {},
    )
