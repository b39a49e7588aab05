"""Where the fulfilment jobs' time goes: each use case called directly, in one process, with no HTTP or broker.

On a fresh, migrated fulfilment database (SQLite in a temporary folder, or PostgreSQL with `--postgres`), for an award
built as bench.fulfilment.service builds it (`--orders`, default 10,000), times one after the other:
- `production.record_award` (the award event's handler: the rows of the orders and production orders);
- `delivery.assign_open_units` (the assignment job), and inside it the pure `assign` and the reads of `open_units`;
- per production order, accept, start and `production.report_batch` of all its units (its parcels planned);
- per production order, `production.manifest_lines` (the reads) and `to_csv` (the rendering);
- `failures.mark_failed` on the largest production order (the request's work) and `failures.take_over` (the job).
`--profile WORD` runs the steps whose name has it under cProfile and prints its 25 costliest functions (cumulative).

    uv run --frozen python -m bench.fulfilment.parts [--orders 10000] [--postgres] [--profile assign]
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

os.environ["FLEXSUPPLY_BROKER_URL"] = "stub://"
os.environ.setdefault("FLEXSUPPLY_OPERATOR_TOKEN", "fulfilment-parts-operator-token")
os.environ["FLEXSUPPLY_LOG_LEVEL"] = "WARNING"

from sqlmodel import select

from bench.fulfilment.service import DEFAULT_POSTGRES, Suppliers, award_event
from flexsupply.fulfilment import delivery, failures, production
from flexsupply.fulfilment.domain.manifest import to_csv
from flexsupply.fulfilment.domain.states import ProductionStep
from flexsupply.fulfilment.models import ProductionOrder
from flexsupply.fulfilment.schemas import BatchCreate
from flexsupply.kit.db import Database
from flexsupply.kit.migrations import upgrade
from tests.support.databases import fresh_databases


async def timed(name: str, work: Callable[[], Awaitable[Any]], profile: str | None) -> Any:
    profiler = cProfile.Profile() if profile and profile in name else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = await work()
    if profiler:
        profiler.disable()
    print(f"{name:<28} {time.perf_counter() - started:8.3f} s", flush=True)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return result


async def measure(url: str, order_count: int, profile: str | None) -> None:
    database = Database(url)
    suppliers = Suppliers(makers=[uuid4() for _ in range(5)], reserve=uuid4(), keys={})
    event = award_event(suppliers, order_count, "parts")
    package_id = event.package_id

    async def record() -> None:
        async with database.transaction() as session:
            await production.record_award(session, event, uuid4())

    await timed("record_award", record, profile)

    original_assign, original_open = delivery.assign, delivery.open_units
    spent = {"assign": 0.0, "open_units": 0.0}

    def assign(*args: Any) -> Any:
        began = time.perf_counter()
        try:
            return original_assign(*args)
        finally:
            spent["assign"] += time.perf_counter() - began

    async def open_units(*args: Any) -> Any:
        began = time.perf_counter()
        try:
            return await original_open(*args)
        finally:
            spent["open_units"] += time.perf_counter() - began

    delivery.assign, delivery.open_units = assign, open_units  # type: ignore[assignment]
    await timed("assign_open_units", lambda: delivery.assign_open_units(database, package_id), profile)
    delivery.assign, delivery.open_units = original_assign, original_open  # type: ignore[assignment]
    print(f"  of which assign {spent['assign']:.3f} s, open_units (twice) {spent['open_units']:.3f} s")

    async with database.transaction() as session:
        productions = (
            await session.exec(select(ProductionOrder).where(ProductionOrder.package_id == package_id))
        ).all()

    async def batches() -> None:
        for made in productions:
            async with database.transaction() as session:
                for step in (ProductionStep.ACCEPT, ProductionStep.START):
                    await production.move_production(session, made.id, step, supplier_id=None, actor="bench")
            async with database.transaction() as session:
                body = BatchCreate(quantity=made.quantity, lot_number="L", quality_passed=True)
                await production.report_batch(session, made.id, None, body, "bench")

    await timed(f"{len(productions)} batches reported", batches, profile)

    async def manifests() -> None:
        reading = rendering = 0.0
        for made in productions:
            began = time.perf_counter()
            async with database.transaction() as session:
                lines = await production.manifest_lines(session, made.id)
            read = time.perf_counter()
            to_csv(lines)
            reading, rendering = reading + read - began, rendering + time.perf_counter() - read
        print(f"  of which manifest_lines {reading:.3f} s, to_csv {rendering:.3f} s")

    await timed(f"{len(productions)} manifests", manifests, profile)

    largest = max(productions, key=lambda made: made.quantity)

    async def fail() -> Any:
        async with database.transaction() as session:
            return await failures.mark_failed(session, largest.id, actor="bench", reason="bench")

    failure = await timed(f"mark_failed ({largest.quantity} units)", fail, profile)
    await timed("take_over", lambda: failures.take_over(database, failure.id), profile)
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true", help=f"FLEXSUPPLY_TEST_POSTGRES_URL or {DEFAULT_POSTGRES}")
    parser.add_argument("--profile", help="a step's name as printed (first word), to run under cProfile")
    options = parser.parse_args()
    postgres = os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL", DEFAULT_POSTGRES) if options.postgres else None
    with (
        tempfile.TemporaryDirectory(prefix="fulfilment-parts-") as folder,
        fresh_databases(postgres, Path(folder)) as urls,
    ):
        os.environ["FLEXSUPPLY_FULFILMENT_DATABASE_URL"] = urls["fulfilment"]
        from flexsupply.cli.stack import load_service

        upgrade(load_service("fulfilment").migrations, urls["fulfilment"])
        asyncio.run(measure(urls["fulfilment"], options.orders, options.profile))


if __name__ == "__main__":
    main()
