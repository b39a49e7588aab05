"""The last units of a region, gathered from several stock rows while another order takes from one of them: the
buyer gets what is left, not a wrong "sold out". PostgreSQL only: SQLite runs one writer at a time, so another
order cannot hold a row while this one reads."""

import asyncio
import os
import random

import pytest
import sqlalchemy as sa

from flexsupply.kit.db import Database
from flexsupply.matching import sales
from flexsupply.matching.schemas import OrderCreate
from tests.integration.test_reservation_properties import on_sale_package


async def wait_for_a_lock_wait(database: Database) -> None:
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(200):
        async with database.engine.connect() as connection:
            if (await connection.execute(query)).scalar_one() > 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the order never waited for the other order's row")


async def test_units_another_order_left_on_a_row_are_gathered(
    database_urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    database = Database(database_urls["matching"])
    if not database.is_postgresql:
        await database.dispose()
        if os.environ.get("FLEXSUPPLY_REQUIRE_SERVERS"):  # CI's server runs: a missing PostgreSQL is a failure
            pytest.fail("FLEXSUPPLY_REQUIRE_SERVERS is set but the matching database is not PostgreSQL")
        pytest.skip("needs PostgreSQL: on SQLite writes cannot interleave")
    try:
        package_id = await on_sale_package(database)
        stock = sa.table(
            "sale_stock", sa.column("package_id"), sa.column("region"), sa.column("shard"), sa.column("remaining")
        )
        in_ningbo = (stock.c.package_id == package_id) & (stock.c.region == "ningbo")
        async with database.engine.begin() as connection:  # ningbo: 3 units on row 1, 1 on row 2, none elsewhere
            await connection.execute(sa.update(stock).where(in_ningbo).values(remaining=0))
            await connection.execute(sa.update(stock).where(in_ningbo & (stock.c.shard == 1)).values(remaining=3))
            await connection.execute(sa.update(stock).where(in_ningbo & (stock.c.shard == 2)).values(remaining=1))
        # The first try, on one random row, meets row 2 (too few), so the order goes on to gather from row 1 up.
        monkeypatch.setattr(sales, "random", random.Random())
        monkeypatch.setattr(sales.random, "randint", lambda low, high: 2)
        other = await database.engine.connect()
        try:
            other_order = await other.begin()
            await other.execute(sa.update(stock).where(in_ningbo & (stock.c.shard == 1)).values(remaining=1))
            request = OrderCreate(quantity=2, region="ningbo", name="Li", phone="+8613800000009", address="No. 8 Road")
            placing = asyncio.create_task(sales.place_order(database, package_id, "last-two", request))
            await wait_for_a_lock_wait(database)  # it read 3 units on row 1 and waits for that row
            await other_order.commit()  # row 1 now has 1: one there and one on row 2 are the two the buyer asked for
            order, created = await asyncio.wait_for(placing, timeout=30)
        finally:
            await other.close()
        async with database.engine.connect() as connection:
            left = (await connection.execute(sa.select(sa.func.sum(stock.c.remaining)).where(in_ningbo))).scalar_one()
    finally:
        await database.dispose()
    assert created and order.quantity == 2
    assert left == 0
