"""The fulfilment service's jobs end to end: an award through the broker to its buyers' orders assigned, manifests
over HTTP, and a supplier's failure handled by the backups, on the stack as it is deployed.

Starts the stack itself on free loopback ports (as bench/flash_sale does):
- embedded (default): `flexsupply up`, one process on SQLite in a temporary data folder, the in-process broker;
- distributed (`--distributed`): fresh PostgreSQL databases on FLEXSUPPLY_TEST_POSTGRES_URL (default the local
  server), `flexsupply migrate`, then compose.yaml's commands as separate processes (the three `flexsupply serve`
  and the workers with their replicas) on RabbitMQ (FLEXSUPPLY_BROKER_URL, default the local server).

Once per stack: 12 regions, 5 makers and a reserve supplier, each created through the suppliers API with its key.
Then `--runs` times:
1. **Award to assigned**, for each of `--orders` (default 500 and 10,000): a `PackageAwarded` event (orders 70% of
   1 unit, 20% of 2, 10% of 3-5, over 12 regions; each region made by 1-3 of the 5 makers, whose shares split its
   units at random) published through matching's outbox as matching does (tests.support.awarded.announce); the
   clock runs from its commit to `GET /api/v1/awarded-packages/{id}/assignment` answering `done` (polled every
   50 ms). The hops are read afterwards from the rows' times: matching's relay, the award recorded, the assignment
   job (run by the same handler right after).
2. **Manifests** of the largest package: each maker accepts and starts each of its production orders and reports
   one batch of all its units (its parcels planned then); then every production order's `manifest.csv` is fetched
   with its maker's key, one after the other; the rows must add up to the package's units.
3. **A failure** on a package of its own (`--failure-orders`, default 500): the maker of its largest production
   order ships a first batch of half its units, then staff `POST .../failure`; the clock runs from that request to
   `GET /api/v1/failures/{id}` answering `done`; then every sold unit must be assigned exactly once, the backups'
   production orders issued, and every buyer whose units moved told.
"No request waits" shows as the failure POST's own latency, and the slowest poll answered while a job ran.

    uv run --frozen python -m bench.fulfilment.service [--distributed] [--runs 3] [--orders 500,10000]
        [--failure-orders 500] [--json] [--record]

FLEXSUPPLY_OUTBOX_POLL_SECONDS, if set, is passed to the stack (the relays' poll, 0.5 s by default). Progress goes
to stderr; the table (or --json) to stdout; `--record` adds markdown rows for bench/README.md.
"""

import argparse
import asyncio
import csv
import hashlib
import io
import json
import os
import platform
import random
import secrets
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

# The distributed stack's broker; this process only writes to matching's outbox and reads the databases.
os.environ["FLEXSUPPLY_BENCH_BROKER_URL"] = os.environ.get(
    "FLEXSUPPLY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/"
)
os.environ["FLEXSUPPLY_BROKER_URL"] = "stub://"
os.environ.setdefault("FLEXSUPPLY_OPERATOR_TOKEN", "fulfilment-bench-operator-token")

import httpx
import yaml
from sqlmodel import col, select

from bench.flash_sale.setup import log
from bench.fulfilment.invariants import assert_every_unit_assigned_once
from flexsupply.allocation import Offer, Package, PackageLine, PriceTier, Problem, Supplier
from flexsupply.contracts.events import (
    AwardedAllocation,
    AwardedReserve,
    ConfirmedOrder,
    PackageAwarded,
    SupplierFailureDue,
)
from flexsupply.fulfilment.models import AwardedPackage, BuyerNotice, DeliveryOrder, Piece, SupplierFailure
from flexsupply.fulfilment.models import OutboxMessage as FulfilmentOutbox
from flexsupply.kit.db import Database
from flexsupply.matching.models import OutboxMessage as MatchingOutbox
from tests.support.awarded import announce
from tests.support.catalogue import create_supplier
from tests.support.databases import fresh_databases
from tests.support.processes import Processes, free_port, processes, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
TOKEN = os.environ["FLEXSUPPLY_OPERATOR_TOKEN"]
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
REGIONS = [
    "ningbo", "shanghai", "hangzhou", "suzhou", "wuxi", "nanjing",
    "hefei", "wenzhou", "shaoxing", "jiaxing", "huzhou", "taizhou",
]  # fmt: skip
MAKERS = 5
SKU = "bench-bread-box"
POLL_SECONDS = 0.05
WAIT_SECONDS = 300.0


