"""Where an order's time goes: the order path's pieces timed one by one, in one process, with no network.

Runs the embedded app in this process (every service and the in-process worker, as bench/sourcing does) on fresh
databases: PostgreSQL (FLEXSUPPLY_TEST_POSTGRES_URL, default the local server) or SQLite (`--sqlite`). Puts a
package on sale through the API (bench.flash_sale.setup over httpx's ASGI transport), then times each piece, first
one call at a time (wall time is then one call's latency; CPU time is this process's work for it), then with
`--concurrency` calls at once (what one process can do):

- `GET /live` through the app: the HTTP client's and litestar's own cost per request;
- `GET /api/v1/sales/{id}/stock` through the app (shared by all pollers for half a second);
- `POST /api/v1/sales/{id}/orders` through the app;
- `flexsupply.matching.sales.place_order` called directly: the service function (SQLAlchemy Core on the service's
  engine), without HTTP or the body's validation;
- an empty transaction on the service's engine (`engine.begin()`: pool checkout with its pre-ping, BEGIN, COMMIT);
- the order's statements sent directly, as `place_order` sends them (no SQLAlchemy): a read of the units left, then
  one transaction inserting the order, counting the buyer's units and taking one stock row; with asyncpg on
  PostgreSQL, with the sqlite3 module on SQLite (one connection kept open, blocking the loop: SQLite has one writer
  anyway).

The HTTP client's cost is in every "through the app" line, as much as in `/live`'s: compare differences.

    uv run --frozen python -m bench.flash_sale.parts [--sqlite] [--calls 1000] [--concurrency 64] [--profile 30]
        [--json]
"""

import argparse
import asyncio
import json
import os
import re
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

os.environ.setdefault("FLEXSUPPLY_BROKER_URL", "stub://")
os.environ.setdefault("FLEXSUPPLY_OPERATOR_TOKEN", "flash-parts-operator-token")
os.environ["FLEXSUPPLY_LOG_LEVEL"] = "WARNING"

import httpx

from bench.flash_sale import setup
from bench.flash_sale.setup import REGIONS, log, split

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

INSERT_ORDER = """
INSERT INTO sale_order (id, package_id, idempotency_key, request_hash, token, payment_reference, region, quantity,
    unit_price_cents, amount_cents, currency, name, phone, address, status, placed_at, pay_by, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
ON CONFLICT (package_id, idempotency_key) DO NOTHING RETURNING id"""
COUNT_BUYER = """
INSERT INTO buyer_allowance (package_id, phone, units) VALUES ($1, $2, $3)
ON CONFLICT (package_id, phone) DO UPDATE SET units = buyer_allowance.units + excluded.units
WHERE buyer_allowance.units + excluded.units <= $4 RETURNING units"""
TAKE_STOCK = """
UPDATE sale_stock SET remaining = remaining - $4
WHERE package_id = $1 AND region = $2 AND shard = $3 AND selling AND remaining >= $4 RETURNING remaining"""
LEFT = "SELECT coalesce(sum(remaining), 0) FROM sale_stock WHERE package_id = $1 AND region = $2"

_buyer = 0


def _sqlite(statement: str) -> str:
    """asyncpg's $n placeholders as SQLite's ?n."""
    return re.sub(r"\$(\d+)", r"?\1", statement)


def next_buyer() -> int:
    global _buyer
    _buyer += 1
    return _buyer


def order_body(buyer: int) -> dict[str, Any]:
    return {
        "quantity": 1,
        "region": REGIONS[buyer % len(REGIONS)],
        "name": f"Buyer {buyer}",
        "phone": f"137{buyer:08d}",
        "address": f"{buyer} Flash Road, Ningbo",
    }


class Failed(Exception):
    """A call answered an error (e.g. 503 when SQLite stays locked past its busy timeout): counted, not fatal."""


def expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise Failed(f"{response.status_code} {response.text[:200]}")


async def timed(call: Callable[[], Awaitable[Any]], calls: int, concurrency: int) -> dict[str, float]:
    """`calls` calls, `concurrency` at a time: per call wall and CPU (ms), calls per second; latency percentiles."""
    latencies: list[float] = []
    left, failed = calls, 0

    async def client() -> None:
        nonlocal left, failed
        while left > 0:
            left -= 1
            began = time.perf_counter()
            try:
                await call()
            except Failed:
                failed += 1
            latencies.append(time.perf_counter() - began)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    ordered = sorted(latencies)
    return {
        "calls": calls,
        "concurrency": concurrency,
        "per_second": calls / wall,
        "cpu_ms_per_call": 1000 * cpu / calls,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "failed": failed,
    }


