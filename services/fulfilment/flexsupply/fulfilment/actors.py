"""Background work of the fulfilment service: events in, idempotent, engines made on the worker's loop."""

from uuid import UUID

from flexsupply.contracts.events import PackageAwarded
from flexsupply.fulfilment import services
from flexsupply.fulfilment.settings import FulfilmentSettings
from flexsupply.kit.db import database_for_current_loop
from flexsupply.kit.events import Consumer

event_queue = Consumer("fulfilment.events", max_retries=10, min_backoff=1_000, max_backoff=300_000, time_limit=60_000)


@event_queue.on(PackageAwarded)
async def record_awarded_package(event: PackageAwarded, event_id: UUID) -> None:
    settings = FulfilmentSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await services.record_awarded_package(session, event, event_id)
