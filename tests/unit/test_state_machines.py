"""Every state machine (a package, a buyer's order, production, batches, shipments, after-sales cases) refuses a
step the same way: naming the status and the steps it allows."""

import pytest

from flexsupply.fulfilment.domain.states import (
    InvalidMove,
    ProductionStatus,
    ProductionStep,
    ShipmentStatus,
    ShipmentStep,
    next_production_status,
    next_shipment_status,
)
from flexsupply.matching.domain.package import InvalidTransition, PackageStatus, PackageStep, next_status
from flexsupply.matching.domain.sale import InvalidOrderMove, OrderStatus, OrderStep, move_order


@pytest.mark.parametrize(
    ("refuse", "error", "message"),
    [
        (
            lambda: next_status(PackageStatus.ON_SALE, PackageStep.AWARD),
            InvalidTransition,
            "an on_sale package cannot award; allowed from on_sale: reach_threshold, miss_threshold, cancel",
        ),
        (
            lambda: move_order(OrderStatus.REFUNDED, OrderStep.PAY),
            InvalidOrderMove,
            "a refunded order cannot pay; refunded is final",
        ),
        (
            lambda: move_order(OrderStatus.CONFIRMED, OrderStep.CANCEL),
            InvalidOrderMove,
            "a confirmed order cannot cancel; allowed from confirmed: void",
        ),
        (
            lambda: next_production_status(ProductionStatus.ISSUED, ProductionStep.START),
            InvalidMove,
            "an issued production order cannot start; allowed from issued: accept, fail",
        ),
        (
            lambda: next_shipment_status(ShipmentStatus.DELIVERED, ShipmentStep.DELIVER),
            InvalidMove,
            "a delivered shipment cannot deliver; delivered is final",
        ),
    ],
    ids=["package", "final-order", "order", "production", "shipment"],
)
def test_a_step_its_status_does_not_allow_is_refused_naming_what_it_allows(refuse, error, message: str):
    with pytest.raises(error) as raised:
        refuse()
    assert str(raised.value) == message
