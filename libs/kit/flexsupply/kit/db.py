"""Async engines and sessions: SQLite for the embedded stack, PostgreSQL when distributed."""

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import DateTime, Dialect, Engine, Enum, TypeDecorator, event, make_url, text
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")
READ_ONLY = "flexsupply_read_only"


def _configure_sqlite(engine: Engine) -> None:
    # The sqlite3 driver's own transaction handling breaks SAVEPOINT and lets two writers deadlock on a lock
    # upgrade; take it over and start every transaction as a writer (BEGIN IMMEDIATE) so writers queue instead.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A connection marked read-only (`read_only_connection`) reads beside the writer, as WAL allows.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


# SQLite keeps a few connections open: opening one (a thread, its PRAGMAs) cost more than the work of a short request.
# Writers queue on the database's one write lock anyway, so more would only wait.
SQLITE_POOL_SIZE = 4
# Enough for two cores' worth of concurrent orders: more connections would only queue inside PostgreSQL.
DRIVER_POOL_SIZE = 8


def create_engine(url: str, *, pooled: bool = True) -> AsyncEngine:
    """An engine for one process and one event loop (asyncpg and aiosqlite connections belong to the loop that made
    them)."""
    options: dict[str, Any] = {"pool_pre_ping": True} if pooled else {"poolclass": NullPool}
    if url.startswith("sqlite"):
        if pooled:
            options = {"poolclass": AsyncAdaptedQueuePool, "pool_size": SQLITE_POOL_SIZE, "max_overflow": 0}
        engine = create_async_engine(url, **options)
        _configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(url, **options)


class Database:
    """One service's database: an engine and the unit of work over it."""

    def __init__(self, url: str, *, pooled: bool = True) -> None:
        self.url = url
        self.engine = create_engine(url, pooled=pooled)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._driver_pool: asyncpg.Pool | None = None
        self._driver_pool_lock = asyncio.Lock()
        self._sqlite_writer: tuple[Engine, ThreadPoolExecutor] | None = None

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def driver_pool(self) -> asyncpg.Pool:
        """PostgreSQL's own driver, for a hot path that cannot afford the ORM or SQLAlchemy's statement layer (an
        order costs a tenth of the CPU this way). A few connections beside the engine's, closed with it."""
        async with self._driver_pool_lock:
            if self._driver_pool is None:
                dsn = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
                self._driver_pool = await asyncpg.create_pool(dsn, min_size=1, max_size=DRIVER_POOL_SIZE)
        return self._driver_pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on error; a failed commit raises here."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read_only_connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads alone: on SQLite it does not queue for the write lock (a write through it fails)."""
        async with self.engine.connect() as connection:
            yield await connection.execution_options(**{READ_ONLY: True})

    async def write(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` in one transaction, written with SQLAlchemy's synchronous API: a short hot
        write. On SQLite it runs whole in this database's one writer thread, on the standard driver: the write
        lock is held for the work itself, not for a thread hop per statement. Elsewhere it runs on the engine."""
        if not self.url.startswith("sqlite"):
            async with self.engine.begin() as connection:
                return await connection.run_sync(work, *args)
        if self._sqlite_writer is None:
            engine = sa_create_engine(make_url(self.url).set(drivername="sqlite"), pool_size=1, max_overflow=0)
            _configure_sqlite(engine)
            self._sqlite_writer = engine, ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        engine, writer = self._sqlite_writer

        def in_transaction() -> T:
            with engine.begin() as connection:
                return work(connection, *args)

        return await asyncio.get_running_loop().run_in_executor(writer, in_transaction)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._driver_pool is not None:
            await self._driver_pool.close()
        if self._sqlite_writer is not None:
            engine, writer = self._sqlite_writer
            writer.shutdown(wait=True)
            engine.dispose()
        await self.engine.dispose()


# What PostgreSQL's driver raises when the server goes away or refuses work for now: a connection lost or refused
# (class 08), terminated or cancelled by an operator or a restart (57), out of connections, memory or disk (53).
_DRIVER_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or is busy, so the same request may succeed later: a connection lost, refused
    or terminated (PostgreSQL), a lock that stays taken or a disk that fails (SQLite: OperationalError), a pool with
    no connection left. Driver errors arrive raw (the driver's own pool) or wrapped by SQLAlchemy, so the causes of
    an error are looked at too."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, (OperationalError, PoolTimeout, ConnectionError, *_DRIVER_UNAVAILABLE)):
            return True
        if isinstance(cause, asyncpg.InterfaceError) and "connection is closed" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


_per_loop: dict[tuple[int, str], Database] = {}


def database_for_current_loop(url: str) -> Database:
    """Actors run on the worker's own event loop: give each loop its own engine, made lazily on first use."""
    key = (id(asyncio.get_running_loop()), url)
    if key not in _per_loop:
        _per_loop[key] = Database(url)
    return _per_loop[key]


def varchar_enum(enum: type[StrEnum]) -> Enum:
    """A status column as a VARCHAR of the members' values, not a PostgreSQL enum type: no type to create or drop in
    migrations, and new members need none."""
    return Enum(enum, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on PostgreSQL and on SQLite (which drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
