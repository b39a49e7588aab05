"""Background work of the fulfilment service: events in, idempotent, engines made on the worker's loop."""

from uuid import UUID

from flexsupply.contracts.events import DeliveryAssignmentDue, PackageAwarded, ReservesShort, SupplierFailureDue
from flexsupply.fulfilment import delivery, failures, production
from flexsupply.fulfilment.settings import FulfilmentSettings
from flexsupply.kit.db import Database, database_for_current_loop
from flexsupply.kit.events import Consumer

event_queue = Consumer("fulfilment.events", max_retries=10, min_backoff=1_000, max_backoff=300_000, time_limit=120_000)


def _database() -> Database:
    return database_for_current_loop(FulfilmentSettings().database_url)


@event_queue.on(PackageAwarded)
async def record_award(event: PackageAwarded, event_id: UUID) -> None:
    async with _database().transaction() as session:
        new = await production.record_award(session, event, event_id)
    if new and event.orders:  # at once, not one relay hop later; the sweeper sends it again if this dies
        await delivery.assign_open_units(_database(), event.package_id)


@event_queue.on(DeliveryAssignmentDue)
async def assign_orders(event: DeliveryAssignmentDue, event_id: UUID) -> None:
    await delivery.assign_open_units(_database(), event.package_id)


@event_queue.on(SupplierFailureDue)
async def take_over(event: SupplierFailureDue, event_id: UUID) -> None:
    await failures.take_over(_database(), event.failure_id)


@event_queue.on(ReservesShort)
async def record_reserves_short(event: ReservesShort, event_id: UUID) -> None:
    async with _database().transaction() as session:
        await failures.record_reserves_short(session, event)
