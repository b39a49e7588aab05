"""What every service's shell shares: its database in app state, its outbox relay, its unit of work."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.kit import outbox
from flexsupply.kit.auth import Principal
from flexsupply.kit.broker import broker, is_in_memory
from flexsupply.kit.db import Database
from flexsupply.kit.health import register_check
from flexsupply.kit.idempotency import Idempotency, IdempotencyRecordBase
from flexsupply.kit.settings import KitSettings

log = logging.getLogger(__name__)
# Longer than SQLite's busy timeout (kit.db), so a relay pass waiting for a lock can still finish.
RELAY_STOP_SECONDS = 15.0
Recovery = Callable[[AsyncSession], Awaitable[int]]

# What handlers declare to receive the unit of work and the caller (litestar 3 needs dependencies marked).
Transaction = NamedDependency[AsyncSession]
Caller = NamedDependency[Principal]
Idempotent = NamedDependency[Idempotency]


def database_key(service: str) -> str:
    return f"{service}_database"


def service_lifespan(
    service: str,
    settings: KitSettings,
    database_url: str,
    outbox_table: type[outbox.OutboxMessageBase],
    requeue_unfinished: Recovery | None = None,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Open the service's database, watch it in /health and relay its outbox while the app runs.

    With the in-process broker, the queue (and every retry waiting in it) died with the last process:
    `requeue_unfinished` writes what is still unfinished to the outbox again. Actors are idempotent, so this is safe.
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        settings.require_operator_token()
        database = Database(database_url)
        app.state[database_key(service)] = database
        register_check(app, service, "database", database.ping)
        stop = asyncio.Event()
        relay = asyncio.create_task(
            _recover_then_relay(service, settings, database, outbox_table, requeue_unfinished, stop),
            name=f"{service}-outbox",
        )
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(relay, RELAY_STOP_SECONDS)
            except TimeoutError:
                log.warning("%s: the outbox relay did not stop within %ss", service, RELAY_STOP_SECONDS)
            await database.dispose()

    return lifespan


async def _recover_then_relay(
    service: str,
    settings: KitSettings,
    database: Database,
    outbox_table: type[outbox.OutboxMessageBase],
    requeue_unfinished: Recovery | None,
    stop: asyncio.Event,
) -> None:
    """In the background, so that a database that is down delays recovery but not start-up (/health says why)."""
    while requeue_unfinished is not None and is_in_memory() and not stop.is_set():
        try:
            async with database.transaction() as session:
                if requeued := await requeue_unfinished(session):
                    log.info("%s: re-queued %d unfinished jobs lost with the in-process queue", service, requeued)
            break
        except Exception:
            log.exception("%s: could not re-queue unfinished work; retrying", service)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.outbox_poll_seconds * 10)
    await outbox.run_relay(database, outbox_table, broker, settings.outbox_poll_seconds, stop)


def transaction_provider(service: str) -> Callable[[State], AsyncIterator[AsyncSession]]:
    """A dependency yielding a session inside a transaction that commits before the response is sent."""

    async def provide_transaction(state: State) -> AsyncIterator[AsyncSession]:
        database: Database = state[database_key(service)]
        async with (
            database.sessions() as session,
            session.begin(),
        ):  # a failed commit raises here, before the 2xx
            yield session

    return provide_transaction


def idempotency_provider(
    settings: KitSettings, table: type[IdempotencyRecordBase]
) -> Callable[[AsyncSession, Principal], Awaitable[Idempotency]]:
    """A dependency giving handlers idempotent creates, keyed by the server's secret (the operator token)."""

    async def provide_idempotency(transaction: Transaction, caller: Caller) -> Idempotency:
        return Idempotency(transaction, table, settings.require_operator_token(), caller.scope)

    return provide_idempotency
