"""One description per service, read by `up`, `serve`, `migrate`, `worker` and the tests alike.

A service says what it is once (its settings, router, tables, migrations, actors, sweepers and domain errors);
the shell around it is the same everywhere: its database in app state, its outbox relay, its sweepers and its unit
of work.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy import MetaData
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import PeerUnavailable
from flexsupply.kit import outbox
from flexsupply.kit.app import Lifespan, build_app
from flexsupply.kit.auth import Principal
from flexsupply.kit.broker import broker, is_in_memory
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.kit.health import register_check
from flexsupply.kit.idempotency import Idempotency, IdempotencyRecordBase
from flexsupply.kit.settings import KitSettings

log = logging.getLogger(__name__)
# Longer than SQLite's busy timeout (kit.db), so a relay pass waiting for a lock can still finish.
RELAY_STOP_SECONDS = 15.0
# Owed work whose message may be lost: given the cut-off, publish again what was due before it and is not done.
Sweeper = Callable[[AsyncSession, datetime], Awaitable[int]]

# What handlers declare to receive the unit of work and the caller (litestar 3 needs dependencies marked).
Transaction = NamedDependency[AsyncSession]
Caller = NamedDependency[Principal]
Idempotent = NamedDependency[Idempotency]

# Errors every service answers the same way.
KIT_ERRORS: Mapping[type[Exception], int] = {PeerUnavailable: 503}


@dataclass(frozen=True)
class ServiceDescription:
    name: str
    title: str
    settings: Callable[[], Any]  # a KitSettings subclass with a `database_url`
    create_router: Callable[[Any], Router]
    metadata: MetaData
    migrations: Path
    outbox_table: type[outbox.OutboxMessageBase]
    actor_modules: tuple[str, ...] = ()
    sweepers: tuple[Sweeper, ...] = ()
    domain_errors: Mapping[type[Exception], int] = field(default_factory=dict)
    template_directories: tuple[Path, ...] = ()  # the service's server-rendered pages, if any
    locale_directories: tuple[Path, ...] = ()  # their message catalogues (kit.i18n)

    def lifespan(self, settings: Any) -> Lifespan:
        return service_lifespan(self.name, settings, settings.database_url, self.outbox_table, self.sweepers)

    def app(self, settings: Any = None) -> Litestar:
        if settings is None:
            settings = self.settings()
        return build_app(
            title=self.title,
            routers=[self.create_router(settings)],
            lifespans=[self.lifespan(settings)],
            domain_errors={**KIT_ERRORS, **self.domain_errors},
            log_level=settings.log_level,
            template_directories=self.template_directories,
            locale_directories=self.locale_directories,
            time_zone=settings.community_time_zone,
        )


def database_key(service: str) -> str:
    return f"{service}_database"


def service_lifespan(
    service: str,
    settings: KitSettings,
    database_url: str,
    outbox_table: type[outbox.OutboxMessageBase],
    sweepers: Sequence[Sweeper] = (),
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Open the service's database, watch it in /health, relay its outbox and sweep its owed work while it runs."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        settings.require_operator_token()
        database = Database(database_url)
        app.state[database_key(service)] = database
        register_check(app, service, "database", database.ping)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(
                outbox.run_relay(database, outbox_table, broker, settings.outbox_poll_seconds, stop),
                name=f"{service}-outbox",
            )
        ]
        if sweepers:
            tasks.append(
                asyncio.create_task(run_sweepers(service, settings, database, sweepers, stop), name=f"{service}-sweep")
            )
        try:
            yield
        finally:
            stop.set()
            _, pending = await asyncio.wait(tasks, timeout=RELAY_STOP_SECONDS)
            for task in pending:
                log.warning("%s: %s did not stop within %ss", service, task.get_name(), RELAY_STOP_SECONDS)
                task.cancel()
            await database.dispose()

    return lifespan


async def sweep_once(database: Database, sweepers: Sequence[Sweeper], overdue_before: datetime) -> int:
    swept = 0
    for sweeper in sweepers:
        async with database.transaction() as session:
            swept += await sweeper(session, overdue_before)
    return swept


async def run_sweepers(
    service: str, settings: KitSettings, database: Database, sweepers: Sequence[Sweeper], stop: asyncio.Event
) -> None:
    """Publish again the owed work whose message was lost: a worker killed mid-task, a broker that keeps a dead
    worker's messages (Redis), or the in-process queue of the last run (then at once: nothing else can hold it)."""
    grace = timedelta(seconds=0 if is_in_memory() else settings.sweep_grace_seconds)
    while not stop.is_set():
        try:
            if swept := await sweep_once(database, sweepers, utc_now() - grace):
                log.info("%s: re-sent %d overdue jobs", service, swept)
        except Exception:
            log.exception("%s: sweeping owed work failed; retrying", service)
        grace = timedelta(seconds=settings.sweep_grace_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.sweep_seconds)


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