async def measure(urls: dict[str, str], data: str, options: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy.exc import OperationalError

    from flexsupply.cli.stack import SERVICE_NAMES, embedded_app, load_service
    from flexsupply.kit.db import Database
    from flexsupply.kit.migrations import upgrade
    from flexsupply.kit.service import database_key
    from flexsupply.kit.settings import KitSettings
    from flexsupply.matching import sales
    from flexsupply.matching.schemas import OrderCreate
    from tests.support.lifespan import running

    for service, url in urls.items():
        os.environ[f"FLEXSUPPLY_{service.upper()}_DATABASE_URL"] = url
    os.environ["FLEXSUPPLY_DATA_DIR"] = data
    for name in SERVICE_NAMES:
        loaded = load_service(name)
        await asyncio.to_thread(upgrade, loaded.migrations, loaded.database_url)
    app = embedded_app([load_service(name) for name in SERVICE_NAMES], KitSettings(), worker_threads=2)
    token = os.environ["FLEXSUPPLY_OPERATOR_TOKEN"]
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://parts", timeout=120) as api,  # pyright: ignore[reportArgumentType]
    ):
        seller = await setup.prepare(api, api, token)
        sale = await setup.sale_package(api, api, seller, split(options.cap), 3.0)
        await asyncio.sleep(setup.seconds_to_opening(sale))
        package_id = UUID(sale.package_id)
        orders_path = f"/api/v1/sales/{package_id}/orders"
        opened = await api.post(
            orders_path, json=order_body(next_buyer()), headers={"idempotency-key": secrets.token_hex(12)}
        )
        assert opened.status_code == 201, opened.text
        database: Database = app.state[database_key("matching")]
        log(f"engine pool: {database.engine.pool.status()}")

        async def live() -> None:
            expect(await api.get("/live"), 200)

        async def stock() -> None:
            expect(await api.get(f"/api/v1/sales/{package_id}/stock"), 200)

        async def order_http() -> None:
            key = secrets.token_hex(12)
            expect(await api.post(orders_path, json=order_body(next_buyer()), headers={"idempotency-key": key}), 201)

        async def order_direct() -> None:
            body = OrderCreate.model_validate(order_body(next_buyer()))
            try:
                await sales.place_order(database, package_id, secrets.token_hex(12), body)
            except OperationalError as error:  # SQLite locked past its busy timeout (a 503 over HTTP)
                raise Failed(str(error)) from error

        async def empty_transaction() -> None:
            async with database.engine.begin():
                pass

        pieces: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("GET /live, through the app", live),
            ("GET stock, through the app", stock),
            ("POST order, through the app", order_http),
            ("sales.place_order, called directly", order_direct),
            ("empty transaction on the service's engine", empty_transaction),
        ]
        pool = None
        if urls["matching"].startswith("postgresql"):
            import asyncpg
            from sqlalchemy.engine import make_url

            dsn = make_url(urls["matching"]).set(drivername="postgresql").render_as_string(hide_password=False)
            pool = await asyncpg.create_pool(dsn, min_size=15, max_size=15)

            async def order_asyncpg() -> None:
                assert pool is not None
                buyer = next_buyer()
                body = order_body(buyer)
                now = datetime.now(UTC)
                async with pool.acquire() as connection:
                    await connection.fetchval(LEFT, package_id, body["region"])  # sold out? (no transaction)
                    await order_transaction(connection, buyer, body, now)

            async def order_transaction(connection: Any, buyer: int, body: dict[str, Any], now: datetime) -> None:
                async with connection.transaction():
                    order_id = await connection.fetchval(
                        INSERT_ORDER,
                        uuid4(),
                        package_id,
                        secrets.token_hex(12),
                        secrets.token_hex(32),
                        secrets.token_urlsafe(24),
                        f"FS-{secrets.token_hex(6).upper()}",
                        body["region"],
                        1,
                        5900,
                        5900,
                        "CNY",
                        body["name"],
                        f"+86{body['phone']}",
                        body["address"],
                        "placed",
                        now,
                        now + timedelta(minutes=30),
                        now,
                    )
                    assert order_id is not None
                    assert await connection.fetchval(COUNT_BUYER, package_id, f"+86{body['phone']}", 1, 5) is not None
                    shard = 1 + buyer % 8  # the rows sold from (0 takes returns)
                    assert await connection.fetchval(TAKE_STOCK, package_id, body["region"], shard, 1) is not None

            pieces.append(("the order's statements with asyncpg directly (pool of 15)", order_asyncpg))

        raw_sqlite = None
        if urls["matching"].startswith("sqlite"):
            raw_sqlite = sqlite3.connect(urls["matching"].split("///", 1)[1], isolation_level=None)
            raw_sqlite.execute("PRAGMA busy_timeout=10000")

            async def order_sqlite3() -> None:
                assert raw_sqlite is not None
                buyer = next_buyer()
                body = order_body(buyer)
                now = datetime.now(UTC)
                key, phone = package_id.hex, f"+86{body['phone']}"
                values = (
                    uuid4().hex,
                    key,
                    secrets.token_hex(12),
                    secrets.token_hex(32),
                    secrets.token_urlsafe(24),
                    f"FS-{secrets.token_hex(6).upper()}",
                    body["region"],
                    1,
                    5900,
                    5900,
                    "CNY",
                    body["name"],
                    phone,
                    body["address"],
                    "placed",
                    now.isoformat(),
                    (now + timedelta(minutes=30)).isoformat(),
                    now.isoformat(),
                )
                raw_sqlite.execute(_sqlite(LEFT), (key, body["region"])).fetchone()  # sold out? (autocommit read)
                raw_sqlite.execute("BEGIN IMMEDIATE")
                try:
                    assert raw_sqlite.execute(_sqlite(INSERT_ORDER), values).fetchone() is not None
                    assert raw_sqlite.execute(_sqlite(COUNT_BUYER), (key, phone, 1, 5)).fetchone() is not None
                    take = (key, body["region"], 1 + buyer % 8, 1)
                    assert raw_sqlite.execute(_sqlite(TAKE_STOCK), take).fetchone() is not None
                    raw_sqlite.execute("COMMIT")
                except BaseException:
                    raw_sqlite.execute("ROLLBACK")
                    raise

            pieces.append(("the order's statements with sqlite3 directly (one connection, blocking)", order_sqlite3))

        results: dict[str, Any] = {"database": urls["matching"].split(":")[0], "pieces": {}}
        if options.profile:
            import cProfile
            import io
            import pstats

            for _ in range(20):
                await order_direct()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(options.calls):
                await order_direct()
            profiler.disable()
            report = io.StringIO()
            pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(options.profile)
            results["profile"] = report.getvalue()
            log(f"sales.place_order under cProfile, {options.calls} calls, by cumulative time:\n{report.getvalue()}")
        for name, call in pieces:
            for _ in range(20):  # warm up
                await call()
            alone = await timed(call, options.calls, 1)
            # The stock is cached for half a second: enough calls to cross several expiries.
            many = options.stock_calls if call is stock else options.calls * 2
            together = await timed(call, many, options.concurrency)
            results["pieces"][name] = {"alone": alone, "together": together}
            log(
                f"{name}: alone p50 {alone['p50_ms']:.2f} ms, CPU {alone['cpu_ms_per_call']:.2f} ms; "
                f"{options.concurrency} at once {together['per_second']:,.0f}/s, "
                f"CPU {together['cpu_ms_per_call']:.2f} ms, p99 {together['p99_ms']:.1f} ms"
                + (f", {together['failed']} failed" if together["failed"] else "")
            )
        if pool is not None:
            await pool.close()
        if raw_sqlite is not None:
            raw_sqlite.close()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true", help="SQLite files instead of PostgreSQL")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--cap", type=int, default=300_000)
    parser.add_argument("--stock-calls", type=int, default=20_000, help="stock reads at once (several expiries)")
    parser.add_argument("--profile", type=int, default=0, help="also cProfile place_order: show this many lines")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    from tests.support.databases import fresh_databases

    postgres = None if options.sqlite else os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    with tempfile.TemporaryDirectory() as data, fresh_databases(postgres, Path(data)) as urls:
        result = asyncio.run(measure(urls, data, options))
    if options.json:
        print(json.dumps(result, indent=2))
        return
    print(f"database: {result['database']}, one process, no network (httpx's ASGI transport)")
    print(
        f"| piece | alone: p50 ms | alone: CPU ms per call | {options.concurrency} at once: calls/s "
        "| CPU ms per call | p99 ms | failed |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, piece in result["pieces"].items():
        alone, together = piece["alone"], piece["together"]
        print(
            f"| {name} | {alone['p50_ms']:.2f} | {alone['cpu_ms_per_call']:.2f} | {together['per_second']:,.0f} "
            f"| {together['cpu_ms_per_call']:.2f} | {together['p99_ms']:.1f} | {together['failed']} |"
        )


if __name__ == "__main__":
    main()
