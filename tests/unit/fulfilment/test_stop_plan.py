"""A supplier stopping altogether: its production orders' take-overs planned one after the other, as their jobs
would place them, each only within what the reserves have left."""

from uuid import UUID, uuid4

from flexsupply.allocation import Offer, Package, PackageLine, PriceTier, Problem, Supplier
from flexsupply.fulfilment.domain.takeover import Making, plan_stop

MAKER, BACKUP = uuid4(), uuid4()


def _offer(offer_id: str, supplier: UUID, unit_cents: int) -> Offer:
    return Offer(
        id=offer_id,
        supplier=str(supplier),
        sku="candle",
        moq=20,
        capacity=500,
        lead_time_days=3,
        quality=90,
        price_tiers=[PriceTier(min_quantity=20, unit_cents=unit_cents)],
        shipping_cents={"ningbo": 300, "shanghai": 500},
    )


PROBLEM = Problem(
    currency="CNY",
    suppliers=[Supplier(id=str(MAKER)), Supplier(id=str(BACKUP))],
    offers=[_offer("maker", MAKER, 1000), _offer("backup", BACKUP, 1400)],
    packages=[
        Package(
            id="p",
            sku="candle",
            needed_by_days=10,
            lines=[PackageLine(region="ningbo", quantity=30), PackageLine(region="shanghai", quantity=20)],
        )
    ],
)
NINGBO, SHANGHAI = uuid4(), uuid4()
MAKING = [
    (NINGBO, Making(MAKER, "maker", "ningbo", 30, failed=False)),
    (SHANGHAI, Making(MAKER, "maker", "shanghai", 20, failed=False)),
]


def test_each_production_order_of_a_stopping_supplier_is_taken_over_in_turn():
    steps = plan_stop(PROBLEM, "p", MAKING, {NINGBO: 25, SHANGHAI: 20}, {"backup": 60})
    assert [(s.production_order_id, s.units, s.no_takeover) for s in steps] == [
        (NINGBO, 25, None),
        (SHANGHAI, 20, None),
    ]
    assert [[(t.supplier_id, t.region, t.quantity, t.unit_cents) for t in s.takeovers] for s in steps] == [
        [(BACKUP, "ningbo", 25, 1400)],
        [(BACKUP, "shanghai", 20, 1400)],
    ]


def test_a_reserve_used_up_by_the_first_take_over_leaves_the_next_one_waiting():
    steps = plan_stop(PROBLEM, "p", MAKING, {NINGBO: 30, SHANGHAI: 20}, {"backup": 40})
    assert [sum(t.quantity for t in s.takeovers) for s in steps] == [30, 0]
    assert steps[1].no_takeover