# --- the stack -------------------------------------------------------------------------------------------------


@dataclass
class Stack:
    mode: str
    urls: dict[str, str]  # service -> base URL (embedded: one app serves all three)
    databases: dict[str, str]  # service -> SQLAlchemy URL
    running: Processes


def _clean_env(work: Path) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")}
    passed = {k: v for k, v in os.environ.items() if k == "FLEXSUPPLY_OUTBOX_POLL_SECONDS"}  # to try other polls
    return kept | passed | {"FLEXSUPPLY_OPERATOR_TOKEN": TOKEN, "FLEXSUPPLY_DATA_DIR": str(work / "data")}


@contextmanager
def embedded_stack(work: Path) -> Iterator[Stack]:
    port = free_port()
    data = work / "data"
    log(f"embedded stack: flexsupply up on SQLite in {data}")
    with processes(work) as running:
        running.start("up", ["flexsupply", "up"], _clean_env(work) | {"FLEXSUPPLY_PORT": str(port)})
        wait_until_healthy(f"http://127.0.0.1:{port}/health", running)
        base = f"http://127.0.0.1:{port}"
        databases = {name: f"sqlite+aiosqlite:///{data / f'{name}.db'}" for name in ("matching", "fulfilment")}
        yield Stack("embedded", dict.fromkeys(("suppliers", "matching", "fulfilment"), base), databases, running)
        log("stopping the stack")


