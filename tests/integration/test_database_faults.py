"""A database that goes away under a request is a 503 `database-unavailable` with Retry-After, never a 500.

On PostgreSQL (FLEXSUPPLY_TEST_POSTGRES_URL), another connection terminates the backend serving a request while
that request waits on a row lock: once through SQLAlchemy (a supplier's update), once through the driver's own pool
(a buyer's order). On SQLite, another process holds the write lock longer than the busy timeout.
"""

import asyncio
import os
import sqlite3
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from flexsupply.kit.errors import DATABASE_RETRY_AFTER_SECONDS
from tests.integration.test_match_runs import finished_run
from tests.support.catalogue import create_supplier
from tests.support.sales import KeyClient, order, planned_sale
from tests.support.waiting import eventually

ON_POSTGRESQL = bool(os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL"))
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="needs FLEXSUPPLY_TEST_POSTGRES_URL")
sqlite_only = pytest.mark.skipif(ON_POSTGRESQL, reason="the embedded run's SQLite files")


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/database-unavailable")
    assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _terminated_while_waiting(
    url: str,
    lock_rows: str,
    lock_arguments: tuple[Any, ...],
    request: Callable[[], Coroutine[Any, Any, httpx.Response]],
) -> httpx.Response:
    """`request`'s answer when its backend is terminated while it waits for rows another connection locked."""
    locker, killer = await asyncpg.connect(_dsn(url)), await asyncpg.connect(_dsn(url))
    try:
        async with locker.transaction():
            await locker.execute(lock_rows, *lock_arguments)
            answer = asyncio.create_task(request())

            async def waiting() -> list[int]:
                return [
                    row["pid"]
                    for row in await killer.fetch(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                    )
                ]

            for pid in await eventually(waiting):
                await killer.execute("SELECT pg_terminate_backend($1)", pid)
            return await asyncio.wait_for(answer, 30)
    finally:
        await locker.close()
        await killer.close()


@postgresql_only
async def test_a_connection_terminated_mid_update_is_a_503(operator: httpx.AsyncClient, database_urls: dict[str, str]):
    supplier = (await create_supplier(operator))["supplier"]
    path = f"/api/v1/suppliers/{supplier['id']}"

    response = await _terminated_while_waiting(
        database_urls["suppliers"],
        "SELECT 1 FROM supplier WHERE id = $1 FOR UPDATE",
        (UUID(supplier["id"]),),
        lambda: operator.patch(path, json={"name": "Renamed Workshop"}),
    )

    _assert_unavailable(response)
    assert (await operator.patch(path, json={"name": "Renamed Workshop"})).status_code == 200  # a retry succeeds


@postgresql_only
async def test_a_connection_terminated_mid_order_is_a_503(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    sale = await planned_sale(operator, as_key, finished_run, opens_in_seconds=0)
    assert (await order(operator, sale.id)).status_code == 201  # the sale is open, the driver's pool connected

    response = await _terminated_while_waiting(
        database_urls["matching"],
        "SELECT 1 FROM sale_stock WHERE package_id = $1 FOR UPDATE",
        (UUID(sale.id),),
        lambda: order(operator, sale.id),
    )

    _assert_unavailable(response)
    assert (await order(operator, sale.id)).status_code == 201


@contextmanager
def _write_lock_held(path: str) -> Iterator[None]:
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@sqlite_only
async def test_a_database_locked_past_the_busy_timeout_is_a_503(
    operator: httpx.AsyncClient, database_urls: dict[str, str]
):
    supplier = (await create_supplier(operator))["supplier"]
    path = f"/api/v1/suppliers/{supplier['id']}"
    database_file = make_url(database_urls["suppliers"]).database
    assert database_file is not None

    with _write_lock_held(database_file):
        response = await operator.patch(path, json={"name": "Renamed Workshop"})  # waits out the busy timeout

    _assert_unavailable(response)
    assert (await operator.patch(path, json={"name": "Renamed Workshop"})).status_code == 200
