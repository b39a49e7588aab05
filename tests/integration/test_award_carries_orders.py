"""The PackageAwarded event tells fulfilment everything it needs: the sale's confirmed orders (in placement order,
adding up to the firm quantities, the buyer's token only as a hash) and the package alone as a matching problem
with the awarded and reserve offers; the buyer's order page then links to the delivery."""

import hashlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from sqlmodel import col, select

from flexsupply.allocation import Problem
from flexsupply.contracts.events import PackageAwarded
from flexsupply.kit.db import Database
from flexsupply.matching.models import OutboxMessage
from flexsupply.matching.payments import sign_test_payment
from tests.integration.conftest import OPERATOR_TOKEN
from tests.integration.test_awards import Planned, awarded_run, awards_view, by_supplier, planned, price
from tests.integration.test_match_runs import finished_run
from tests.support.fake_supplier import fake_supplier_server
from tests.support.sales import order
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]
SALE_PRICE_CENTS = 5900
# north makes ningbo, south shanghai; backup ships to both and holds the package's reserve (backups=1).
OFFERS = {
    "north": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(3000), "moq": 1},
    "south": {"shipping_cents": {"shanghai": 300}, "price_tiers": price(3000), "moq": 1},
    "backup": {
        "shipping_cents": {"ningbo": 300, "shanghai": 300},
        "price_tiers": price(9000),
        "moq": 1,
        "reserve_cents": 50,
    },
}


async def awarded_event(database_urls: dict[str, str], package_id: str) -> PackageAwarded:
    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            rows = (
                await session.exec(select(OutboxMessage).where(col(OutboxMessage.event_name) == PackageAwarded.name))
            ).all()
    finally:
        await database.dispose()
    (row,) = [row for row in rows if row.payload["package_id"] == package_id]
    return PackageAwarded.model_validate(row.payload)


async def accept_all(planned_: Planned) -> None:
    view = await awards_view(planned_)
    for name, award in by_supplier(view, planned_, "offered").items():
        response = await planned_.client(name).post(f"/api/v1/awards/{award['id']}/accept")
        assert response.status_code == 200, response.text
    package = (await planned_.leader.get(f"/api/v1/packages/{planned_.package['id']}")).json()
    assert package["status"] == "awarded"


def assert_rematch_problem(event: PackageAwarded, planned_: Planned) -> Problem:
    """The package alone on its firm quantities, with the awarded and reserve offers and their suppliers."""
    assert event.rematch_problem is not None
    problem = Problem.model_validate(event.rematch_problem)
    (package,) = problem.packages
    assert package.id == str(event.package_id) and package.sku == event.sku and package.backups == 0
    assert {line.region: line.quantity for line in package.lines} == event.firm_quantities
    offer_ids = {allocation.offer_id for allocation in event.allocations} | {r.offer_id for r in event.reserves}
    assert {offer.id for offer in problem.offers} == offer_ids
    assert offer_ids == {planned_.suppliers[name]["offer"]["id"] for name in ("north", "south", "backup")}
    supplier_ids = {str(a.supplier_id) for a in event.allocations} | {str(r.supplier_id) for r in event.reserves}
    assert {supplier.id for supplier in problem.suppliers} == supplier_ids
    backup = problem.offer(planned_.suppliers["backup"]["offer"]["id"])
    assert backup.supplier == planned_.id_of("backup") and backup.reserve_cents == 50
    assert [(tier.min_quantity, tier.unit_cents) for tier in backup.price_tiers] == [(0, 9000)]
    return problem


