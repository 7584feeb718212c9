from decimal import Decimal

from portal.dashboard.queries import ServiceFigures, orders_by_status, service_figures


def test_orders_by_status_follow_the_way_orders_move_and_skip_empty_ones() -> None:
    counts = {"approved": 3, "draft": 1, "rejected": 0, "pending_approval": 2}
    assert orders_by_status(counts) == (("Draft", 1), ("Pending approval", 2), ("Approved", 3))
    assert orders_by_status({}) == ()


def test_service_costs_are_summed_per_currency_and_never_through_a_float_lossily() -> None:
    rows = [
        {"currency": "GBP", "count": 2, "total": 379.0},
        {"currency": "EUR", "count": 1, "total": Decimal("1250.005")},
    ]
    assert service_figures(rows, "") == ServiceFigures(3, ("EUR 1,250.01", "GBP 379.00"))


def test_no_services_cost_nothing_in_the_organisations_currency() -> None:
    assert service_figures([], "GBP") == ServiceFigures(0, ("GBP 0.00",))
