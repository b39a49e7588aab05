"""What every service's shell shares: its database in app state, its outbox relay, its unit of work."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.kit import outbox
from flexsupply.kit.auth import Principal
from flexsupply.kit.broker import broker
from flexsupply.kit.db import Database
from flexsupply.kit.health import register_check
from flexsupply.kit.settings import KitSettings

# What handlers declare to receive the unit of work and the caller (litestar 3 needs dependencies marked).
Transaction = NamedDependency[AsyncSession]
Caller = NamedDependency[Principal]


def database_key(service: str) -> str:
    return f"{service}_database"


def settings_key(service: str) -> str:
    return f"{service}_settings"


def service_lifespan(
    service: str, settings: KitSettings, database_url: str, outbox_table: type[outbox.OutboxMessageBase]
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Open the service's database, watch it in /health and relay its outbox while the app runs."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        settings.require_operator_token()
        database = Database(database_url)
        app.state[database_key(service)], app.state[settings_key(service)] = database, settings
        register_check(app, service, "database", database.ping)
        relay = asyncio.create_task(
            outbox.run_relay(database, outbox_table, broker, settings.outbox_poll_seconds),
            name=f"{service}-outbox",
        )
        try:
            yield
        finally:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
            await database.dispose()

    return lifespan


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


def service_settings(state: State, service: str) -> Any:
    return state[settings_key(service)]