async def test_the_awarded_event_carries_the_confirmed_orders_and_the_package_s_rematch_problem(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    opens_at = datetime.now(UTC) + timedelta(seconds=1)
    sale = {
        "sale_opens_at": opens_at.isoformat(),
        "sale_closes_at": (opens_at + timedelta(hours=1)).isoformat(),
        "threshold_units": 1,
        "cap_units": 20,
        "sale_price_cents": SALE_PRICE_CENTS,
    }
    with fake_supplier_server() as fake:
        planned_ = await planned(
            operator, as_key, fake, OFFERS, quantities={"ningbo": 10, "shanghai": 10}, backups=1, **sale
        )
        package_id = planned_.package["id"]

        async def on_sale() -> bool:
            return (await planned_.leader.get(f"/api/v1/packages/{package_id}")).json()["status"] == "on_sale"

        await eventually(on_sale, 30)
        placed = []
        for region, quantity, paid in [
            ("shanghai", 3, True),
            ("ningbo", 2, True),
            ("ningbo", 1, False),  # released at the close: not made, not delivered
            ("ningbo", 1, True),
            ("shanghai", 1, True),
        ]:
            buyer = {
                "region": region,
                "quantity": quantity,
                "name": f"Buyer {len(placed)}",
                "phone": f"139{uuid4().int % 10**8:08d}",
                "address": f"No. {len(placed) + 1} Zhongshan Road, {region}",
            }
            response = await order(anonymous, package_id, **buyer)
            assert response.status_code == 201, response.text
            placed.append(response.json() | buyer | {"paid": paid})
            if paid:
                amount = quantity * SALE_PRICE_CENTS
                body, signature = sign_test_payment(OPERATOR_TOKEN, response.json()["payment_reference"], amount)
                callback = await anonymous.post("/api/v1/payments/test/callbacks", content=body, headers=signature)
                assert callback.status_code == 200, callback.text
        closed = await planned_.leader.post(f"/api/v1/packages/{package_id}/sale/close", json={"reason": "sold"})
        assert closed.status_code == 200 and closed.json()["went_ahead"] is True, closed.text
        by_hand = await planned_.leader.post(
            f"/api/v1/packages/{package_id}/firm-quantities", json={"quantities": {"ningbo": 9}}
        )
        assert by_hand.status_code == 409 and "its paid orders" in by_hand.text  # what was sold is what was paid

        confirmed = [order_ for order_ in placed if order_["paid"]]
        first = confirmed[0]["token"]
        assert "/delivery/" not in (await anonymous.get(f"/order/{first}")).text  # not awarded yet

        await finished_run(planned_.leader, (await awards_view(planned_))["runs"][0]["id"])
        await accept_all(planned_)

    event = await awarded_event(database_urls, package_id)
    assert event.firm_quantities == {"ningbo": 3, "shanghai": 4}
    units: Counter[str] = Counter()
    for confirmed_order in event.orders:
        units[confirmed_order.region] += confirmed_order.quantity
    assert dict(units) == event.firm_quantities
    assert [
        (str(o.order_id), o.token_sha256, o.region, o.quantity, o.name, o.phone, o.address) for o in event.orders
    ] == [
        (
            o["id"],
            hashlib.sha256(o["token"].encode()).hexdigest(),
            o["region"],
            o["quantity"],
            o["name"],
            f"+86{o['phone']}",  # as the order stored it
            o["address"],
        )
        for o in confirmed
    ]
    assert not any(o["token"] in str(event.model_dump()) for o in placed)
    assert_rematch_problem(event, planned_)

    page = (await anonymous.get(f"/order/{first}")).text
    assert f'href="/delivery/{first}"' in page and "Follow your delivery" in page
    released = next(order_ for order_ in placed if not order_["paid"])
    assert "/delivery/" not in (await anonymous.get(f"/order/{released['token']}")).text


async def test_a_package_sold_outside_flexsupply_is_awarded_without_orders(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, OFFERS, quantities={"ningbo": 100, "shanghai": 60}, backups=1)
        await awarded_run(planned_, ningbo=100, shanghai=60)
        await accept_all(planned_)

    event = await awarded_event(database_urls, planned_.package["id"])
    assert event.orders == []
    problem = assert_rematch_problem(event, planned_)
    assert {line.region: line.quantity for line in problem.packages[0].lines} == {"ningbo": 100, "shanghai": 60}
