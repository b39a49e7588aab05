"""Fresh, migrated databases for a test session: SQLite files, or new databases on a PostgreSQL server."""

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

SERVICES = ("suppliers", "matching", "fulfilment")


def _asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sqlalchemy_url: str, statements: list[str]) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(sqlalchemy_url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_databases(postgres_url: str | None, sqlite_dir: Path) -> Iterator[dict[str, str]]:
    """One database per service, dropped afterwards; the urls are SQLAlchemy async urls."""
    if not postgres_url:
        yield {service: f"sqlite+aiosqlite:///{sqlite_dir / f'{service}.db'}" for service in SERVICES}
        return
    prefix = f"fs_test_{secrets.token_hex(4)}"
    names = {service: f"{prefix}_{service}" for service in SERVICES}
    asyncio.run(_admin(postgres_url, [f'CREATE DATABASE "{name}"' for name in names.values()]))
    base = make_url(postgres_url)
    try:
        yield {
            service: base.set(database=name).render_as_string(hide_password=False) for service, name in names.items()
        }
    finally:
        asyncio.run(_admin(postgres_url, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names.values()]))
