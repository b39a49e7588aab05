"""An awarded package as matching announces it, for fulfilment's tests: real suppliers (with keys), buyers' orders
and the package's re-match problem, published through matching's outbox like the real award."""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx

from flexsupply.allocation import Offer, Package, PackageLine, PriceTier, Problem, Supplier
from flexsupply.contracts.events import AwardedAllocation, AwardedReserve, ConfirmedOrder, PackageAwarded
from flexsupply.kit import outbox
from flexsupply.kit.db import Database
from flexsupply.matching.models import OutboxMessage as MatchingOutbox
from tests.support.catalogue import create_supplier

SKU = "bread-gift-box"


@dataclass
class AwardedSetUp:
    event: PackageAwarded
    keys: dict[str, str]  # "north", "south", "backup" -> API key
    supplier_ids: dict[str, UUID]
    tokens: list[str] = field(default_factory=list)  # the buyers' order tokens, in order

    @property
    def package_id(self) -> UUID:
        return self.event.package_id


def _offer(offer_id: str, supplier: UUID, *, moq: int, unit_cents: int, capacity: int = 1000) -> Offer:
    return Offer(
        id=offer_id,
        supplier=str(supplier),
        sku=SKU,
        moq=moq,
        capacity=capacity,
        lead_time_days=5,
        quality=90,
        price_tiers=[PriceTier(min_quantity=moq, unit_cents=unit_cents)],
        shipping_cents={"ningbo": 300, "shanghai": 600},
    )


def order_quantities(total: int, pattern: tuple[int, ...] = (1, 2, 1, 3, 1, 1, 2, 5)) -> list[int]:
    """Buyers' order sizes adding up to `total`: mostly ones and twos, now and then more."""
    quantities, index = [], 0
    while total > 0:
        quantity = min(pattern[index % len(pattern)], total)
        quantities.append(quantity)
        total -= quantity
        index += 1
    return quantities


async def awarded_package(
    operator: httpx.AsyncClient,
    *,
    ningbo: int = 30,
    shanghai: int = 20,
    reserve: int = 60,
    backup_moq: int = 40,
    north: dict[str, Any] | None = None,
) -> AwardedSetUp:
    """Two suppliers awarded (one per region), a third holding `reserve` units in reserve with a minimum order of
    `backup_moq`; buyers' orders adding up to the firm quantities. `north`: an existing supplier (as created) to
    make the ningbo units."""
    created = {role: await create_supplier(operator) for role in ("south", "backup")}
    created["north"] = north or await create_supplier(operator)
    ids = {role: UUID(answer["supplier"]["id"]) for role, answer in created.items()}
    keys = {role: answer["api_key"]["api_key"] for role, answer in created.items()}
    package_id = uuid4()
    offers = {
        "north": _offer(f"offer-{uuid4().hex[:8]}", ids["north"], moq=10, unit_cents=1000),
        "south": _offer(f"offer-{uuid4().hex[:8]}", ids["south"], moq=10, unit_cents=1100),
        "backup": _offer(f"offer-{uuid4().hex[:8]}", ids["backup"], moq=backup_moq, unit_cents=1300),
    }
    firm = {"ningbo": ningbo, "shanghai": shanghai}
    problem = Problem(
        currency="CNY",
        suppliers=[Supplier(id=str(supplier)) for supplier in ids.values()],
        offers=list(offers.values()),
        packages=[
            Package(
                id=str(package_id),
                sku=SKU,
                needed_by_days=20,
                lines=[PackageLine(region=region, quantity=units) for region, units in firm.items()],
            )
        ],
    )
    tokens: list[str] = []
    orders = []
    for region, units in firm.items():
        for quantity in order_quantities(units):
            token = secrets.token_urlsafe(16)
            tokens.append(token)
            orders.append(
                ConfirmedOrder(
                    order_id=uuid4(),
                    token_sha256=hashlib.sha256(token.encode()).hexdigest(),
                    region=region,
                    quantity=quantity,
                    name=f"Buyer {len(tokens)}",
                    phone=f"+86138{len(tokens):08d}",
                    address=f"{len(tokens)} Harbour Road, {region.title()}",
                )
            )
    event = PackageAwarded(
        package_id=package_id,
        sku=SKU,
        needed_by=datetime.now(UTC) + timedelta(days=20),
        currency="CNY",
        firm_quantities=firm,
        allocations=[
            AwardedAllocation(
                supplier_id=ids["north"],
                offer_id=offers["north"].id,
                region="ningbo",
                quantity=ningbo,
                unit_cents=1000,
                shipping_cents=300,
            ),
            AwardedAllocation(
                supplier_id=ids["south"],
                offer_id=offers["south"].id,
                region="shanghai",
                quantity=shanghai,
                unit_cents=1100,
                shipping_cents=600,
            ),
        ],
        reserves=[AwardedReserve(supplier_id=ids["backup"], offer_id=offers["backup"].id, quantity=reserve)],
        orders=orders,
        rematch_problem=problem.model_dump(mode="json"),
    )
    return AwardedSetUp(event=event, keys=keys, supplier_ids=ids, tokens=tokens)


async def announce(matching_database_url: str, event: PackageAwarded) -> None:
    """Publish the award through matching's outbox, as matching does when the last award is accepted."""
    database = Database(matching_database_url, pooled=False)
    try:
        async with database.transaction() as session:
            outbox.publish(session, MatchingOutbox, event)
    finally:
        await database.dispose()


def json_of(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()
