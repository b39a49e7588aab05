"""What a fulfilment run must leave true, read from its database: the integration tests and the bench check the
same invariants after a supplier fails."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlmodel import col, select

from flexsupply.fulfilment.models import DeliveryOrder, Piece, ProductionOrder, Shipment
from flexsupply.kit.db import Database


@dataclass(frozen=True)
class Assigned:
    ordered: dict[UUID, int]  # delivery order -> units bought
    makes: dict[UUID, int]  # production order -> units it will still make
    pieces: Sequence[Piece]  # the live pieces: which production makes which order's units
    parcels: Sequence[Shipment]

    def per_order(self) -> dict[UUID, int]:
        units: dict[UUID, int] = defaultdict(int)
        for piece in self.pieces:
            units[piece.order_id] += piece.quantity
        return dict(units)

    def per_production(self) -> dict[UUID, int]:
        units: dict[UUID, int] = defaultdict(int)
        for piece in self.pieces:
            units[piece.production_order_id] += piece.quantity
        return dict(units)


async def assigned(fulfilment_url: str, package_id: UUID) -> Assigned:
    database = Database(fulfilment_url, pooled=False)
    try:
        async with database.transaction() as session:
            orders = (await session.exec(select(DeliveryOrder).where(DeliveryOrder.package_id == package_id))).all()
            productions = (
                await session.exec(select(ProductionOrder).where(ProductionOrder.package_id == package_id))
            ).all()
            pieces = (
                await session.exec(
                    select(Piece).where(col(Piece.order_id).in_([o.id for o in orders]), col(Piece.moved_at).is_(None))
                )
            ).all()
            parcels = (await session.exec(select(Shipment).where(Shipment.package_id == package_id))).all()
    finally:
        await database.dispose()
    return Assigned(
        ordered={order.id: order.quantity for order in orders},
        makes={production.id: production.quantity - production.failed_units for production in productions},
        pieces=pieces,
        parcels=parcels,
    )


async def assert_every_unit_assigned_once(fulfilment_url: str, package_id: UUID) -> None:
    """Every sold unit is assigned exactly once, to production that will make it, and nothing shipped is with
    anyone but the supplier that shipped it."""
    found = await assigned(fulfilment_url, package_id)
    assert found.ordered == found.per_order()
    for production_id, units in found.per_production().items():
        assert units <= found.makes[production_id]
    handed: dict[tuple[UUID, UUID], int] = defaultdict(int)
    for parcel in found.parcels:
        if parcel.status in {"shipped", "delivered", "exception"} and parcel.case_id is None:
            handed[parcel.order_id, parcel.production_order_id] += parcel.quantity
    covered: dict[tuple[UUID, UUID], int] = defaultdict(int)
    for piece in found.pieces:
        covered[piece.order_id, piece.production_order_id] += piece.quantity
    for key, units in handed.items():
        assert covered[key] >= units, f"order {key[0]} has {units} shipped units no live piece covers"


async def assert_every_unit_assigned_once_or_waiting(fulfilment_url: str, package_id: UUID) -> None:
    """No order has more units assigned than it ordered, and no production order more than it makes."""
    found = await assigned(fulfilment_url, package_id)
    per_order, per_production = found.per_order(), found.per_production()
    assert all(units <= found.ordered[order_id] for order_id, units in per_order.items())
    assert all(units <= found.makes[production_id] for production_id, units in per_production.items())
    # Every unit some production makes is some buyer's: none is made twice.
    assert sum(per_order.values()) == sum(per_production.values())