@contextmanager
def distributed_stack(work: Path) -> Iterator[Stack]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    postgres = os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    broker = os.environ["FLEXSUPPLY_BENCH_BROKER_URL"]
    log(f"distributed stack: fresh databases on {postgres.split('@')[-1]}, broker {broker.split('@')[-1]}")
    with fresh_databases(postgres, work) as databases, processes(work) as running:
        env = _clean_env(work) | {
            "FLEXSUPPLY_BROKER_URL": broker,
            **{f"FLEXSUPPLY_{service.upper()}_DATABASE_URL": url for service, url in databases.items()},
        }
        if running.run("migrate", compose["migrate"]["command"], env) != 0:
            raise SystemExit(f"migrations failed\n{running.logs()}")
        ports = {name: free_port() for name in ("suppliers", "matching", "fulfilment")}
        env |= {f"FLEXSUPPLY_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, port in ports.items():
            command = list(compose[name]["command"])
            command[command.index("--port") + 1] = str(port)
            running.start(name, command, env)
        for name, spec in compose.items():
            if spec.get("command", [])[1:2] == ["worker"]:
                for replica in range(spec.get("deploy", {}).get("replicas", 1)):
                    running.start(f"{name}-{replica}", spec["command"], env)
        for port in ports.values():
            wait_until_healthy(f"http://127.0.0.1:{port}/health", running)
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        yield Stack("distributed", urls, databases, running)
        log("stopping the stack")


# --- suppliers and an awarded package --------------------------------------------------------------------------


@dataclass
class Suppliers:
    makers: list[UUID]
    reserve: UUID
    keys: dict[UUID, str]


async def create_suppliers(operator: httpx.AsyncClient) -> Suppliers:
    for region in REGIONS:
        response = await operator.put(f"/api/v1/regions/{region}", json={"name": region.title()})
        response.raise_for_status()
    created = [await create_supplier(operator, regions=REGIONS) for _ in range(MAKERS + 1)]
    ids = [UUID(answer["supplier"]["id"]) for answer in created]
    keys = {supplier: answer["api_key"]["api_key"] for supplier, answer in zip(ids, created, strict=True)}
    return Suppliers(makers=ids[:MAKERS], reserve=ids[MAKERS], keys=keys)


def _offer(supplier: UUID, unit_cents: int, capacity: int) -> Offer:
    return Offer(
        id=f"offer-{uuid4().hex[:8]}",
        supplier=str(supplier),
        sku=SKU,
        moq=1,
        capacity=capacity,
        lead_time_days=5,
        quality=90,
        price_tiers=[PriceTier(min_quantity=1, unit_cents=unit_cents)],
        shipping_cents=dict.fromkeys(REGIONS, 300),
    )


def award_event(suppliers: Suppliers, order_count: int, seed: str) -> PackageAwarded:
    """An award like matching's: buyers' orders over 12 regions, each region's units split at random among 1-3 of
    the makers, the reserve supplier holding every unit in reserve, and the package's re-match problem."""
    generator = random.Random(seed)
    weights = [generator.uniform(0.5, 1.5) for _ in REGIONS]
    orders = []
    for number, region in enumerate(generator.choices(REGIONS, weights, k=order_count)):
        quantity = generator.choices((1, 2, generator.randint(3, 5)), (7, 2, 1))[0]
        orders.append(
            ConfirmedOrder(
                order_id=UUID(int=generator.getrandbits(128), version=4),
                token_sha256=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                region=region,
                quantity=quantity,
                name=f"Buyer {number}",
                phone=f"+86138{number:08d}",
                address=f'{generator.randint(1, 300)} Garden Road, Block {generator.randint(1, 40)}, "East" gate',
            )
        )
    firm = {region: units for region in REGIONS if (units := sum(o.quantity for o in orders if o.region == region))}
    total = sum(firm.values())
    offers = {maker: _offer(maker, 1000 + 50 * index, 10 * total) for index, maker in enumerate(suppliers.makers)}
    reserve = _offer(suppliers.reserve, 1400, total)
    allocations = []
    for region, units in firm.items():
        makers = generator.sample(suppliers.makers, min(generator.randint(1, 3), units))
        cuts = sorted(generator.sample(range(1, units), len(makers) - 1))
        for maker, low, high in zip(makers, [0, *cuts], [*cuts, units], strict=True):
            offer = offers[maker]
            allocations.append(
                AwardedAllocation(
                    supplier_id=maker,
                    offer_id=offer.id,
                    region=region,
                    quantity=high - low,
                    unit_cents=offer.price_tiers[0].unit_cents,
                    shipping_cents=300,
                )
            )
    package_id = uuid4()
    problem = Problem(
        currency="CNY",
        suppliers=[Supplier(id=str(supplier)) for supplier in [*suppliers.makers, suppliers.reserve]],
        offers=[*offers.values(), reserve],
        packages=[
            Package(
                id=str(package_id),
                sku=SKU,
                needed_by_days=20,
                backups=1,
                lines=[PackageLine(region=region, quantity=units) for region, units in firm.items()],
            )
        ],
    )
    return PackageAwarded(
        package_id=package_id,
        sku=SKU,
        needed_by=datetime.now(UTC) + timedelta(days=20),
        currency="CNY",
        firm_quantities=firm,
        allocations=allocations,
        reserves=[AwardedReserve(supplier_id=suppliers.reserve, offer_id=reserve.id, quantity=total)],
        orders=orders,
        rematch_problem=problem.model_dump(mode="json"),
    )


# --- measuring -------------------------------------------------------------------------------------------------


def ok(response: httpx.Response, *expected: int) -> Any:
    if response.status_code not in (expected or (200,)):
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json() if response.headers.get("content-type", "").startswith("application/json") else None


@dataclass
class Poll:
    """Polls every 50 ms until `done` says so; the slowest answer shows whether requests waited on the job."""

    seconds: float = 0.0  # from the start to the answer that said done
    polls: int = 0
    slowest_seconds: float = 0.0
    body: Any = None


async def poll(client: httpx.AsyncClient, url: str, done: Any, started: float) -> Poll:
    result = Poll()
    while True:
        sent = time.perf_counter()
        response = await client.get(url)
        answered = time.perf_counter()
        result.polls += 1
        result.slowest_seconds = max(result.slowest_seconds, answered - sent)
        if response.status_code == 200 and done(body := response.json()):
            result.seconds, result.body = answered - started, body
            return result
        if response.status_code not in (200, 404):
            raise SystemExit(f"GET {url}: {response.status_code} {response.text}")
        if answered - started > WAIT_SECONDS:
            raise SystemExit(f"GET {url}: not done within {WAIT_SECONDS:g} s: {response.text}")
        await asyncio.sleep(POLL_SECONDS)


async def _received_at(url: str, package_id: UUID) -> datetime:
    """When fulfilment recorded the award (its handler then assigns the orders at once)."""
    database = Database(url, pooled=False)
    try:
        async with database.transaction() as session:
            awarded = await session.get(AwardedPackage, package_id)
    finally:
        await database.dispose()
    assert awarded is not None
    return awarded.received_at


async def _outbox_times(url: str, table: Any, event_name: str) -> tuple[datetime, datetime]:
    """When the newest row of this event was written and when the relay sent it."""
    database = Database(url, pooled=False)
    try:
        async with database.transaction() as session:
            row = (
                await session.exec(
                    select(table).where(table.event_name == event_name).order_by(col(table.created_at).desc())
                )
            ).first()
    finally:
        await database.dispose()
    assert row is not None and row.sent_at is not None
    return row.created_at, row.sent_at


@dataclass
class Award:
    orders: int
    units: int
    production_orders: int
    publish_seconds: float  # the outbox insert of the event (matching's transaction)
    assigned_seconds: float  # from its commit to the assignment seen done
    split_orders: int
    slowest_poll_seconds: float
    hops: dict[str, float]  # matching relay, award recorded, assignment job


async def award_to_assigned(stack: Stack, operator: httpx.AsyncClient, event: PackageAwarded) -> Award:
    started = time.perf_counter()
    await announce(stack.databases["matching"], event)
    published = time.perf_counter()
    url = f"/api/v1/awarded-packages/{event.package_id}/assignment"
    seen = await poll(operator, url, lambda body: body["status"] != "queued", published)
    done_at = datetime.now(UTC)
    if seen.body["status"] != "done":
        raise SystemExit(f"assignment of {event.package_id}: {seen.body}")
    awarded_created, awarded_sent = await _outbox_times(stack.databases["matching"], MatchingOutbox, event.name)
    received = await _received_at(stack.databases["fulfilment"], event.package_id)
    productions = ok(await operator.get("/api/v1/production-orders", params={"package_id": str(event.package_id)}))
    return Award(
        orders=len(event.orders),
        units=sum(order.quantity for order in event.orders),
        production_orders=len(productions),
        publish_seconds=published - started,
        assigned_seconds=seen.seconds,
        split_orders=seen.body["split_orders"],
        slowest_poll_seconds=seen.slowest_seconds,
        hops={
            "matching relay": (awarded_sent - awarded_created).total_seconds(),
            "award recorded": (received - awarded_sent).total_seconds(),
            # The same handler assigns the orders right after recording the award: no relay hop between.
            "assignment job": (done_at - received).total_seconds(),
        },
    )


@dataclass
class Manifests:
    production_orders: int
    rows: int
    units: int
    batches_seconds: float  # every production order's one batch reported (its parcels planned), one after another
    slowest_batch_seconds: float
    seconds: float  # every manifest.csv fetched, one after another
    slowest_seconds: float
    bytes: int


async def manifests(
    operator: httpx.AsyncClient, makers: dict[UUID, httpx.AsyncClient], event: PackageAwarded
) -> Manifests:
    productions = ok(await operator.get("/api/v1/production-orders", params={"package_id": str(event.package_id)}))
    batch_times = []
    for production in productions:
        maker, url = makers[UUID(production["supplier_id"])], f"/api/v1/production-orders/{production['id']}"
        for step in ("accept", "start"):
            ok(await maker.post(f"{url}/moves", json={"step": step}))
        body = {"quantity": production["quantity"], "lot_number": f"L-{production['id'][:6]}", "quality_passed": True}
        began = time.perf_counter()
        ok(await maker.post(f"{url}/batches", json=body), 201)
        batch_times.append(time.perf_counter() - began)
    rows, units, size, fetch_times = 0, 0, 0, []
    for production in productions:
        maker = makers[UUID(production["supplier_id"])]
        began = time.perf_counter()
        response = await maker.get(f"/api/v1/production-orders/{production['id']}/manifest.csv")
        fetch_times.append(time.perf_counter() - began)
        ok(response)
        lines = list(csv.DictReader(io.StringIO(response.text)))
        if {line["region"] for line in lines} != {production["region"]} or not all(line["address"] for line in lines):
            raise SystemExit(f"manifest of {production['id']}: wrong regions or empty addresses")
        rows, units, size = (
            rows + len(lines),
            units + sum(int(line["quantity"]) for line in lines),
            size + len(response.content),
        )
    expected = sum(order.quantity for order in event.orders)
    if units != expected:
        raise SystemExit(f"manifests carry {units} units, the package sold {expected}")
    return Manifests(
        production_orders=len(productions),
        rows=rows,
        units=units,
        batches_seconds=sum(batch_times),
        slowest_batch_seconds=max(batch_times),
        seconds=sum(fetch_times),
        slowest_seconds=max(fetch_times),
        bytes=size,
    )


@dataclass
class Failure:
    orders: int
    failed_units: int
    shipped_units: int
    post_seconds: float  # the failure request's own answer
    handled_seconds: float  # from the request to the take-over seen done
    new_production_orders: int
    orders_moved: int
    buyers_told: int
    slowest_poll_seconds: float
    hops: dict[str, float]  # fulfilment relay, take-over job


async def failure(
    stack: Stack, operator: httpx.AsyncClient, makers: dict[UUID, httpx.AsyncClient], event: PackageAwarded
) -> Failure:
    productions = ok(await operator.get("/api/v1/production-orders", params={"package_id": str(event.package_id)}))
    production = max(productions, key=lambda production: production["quantity"])
    maker, url = makers[UUID(production["supplier_id"])], f"/api/v1/production-orders/{production['id']}"
    for step in ("accept", "start"):
        ok(await maker.post(f"{url}/moves", json={"step": step}))
    body = {"quantity": production["quantity"] // 2, "lot_number": "L-first", "quality_passed": True}
    batch = ok(await maker.post(f"{url}/batches", json=body), 201)
    parcels = ok(await maker.get(f"{url}/shipments", params={"batch_id": batch["id"], "limit": 500}))
    moves = [
        {"shipment_id": parcel["id"], "step": "ship", "carrier": "SF", "tracking_number": f"SF{number:06d}"}
        for number, parcel in enumerate(parcels)
    ]
    ok(await maker.post("/api/v1/shipments/moves", json={"moves": moves}))
    shipped = sum(parcel["quantity"] for parcel in parcels)

    started = time.perf_counter()
    answer = await operator.post(f"{url}/failure", json={"reason": "the oven broke down"})
    posted = time.perf_counter()
    marked = ok(answer, 202)
    seen = await poll(operator, f"/api/v1/failures/{marked['id']}", lambda body: body["status"] != "queued", started)
    if seen.body["status"] != "done":
        raise SystemExit(f"failure {marked['id']}: {seen.body}")
    due_created, due_sent = await _outbox_times(
        stack.databases["fulfilment"], FulfilmentOutbox, SupplierFailureDue.name
    )
    finished_at = datetime.fromisoformat(seen.body["finished_at"])

    after = ok(await operator.get("/api/v1/production-orders", params={"package_id": str(event.package_id)}))
    backups = [p for p in after if p["failure_id"] == marked["id"]]
    if sum(p["quantity"] for p in backups) != marked["units"]:
        raise SystemExit(f"backups make {sum(p['quantity'] for p in backups)} of {marked['units']} failed units")
    moved, told = await moved_and_told(stack.databases["fulfilment"], event.package_id)
    if moved != told:
        raise SystemExit(
            f"{len(moved - told)} buyers whose units moved were not told; {len(told - moved)} told for nothing"
        )
    await assert_every_unit_assigned_once(stack.databases["fulfilment"], event.package_id)
    return Failure(
        orders=len(event.orders),
        failed_units=marked["units"],
        shipped_units=shipped,
        post_seconds=posted - started,
        handled_seconds=seen.seconds,
        new_production_orders=len(backups),
        orders_moved=len(moved),
        buyers_told=len(told),
        slowest_poll_seconds=seen.slowest_seconds,
        hops={
            "fulfilment relay": (due_sent - due_created).total_seconds(),
            "take-over job": (finished_at - due_sent).total_seconds(),
        },
    )


async def moved_and_told(url: str, package_id: UUID) -> tuple[set[UUID], set[UUID]]:
    """The package's orders with units moved off the failed supplier, and those with a notice."""
    database = Database(url, pooled=False)
    try:
        async with database.transaction() as session:
            in_package = select(DeliveryOrder.id).where(DeliveryOrder.package_id == package_id)
            moved = (
                await session.exec(
                    select(Piece.order_id).where(col(Piece.order_id).in_(in_package), col(Piece.moved_at).is_not(None))
                )
            ).all()
            told = (
                await session.exec(select(BuyerNotice.order_id).where(col(BuyerNotice.order_id).in_(in_package)))
            ).all()
            assert await session.get(AwardedPackage, package_id) is not None
            assert (await session.exec(select(SupplierFailure).where(SupplierFailure.package_id == package_id))).first()
    finally:
        await database.dispose()
    return set(moved), set(told)


# --- runs and the report ---------------------------------------------------------------------------------------


@dataclass
class Run:
    awards: list[Award] = field(default_factory=list)
    manifests: Manifests | None = None
    failure: Failure | None = None


async def one_run(stack: Stack, suppliers: Suppliers, order_counts: list[int], failure_orders: int, number: int) -> Run:
    headers = {"authorization": f"Bearer {TOKEN}"}
    operator = httpx.AsyncClient(base_url=stack.urls["fulfilment"], headers=headers, timeout=120)
    makers = {
        supplier: httpx.AsyncClient(
            base_url=stack.urls["fulfilment"], headers={"authorization": f"Bearer {key}"}, timeout=120
        )
        for supplier, key in suppliers.keys.items()
    }
    run = Run()
    try:
        events = {}
        for order_count in order_counts:
            events[order_count] = event = award_event(suppliers, order_count, f"{stack.mode}-{number}-{order_count}")
            award = await award_to_assigned(stack, operator, event)
            log(
                f"run {number}: {order_count:,} orders ({award.units:,} units, {award.production_orders} production "
                f"orders) assigned {award.assigned_seconds:.2f} s after the award, {award.split_orders} split; "
                + ", ".join(f"{hop} {seconds:.2f}" for hop, seconds in award.hops.items())
            )
            run.awards.append(award)
        run.manifests = await manifests(operator, makers, events[max(order_counts)])
        log(
            f"run {number}: {run.manifests.rows:,} manifest rows ({run.manifests.units:,} units) in "
            f"{run.manifests.production_orders} manifest.csv fetched in {run.manifests.seconds:.2f} s "
            f"(slowest {run.manifests.slowest_seconds:.2f}); batches reported in {run.manifests.batches_seconds:.2f} s"
        )
        # A package of its own: the manifests' one is already in production everywhere.
        event = award_event(suppliers, failure_orders, f"{stack.mode}-{number}-failure")
        await award_to_assigned(stack, operator, event)
        run.failure = await failure(stack, operator, makers, event)
        log(
            f"run {number}: failure of {run.failure.failed_units} units on {run.failure.orders} orders answered in "
            f"{run.failure.post_seconds * 1000:.0f} ms, handled in {run.failure.handled_seconds:.2f} s "
            f"({run.failure.new_production_orders} new production orders, {run.failure.orders_moved} orders moved, "
            f"{run.failure.buyers_told} told); "
            + ", ".join(f"{hop} {seconds:.2f}" for hop, seconds in run.failure.hops.items())
        )
    finally:
        await operator.aclose()
        for client in makers.values():
            await client.aclose()
    return run


def median_max(values: list[float], unit: float = 1.0, digits: int = 2) -> str:
    return f"{statistics.median(values) * unit:.{digits}f} / {max(values) * unit:.{digits}f}"


def table(mode: str, runs: list[Run], date: str | None = None) -> str:
    header = ["stack", "measure", "size", "median / max", "target", "also"]
    if date:
        header.insert(0, "date")
    rows: list[list[str]] = []
    for index, award in enumerate(runs[0].awards):
        awards = [run.awards[index] for run in runs]
        seconds = [award.assigned_seconds for award in awards]
        target = 1.0 if award.orders <= 500 else 10.0
        hops = " + ".join(f"{hop} {statistics.median([a.hops[hop] for a in awards]):.2f}" for hop in award.hops)
        rows.append([
            mode,
            "award to assigned, s",
            f"{award.orders:,} orders ({award.production_orders} production orders)",
            median_max(seconds),
            f"< {target:g} s: {'met' if max(seconds) < target else 'MISSED'}",
            f"split {', '.join(str(a.split_orders) for a in awards)}; median {hops}; "
            f"slowest poll {max(a.slowest_poll_seconds for a in awards) * 1000:.0f} ms",
        ])  # fmt: skip
    lists = [run.manifests for run in runs if run.manifests]
    seconds = [m.seconds for m in lists]
    rows.append([
        mode,
        "manifest.csv of every production order, s",
        f"{lists[0].rows:,} rows, {lists[0].production_orders} manifests",
        median_max(seconds),
        f"< 5 s: {'met' if max(seconds) < 5 else 'MISSED'}",
        f"slowest manifest {max(m.slowest_seconds for m in lists):.2f} s; units add up; "
        f"batches (parcels planned) {median_max([m.batches_seconds for m in lists])} s",
    ])  # fmt: skip
    failures = [run.failure for run in runs if run.failure]
    seconds = [f.handled_seconds for f in failures]
    hops = " + ".join(f"{hop} {statistics.median([f.hops[hop] for f in failures]):.2f}" for hop in failures[0].hops)
    rows.append([
        mode,
        "failure to take-over done, s",
        f"{failures[0].orders:,} orders, {failures[0].failed_units} of its units failed",
        median_max(seconds),
        f"< 10 s: {'met' if max(seconds) < 10 else 'MISSED'}",
        f"POST answered in {median_max([f.post_seconds for f in failures], 1000, 0)} ms; median {hops}; "
        f"{failures[0].new_production_orders} new production orders, {failures[0].orders_moved} orders moved and "
        f"told; every unit assigned once",
    ])  # fmt: skip
    lines = [header, ["---"] * len(header), *([date, *row] if date else row for row in rows)]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return found.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distributed", action="store_true", help="PostgreSQL, RabbitMQ, separate processes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--orders", type=lambda text: [int(n) for n in text.split(",")], default=[500, 10_000])
    parser.add_argument("--failure-orders", type=int, default=500, help="orders of the package whose supplier fails")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--record", action="store_true", help="print markdown rows for bench/README.md")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fulfilment-bench-") as folder:
        work = Path(folder)
        stack_of = distributed_stack if options.distributed else embedded_stack
        with stack_of(work) as stack:

            async def go() -> list[Run]:
                async with httpx.AsyncClient(
                    base_url=stack.urls["suppliers"], headers={"authorization": f"Bearer {TOKEN}"}, timeout=60
                ) as catalogue:
                    suppliers = await create_suppliers(catalogue)
                return [
                    await one_run(stack, suppliers, options.orders, options.failure_orders, number)
                    for number in range(1, options.runs + 1)
                ]

            runs = asyncio.run(go())
    if options.json:
        machine = {"nproc": os.cpu_count(), "python": platform.python_version(), "commit": commit()}
        print(json.dumps({"stack": stack.mode, "machine": machine, "runs": [asdict(run) for run in runs]}, indent=2))
    else:
        print(table(stack.mode, runs))
    if options.record:
        print(f"\n{table(stack.mode, runs, date=datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))}")


if __name__ == "__main__":
    main()
