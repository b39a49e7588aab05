"""What a fulfilment run must leave true, read from its database: the integration tests and the bench check the
same invariant after a supplier fails."""

from collections import defaultdict
from uuid import UUID

from sqlmodel import col, select

from flexsupply.fulfilment.models import DeliveryOrder, Piece, ProductionOrder, Shipment
from flexsupply.kit.db import Database


async def assert_every_unit_assigned_once(fulfilment_url: str, package_id: UUID) -> None:
    """Every sold unit is assigned exactly once, to production that will make it, and nothing shipped is with
    anyone but the supplier that shipped it."""
    database = Database(fulfilment_url, pooled=False)
    try:
        async with database.transaction() as session:
            orders = (await session.exec(select(DeliveryOrder).where(DeliveryOrder.package_id == package_id))).all()
            productions = {
                p.id: p
                for p in (
                    await session.exec(select(ProductionOrder).where(ProductionOrder.package_id == package_id))
                ).all()
            }
            pieces = (
                await session.exec(
                    select(Piece).where(col(Piece.order_id).in_([o.id for o in orders]), col(Piece.moved_at).is_(None))
                )
            ).all()
            parcels = (await session.exec(select(Shipment).where(Shipment.package_id == package_id))).all()
    finally:
        await database.dispose()
    per_order: dict[UUID, int] = defaultdict(int)
    per_production: dict[UUID, int] = defaultdict(int)
    for piece in pieces:
        per_order[piece.order_id] += piece.quantity
        per_production[piece.production_order_id] += piece.quantity
    assert {o.id: o.quantity for o in orders} == dict(per_order)
    for production_id, units in per_production.items():
        production = productions[production_id]
        assert units <= production.quantity - production.failed_units
    handed = defaultdict(int)
    for parcel in parcels:
        if parcel.status in {"shipped", "delivered", "exception"} and parcel.case_id is None:
            handed[parcel.order_id, parcel.production_order_id] += parcel.quantity
    covered = defaultdict(int)
    for piece in pieces:
        covered[piece.order_id, piece.production_order_id] += piece.quantity
    for key, units in handed.items():
        assert covered[key] >= units, f"order {key[0]} has {units} shipped units no live piece covers"
