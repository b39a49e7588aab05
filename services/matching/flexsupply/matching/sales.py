"""The flash sale: opening on time, orders that never oversell, cancellations, payments, and the close.

Orders take the hot path, without the ORM: an insert that does nothing for a retried Idempotency-Key, a conditional
upsert of the buyer's units and a conditional UPDATE of one stock row, in one short transaction (on PostgreSQL one
statement through the driver; on SQLite the whole transaction in the database's writer thread). The database
decides, so the count holds under any concurrency. Everything else (opening, closing, payments) is rare and uses the
ORM like the rest.
"""

import asyncio
import functools
import hashlib
import random
import secrets
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy import Connection, Table, func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.contracts.events import SaleClosingDue, SaleOpeningDue
from flexsupply.contracts.text import REASON_LENGTH, fit
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.kit.idempotency import IdempotencyKeyReused
from flexsupply.matching import awards, checkout, refunds, runs, services, wechatpay
from flexsupply.matching.domain.package import PackageStatus, PackageStep, sale_outcome
from flexsupply.matching.domain.refund import RefundCause
from flexsupply.matching.domain.sale import (
    LIVE,
    BuyerLimitReached,
    OrderStatus,
    OrderStep,
    Payable,
    SaleNotOpen,
    SoldOut,
    check_in_window,
    move_order,
    new_payment_reference,
    pay_by,
    reconcile,
    sale_ending,
    shard_units,
)
from flexsupply.matching.domain.statements import parse_any_statement
from flexsupply.matching.models import (
    BuyerAllowance,
    DemandPackage,
    Market,
    OutboxMessage,
    Sale,
    SaleOrder,
    SaleStock,
)
from flexsupply.matching.schemas import (
    BuyerOrderPublic,
    LeaderOrderPublic,
    MarketCreate,
    MarketPublic,
    MarketSlot,
    OrderCreate,
    OrderPlaced,
    PackagePublic,
    PaymentInstructions,
    RegionStock,
    SaleClosePublic,
    SalePublic,
    SaleState,
    StatementLinePublic,
    StatementReport,
    StockPublic,
)
from flexsupply.matching.wechatpay import TradeState

# Stock rows per region: enough that 64-256 concurrent buyers rarely wait on one row, few enough that the last
# units (spread over the rows) are gathered cheaply. Rows 1..SHARDS are sold from at random; row 0 takes back the
# units of cancelled and released orders.
#
# Lock order, which keeps every transaction free of deadlocks: an order's row, then buyers' rows (by phone), then a
# region's stock rows in ascending shard order, regions in name order. A transaction holding a stock row only ever
# waits for a higher one; an order holding one stock row waits for nothing more. A conditional UPDATE that finds
# nothing still locks the row when it had to wait for another writer (PostgreSQL re-checks the newer version under
# the lock), so a row tried and missed counts as held.
SHARDS = 8
RETURNS_SHARD = 0
SALE_CLOCK = "sale-clock"
STOCK_FRESH_SECONDS = 0.5  # how stale the polled counter may be: every phone polls it

_orders: Table = SaleOrder.__table__  # type: ignore[attr-defined]
_stock: Table = SaleStock.__table__  # type: ignore[attr-defined]
_allowance: Table = BuyerAllowance.__table__  # type: ignore[attr-defined]


# --- the terms an order is checked against ------------------------------------------------------------------------


@dataclass(frozen=True)
class SaleTerms:
    """A sale's terms as fixed at its opening; they never change afterwards, so each process keeps them."""

    package_id: UUID
    opens_at: datetime
    closes_at: datetime
    unit_price_cents: int
    currency: str
    per_buyer_limit: int
    payment_minutes: int
    caps: Mapping[str, int]
    shards: int


_terms: dict[UUID, SaleTerms] = {}


async def _sale_terms(database: Database, package_id: UUID, now: datetime) -> SaleTerms:
    """The open sale's terms; opens it when its window has come and no message has done it yet (the first buyer
    at 20:00:00 does not wait for the scheduler). SaleNotOpen outside the window, with the opening time."""
    if (terms := _terms.get(package_id)) is not None:
        return terms
    async with database.transaction() as session:
        sale = await session.get(Sale, package_id)
        if sale is None:
            package = await session.get(DemandPackage, package_id)
            if package is None:
                raise NotFound(f"no sale for package {package_id}")
            check_in_window(now, package.sale_opens_at, package.sale_closes_at)
            sale = await open_sale(session, package_id, now)
            if sale is None:
                raise SaleNotOpen(
                    f"the sale cannot open: the package is {package.status}, not planned",
                    package.sale_opens_at,
                    package.sale_closes_at,
                )
        terms = SaleTerms(
            package_id=sale.package_id,
            opens_at=sale.opens_at,
            closes_at=sale.closes_at,
            unit_price_cents=sale.unit_price_cents,
            currency=sale.currency,
            per_buyer_limit=sale.per_buyer_limit,
            payment_minutes=sale.payment_minutes,
            caps=dict(sale.caps),
            shards=sale.shards,
        )
    _terms[package_id] = terms
    return terms


# --- opening ----------------------------------------------------------------------------------------------------


async def open_sale(session: AsyncSession, package_id: UUID, now: datetime) -> Sale | None:
    """Put a planned package on sale with the plan's caps, if its window is open; the sale when it is (already)
    on sale, None when it cannot be. Safe to repeat and to race: the package row is locked."""
    package = await services.get_package(session, package_id, lock=True)
    if (existing := await session.get(Sale, package_id)) is not None:
        return existing
    if package.status is not PackageStatus.PLANNED or not package.sale_opens_at <= now < package.sale_closes_at:
        return None
    caps = (await runs.current_plan(session, package)).sale_caps
    sale = Sale(
        package_id=package.id,
        opens_at=package.sale_opens_at,
        closes_at=package.sale_closes_at,
        unit_price_cents=package.sale_price_cents,
        currency=package.currency,
        per_buyer_limit=package.per_buyer_limit,
        payment_minutes=package.payment_minutes,
        threshold_units=package.threshold_units,
        caps=caps,
        shards=SHARDS,
    )
    session.add(sale)
    await session.flush()
    session.add_all(stock_rows(package.id, caps))
    on_sale = ", ".join(f"{units} in {region}" for region, units in caps.items())
    await services.move_package(session, package, PackageStep.OPEN_SALE, SALE_CLOCK, reason=f"on sale: {on_sale}")
    outbox.publish(session, OutboxMessage, SaleClosingDue(package_id=package.id), not_before=package.sale_closes_at)
    await session.flush()
    return sale


def stock_rows(package_id: UUID, caps: Mapping[str, int]) -> list[SaleStock]:
    """A new sale's stock: per region, an empty returns row and the cap spread over the rows sold from."""
    rows = []
    for region, units in caps.items():
        rows.append(SaleStock(package_id=package_id, region=region, shard=RETURNS_SHARD, remaining=0))
        for shard, shard_stock in enumerate(shard_units(units, SHARDS), start=1):
            rows.append(SaleStock(package_id=package_id, region=region, shard=shard, remaining=shard_stock))
    return rows


# --- ordering (the hot path) -----------------------------------------------------------------------------------


def _request_hash(data: OrderCreate) -> str:
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True)
class _OrderStatements:
    """The general order path's statements, built once per dialect: building and keying a statement per call cost
    more than running it."""

    left: Any
    seen: Any
    place: Any
    count_buyer: Any
    take: Any


@functools.cache
def _order_statements(dialect: str) -> _OrderStatements:
    # Parameters are named b_*: an insert or update reserves its columns' own names.
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    package, region, key = sa.bindparam("b_package_id"), sa.bindparam("b_region"), sa.bindparam("b_idempotency_key")
    count_buyer = insert(_allowance).values(
        package_id=sa.bindparam("b_package_id", type_=_allowance.c.package_id.type),
        phone=sa.bindparam("b_phone", type_=_allowance.c.phone.type),
        units=sa.bindparam("b_units", type_=_allowance.c.units.type),
    )
    return _OrderStatements(
        left=sa.select(func.coalesce(func.sum(_stock.c.remaining), 0)).where(
            _stock.c.package_id == package, _stock.c.region == region
        ),
        seen=sa.select(_orders.c.id).where(_orders.c.package_id == package, _orders.c.idempotency_key == key),
        place=insert(_orders)
        .on_conflict_do_nothing(index_elements=["package_id", "idempotency_key"])
        .returning(_orders.c.id),
        count_buyer=count_buyer.on_conflict_do_update(
            index_elements=["package_id", "phone"],
            set_={"units": _allowance.c.units + count_buyer.excluded.units},
            where=_allowance.c.units + count_buyer.excluded.units <= sa.bindparam("b_limit"),
        ).returning(_allowance.c.units),
        take=update(_stock)
        .where(
            _stock.c.package_id == package,
            _stock.c.region == region,
            _stock.c.shard == sa.bindparam("b_shard"),
            _stock.c.selling,
            _stock.c.remaining >= sa.bindparam("b_units"),
        )
        .values(remaining=_stock.c.remaining - sa.bindparam("b_units"))
        .returning(_stock.c.remaining),
    )


async def place_order(
    database: Database, package_id: UUID, idempotency_key: str, data: OrderCreate
) -> tuple[OrderPlaced, bool]:
    """Take an order if its region has the units and the buyer's phone is within the limit; returns the order and
    whether it was created now (False: the same key's first order, replayed)."""
    now = utc_now()
    terms = await _sale_terms(database, package_id, now)
    request_hash = _request_hash(data)
    try:
        check_in_window(now, terms.opens_at, terms.closes_at)
    except SaleNotOpen:
        async with database.read_only_connection() as connection:  # a retry is answered after the close too
            if await connection.run_sync(_seen, package_id, idempotency_key):
                return await connection.run_sync(_replay, package_id, idempotency_key, request_hash), False
        raise
    if data.region not in terms.caps:
        raise InvalidField("region", f"the sale delivers to {', '.join(sorted(terms.caps))}")
    if data.quantity > terms.per_buyer_limit:
        raise BuyerLimitReached(terms.per_buyer_limit, data.quantity)
    order = _new_order(package_id, idempotency_key, request_hash, data, terms, now)
    if database.is_postgresql:
        placed = await _place_in_one_statement(database, terms, order)
        if placed is not None:
            return placed, True
    return await database.write(_place_in_transaction, order, terms)


def _place_in_transaction(connection: Connection, order: dict[str, Any], terms: SaleTerms) -> tuple[OrderPlaced, bool]:
    """The general path, in one transaction (on SQLite, in its writer thread): every case an order can meet."""
    package_id, key, region, quantity = (
        order["package_id"],
        order["idempotency_key"],
        order["region"],
        order["quantity"],
    )
    # A sold-out region is refused on one read, before anything is written: after a sale's last unit, most orders
    # of a burst are refused.
    left = _left_in_region(connection, package_id, region)
    if left < quantity:
        if _seen(connection, package_id, key):  # a retry is answered, sold out or not
            return _replay(connection, package_id, key, order["request_hash"]), False
        raise SoldOut(region, left, quantity)
    inserted = connection.execute(_order_statements(connection.dialect.name).place, order)
    if inserted.first() is None:
        return _replay(connection, package_id, key, order["request_hash"]), False
    _count_against_buyer(connection, package_id, order["phone"], quantity, terms.per_buyer_limit)
    _take_stock(connection, terms, region, quantity)
    return OrderPlaced(**order, reason=None, paid_at=None, left=max(0, left - quantity)), True


def _new_order(
    package_id: UUID, key: str, request_hash: str, data: OrderCreate, terms: SaleTerms, now: datetime
) -> dict[str, Any]:
    return {
        "id": uuid4(),
        "package_id": package_id,
        "idempotency_key": key,
        "request_hash": request_hash,
        "token": secrets.token_urlsafe(24),
        "payment_reference": new_payment_reference(),
        "region": data.region,
        "quantity": data.quantity,
        "unit_price_cents": terms.unit_price_cents,
        "amount_cents": terms.unit_price_cents * data.quantity,
        "currency": terms.currency,
        "name": data.name,
        "phone": data.phone,
        "address": data.address,
        "status": OrderStatus.PLACED,
        "placed_at": now,
        "pay_by": pay_by(now, terms.payment_minutes, terms.closes_at),
        "updated_at": now,
    }


# PostgreSQL takes an order in one statement, in the lock order: the order (nothing if its key was seen), then the
# buyer's count, then one stock row, each only if the one before it changed a row. Unless the stock row was taken,
# the transaction is rolled back and the general path below decides what to answer (a retry, the limit, the last
# units, sold out).
_ORDER_COLUMNS = (
    "id, package_id, idempotency_key, request_hash, token, payment_reference, region, quantity, unit_price_cents, "
    "amount_cents, currency, name, phone, address, status, placed_at, pay_by, updated_at"
)
_PLACE_IN_ONE_STATEMENT = f"""
WITH placed AS (
    INSERT INTO sale_order ({_ORDER_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
    ON CONFLICT (package_id, idempotency_key) DO NOTHING
    RETURNING package_id
), counted AS (
    INSERT INTO buyer_allowance AS allowance (package_id, phone, units) SELECT package_id, $13, $8 FROM placed
    ON CONFLICT (package_id, phone) DO UPDATE SET units = allowance.units + EXCLUDED.units
    WHERE allowance.units + EXCLUDED.units <= $19
    RETURNING 1
), taken AS (
    UPDATE sale_stock SET remaining = remaining - $8
    WHERE package_id = $2 AND region = $7 AND shard = $20 AND selling AND remaining >= $8
      AND EXISTS (SELECT FROM counted)
    RETURNING remaining
)
SELECT (SELECT count(*) FROM taken) AS taken,
       (SELECT sum(remaining) FROM sale_stock WHERE package_id = $2 AND region = $7) AS left_before
"""


async def _place_in_one_statement(database: Database, terms: SaleTerms, order: dict[str, Any]) -> OrderPlaced | None:
    """The order placed with PostgreSQL's driver in one statement; None when it could not be (then nothing changed)."""
    pool = await database.driver_pool()
    values = [order[column] for column in _ORDER_COLUMNS.split(", ")]
    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            row = await connection.fetchrow(
                _PLACE_IN_ONE_STATEMENT, *values, terms.per_buyer_limit, random.randint(1, terms.shards)
            )
        except BaseException:
            await transaction.rollback()
            raise
        if row is None or row["taken"] != 1:
            await transaction.rollback()
            return None
        await transaction.commit()
    left = max(0, int(row["left_before"]) - order["quantity"])
    return OrderPlaced(**order, reason=None, paid_at=None, left=left)


def _replay(connection: Connection, package_id: UUID, key: str, request_hash: str) -> OrderPlaced:
    row = connection.execute(
        sa.select(_orders).where(_orders.c.package_id == package_id, _orders.c.idempotency_key == key)
    ).one()
    if row.request_hash != request_hash:
        raise IdempotencyKeyReused(f"Idempotency-Key {key!r} was already used for another order")
    return OrderPlaced(**row._mapping, left=_left_in_region(connection, package_id, row.region))


def _seen(connection: Connection, package_id: UUID, key: str) -> bool:
    seen = _order_statements(connection.dialect.name).seen
    return connection.execute(seen, {"b_package_id": package_id, "b_idempotency_key": key}).first() is not None


def _count_against_buyer(connection: Connection, package_id: UUID, phone: str, quantity: int, limit: int) -> None:
    values = {"b_package_id": package_id, "b_phone": phone, "b_units": quantity, "b_limit": limit}
    if connection.execute(_order_statements(connection.dialect.name).count_buyer, values).first() is None:
        raise BuyerLimitReached(limit, quantity)


def _shard_of(package_id: UUID, region: str, shard: int) -> Any:
    return (_stock.c.package_id == package_id) & (_stock.c.region == region) & (_stock.c.shard == shard)


def _take_stock(connection: Connection, terms: SaleTerms, region: str, quantity: int) -> None:
    """One conditional UPDATE of a random stock row. Only when that row cannot give the units (the last units of a
    sale), they are gathered from the region's rows in ascending order; short of them, SoldOut rolls back what was
    gathered.

    On PostgreSQL the random row has just been tried by the one-statement path, in a transaction of its own; tried
    again here, a missed row could stay locked while the gathering waits for a lower one, against another order
    gathering up to it (a deadlock seen in CI's burst). SQLite has one writer at a time, so there it cannot."""
    if connection.dialect.name != "postgresql":
        shard = random.randint(1, terms.shards)
        if _take_from(connection, terms.package_id, region, shard, quantity):
            return
    query = (
        sa.select(_stock.c.shard, _stock.c.remaining)
        .where(_stock.c.package_id == terms.package_id, _stock.c.region == region)
        .order_by(_stock.c.shard)
    )
    rows = connection.execute(query).all()
    if not any(row.shard for row in rows) or not (_selling(connection, terms.package_id, region)):
        raise SaleNotOpen("the sale has closed", terms.opens_at, terms.closes_at)
    needed = quantity
    for row in rows:
        if row.remaining == 0:  # stock only falls, but for the returns row: a return after this read comes later
            continue
        # Locked before it is counted: another order may have taken from this row since the read above, leaving
        # fewer units than the read says but maybe some.
        take = min(_lock_row(connection, terms.package_id, region, row.shard), needed)
        if take > 0 and _take_from(connection, terms.package_id, region, row.shard, take):
            needed -= take
        if needed == 0:
            return
    raise SoldOut(region, _left_in_region(connection, terms.package_id, region), quantity)


def _lock_row(connection: Connection, package_id: UUID, region: str, shard: int) -> int:
    """A stock row locked until the transaction ends (on PostgreSQL; SQLite's writer holds the database), and the
    units it has now."""
    query = sa.select(_stock.c.remaining).where(_shard_of(package_id, region, shard), _stock.c.selling)
    return connection.execute(query.with_for_update()).scalar() or 0


def _take_from(connection: Connection, package_id: UUID, region: str, shard: int, units: int) -> bool:
    values = {"b_package_id": package_id, "b_region": region, "b_shard": shard, "b_units": units}
    return connection.execute(_order_statements(connection.dialect.name).take, values).first() is not None


def _selling(connection: Connection, package_id: UUID, region: str) -> bool:
    query = sa.select(_stock.c.selling).where(_shard_of(package_id, region, RETURNS_SHARD))
    return bool(connection.execute(query).scalar())


async def _stop_selling(connection: AsyncConnection, package_id: UUID) -> None:
    """The sale's stock rows stop selling, locked one by one in the lock order: an order in flight commits first
    (and is counted), and none can follow."""
    query = (
        sa.select(_stock.c.region, _stock.c.shard)
        .where(_stock.c.package_id == package_id)
        .order_by(_stock.c.region, _stock.c.shard)
    )
    for region, shard in (await connection.execute(query)).all():
        await connection.execute(update(_stock).where(_shard_of(package_id, region, shard)).values(selling=False))


async def _give_back_stock(session: AsyncSession, orders: Sequence[SaleOrder]) -> bool:
    """Orders' units off their buyers' counts and back on sale (on each region's returns row), in the lock order;
    False when the sale no longer sells (a closed sale's stock stays as it was)."""
    connection = await session.connection()
    by_phone: dict[tuple[UUID, str], int] = {}
    by_region: dict[tuple[UUID, str], int] = {}
    for order in orders:
        by_phone[order.package_id, order.phone] = by_phone.get((order.package_id, order.phone), 0) + order.quantity
        by_region[order.package_id, order.region] = by_region.get((order.package_id, order.region), 0) + order.quantity
    for (package_id, phone), units in sorted(by_phone.items()):
        await connection.execute(
            update(_allowance)
            .where(_allowance.c.package_id == package_id, _allowance.c.phone == phone)
            .values(units=_allowance.c.units - units)
        )
    selling = True
    for (package_id, region), units in sorted(by_region.items()):
        back = await connection.execute(
            update(_stock)
            .where(_shard_of(package_id, region, RETURNS_SHARD), _stock.c.selling)
            .values(remaining=_stock.c.remaining + units)
            .returning(_stock.c.remaining)
        )
        selling = selling and back.first() is not None
    return selling


def _left_in_region(connection: Connection, package_id: UUID, region: str) -> int:
    left = _order_statements(connection.dialect.name).left
    return int(connection.execute(left, {"b_package_id": package_id, "b_region": region}).scalar_one())


# --- stock, for everyone to poll ---------------------------------------------------------------------------------

_stock_seen: dict[UUID, tuple[float, StockPublic]] = {}
_stock_reads: dict[UUID, asyncio.Task[StockPublic]] = {}


async def stock(database: Database, package_id: UUID) -> StockPublic:
    """Units left per region; shared by every poller of this process for STOCK_FRESH_SECONDS. One read refreshes
    it at a time, while the others are answered the count it replaces."""
    seen = _stock_seen.get(package_id)
    if seen is not None and time.monotonic() - seen[0] < STOCK_FRESH_SECONDS:
        return seen[1]
    reading = _stock_reads.get(package_id)
    if reading is not None and not reading.done():
        return seen[1] if seen is not None else await asyncio.shield(reading)
    reading = _stock_reads[package_id] = asyncio.create_task(_read_stock(database, package_id))
    try:
        current = await asyncio.shield(reading)
    finally:
        _stock_reads.pop(package_id, None)
    _stock_seen[package_id] = (time.monotonic(), current)
    return current


async def _read_stock(database: Database, package_id: UUID) -> StockPublic:
    async with database.read_only_connection() as connection:
        session = AsyncSession(bind=connection)
        sale = await session.get(Sale, package_id)
        package = await session.get(DemandPackage, package_id)
        if package is None:
            raise NotFound(f"no sale for package {package_id}")
        return await _stock_of(session, package, sale)


async def _stock_of(session: AsyncSession, package: DemandPackage, sale: Sale | None) -> StockPublic:
    regions: list[RegionStock] = []
    if sale is None and package.status is PackageStatus.PLANNED:  # what the sale will offer when it opens
        caps = (await runs.current_plan(session, package)).sale_caps
        regions = [RegionStock(region=region, cap=cap, sold=0, left=cap) for region, cap in caps.items()]
    if sale is not None:
        query = (
            sa.select(_stock.c.region, func.sum(_stock.c.remaining))
            .where(_stock.c.package_id == package.id)
            .group_by(_stock.c.region)
        )
        left = {region: int(units) for region, units in (await (await session.connection()).execute(query)).all()}
        for region, cap in sale.caps.items():
            if sale.closed_at is not None and sale.sold is not None:
                regions.append(RegionStock(region=region, cap=cap, sold=sale.sold.get(region, 0), left=0))
            else:
                units = left.get(region, 0)
                regions.append(RegionStock(region=region, cap=cap, sold=cap - units, left=units))
    return StockPublic(
        package_id=package.id,
        state=_state(package, sale, utc_now()),
        left=sum(region.left for region in regions),
        regions=regions,
    )


def _state(package: DemandPackage, sale: Sale | None, now: datetime) -> SaleState:
    if package.status is PackageStatus.CANCELLED:
        return SaleState.CANCELLED
    if sale is None:
        return SaleState.UPCOMING
    if sale.closed_at is not None:
        return SaleState.CLOSED if sale.went_ahead else SaleState.CANCELLED
    return SaleState.ON_SALE if now < sale.closes_at else SaleState.CLOSING


async def stock_changes(
    database: Database, package_id: UUID, every_seconds: float = 1.0, for_seconds: float = 600.0
) -> AsyncIterator[str]:
    """The stock as JSON each time it changes, until the sale has ended (then once more, final). A stream lasts
    `for_seconds` at most: a browser's EventSource reconnects by itself, and no connection is held forever."""
    last, ends = None, time.monotonic() + for_seconds
    while True:
        current = await stock(database, package_id)
        if (payload := current.model_dump_json()) != last:
            last = payload
            yield payload
        if current.state in (SaleState.CLOSED, SaleState.CANCELLED) or time.monotonic() > ends:
            return
        await asyncio.sleep(every_seconds)


async def sale_view(session: AsyncSession, package_id: UUID) -> SalePublic:
    package = await session.get(DemandPackage, package_id)
    if package is None:
        raise NotFound(f"no sale for package {package_id}")
    sale = await session.get(Sale, package_id)
    current = await _stock_of(session, package, sale)
    return SalePublic(
        **current.model_dump(),
        title=package.title,
        sku=package.sku,
        spec=package.spec,
        display_name=package.display_name,
        description=package.description,
        photo_url=services.photo_url(package),
        currency=sale.currency if sale else package.currency,
        unit_price_cents=sale.unit_price_cents if sale else package.sale_price_cents,
        opens_at=package.sale_opens_at,
        closes_at=package.sale_closes_at,
        per_buyer_limit=package.per_buyer_limit,
        payment_minutes=package.payment_minutes,
        threshold_units=package.threshold_units,
        outcome=sale.outcome if sale else None,
        ending=sale_ending(
            closed_at=sale.closed_at,
            closes_at=sale.closes_at,
            went_ahead=sale.went_ahead,
            counted=sale.sold is not None,
        )
        if sale
        else None,
    )


# --- the buyer's order ---------------------------------------------------------------------------------------------


async def _order_by_token(session: AsyncSession, token: str, *, lock: bool = False) -> SaleOrder:
    query = select(SaleOrder).where(col(SaleOrder.token) == token)
    if lock:
        query = query.with_for_update()
    order = (await session.exec(query)).first()  # type: ignore[call-overload]
    if order is None:
        raise NotFound("no order with this token")
    return order


def payment_text(order: SaleOrder, payment: PaymentInstructions | None) -> str:
    amount = f"{order.amount_cents // 100}.{order.amount_cents % 100:02d} {order.currency}"
    if order.status is OrderStatus.PLACED:
        ways = []
        if payment is not None and payment.wechatpay is not None:
            ways.append("with WeChat Pay")
        if payment is not None and payment.transfer is not None:
            payee = payment.transfer
            ways.append(
                f"by transfer to {payee.payee_name} ({payee.payee_account}) with the reference "
                f"{order.payment_reference} in the transfer's memo"
            )
        how = " or ".join(ways) or f"with the reference {order.payment_reference} in the transfer's memo"
        return f"Pay {amount} {how} by {order.pay_by:%Y-%m-%d %H:%M} UTC; unpaid by then, the order is released."
    if order.status is OrderStatus.REFUND_DUE:
        return f"{amount} will be refunded: {order.reason or 'the order was cancelled'}."
    return {
        OrderStatus.PAID: f"Paid {amount}. Thank you: the order is confirmed when the sale closes.",
        OrderStatus.CONFIRMED: f"Paid {amount}. The order will be made and delivered.",
        OrderStatus.REFUNDED: f"{amount} was refunded.",
    }.get(order.status, f"Nothing to pay: the order is {order.status}.")


async def buyer_order(session: AsyncSession, token: str, *, wechatpay: bool = False) -> BuyerOrderPublic:
    """The buyer's order; `wechatpay`: the service takes WeChat Pay (wechatpay.configured), so it is offered."""
    order = await _order_by_token(session, token)
    package = await session.get(DemandPackage, order.package_id)
    assert package is not None  # an order's package is never deleted
    payment = await checkout.payment_instructions(session, order, package, wechatpay)
    return BuyerOrderPublic.model_validate(
        order,
        update={
            "package_title": package.title,
            "package_status": package.status,
            "payment_instructions": payment_text(order, payment),
            "payment": payment,
            "refunds": await refunds.order_refunds(session, order),
        },
    )


async def cancel_order(session: AsyncSession, token: str, *, wechatpay: bool = False) -> BuyerOrderPublic:
    """The buyer changes their mind before the close: the units are on sale again at once; paid, it is refunded."""
    order = await _order_by_token(session, token, lock=True)
    if order.status not in (OrderStatus.PLACED, OrderStatus.PAID):
        move_order(order.status, OrderStep.CANCEL)  # raises, naming the status
    sale = await session.get(Sale, order.package_id)
    assert sale is not None
    if not await _give_back_stock(session, [order]):
        raise SaleNotOpen("the sale has closed: orders can no longer be cancelled", sale.opens_at, sale.closes_at)
    order.status = move_order(order.status, OrderStep.CANCEL)
    order.reason, order.updated_at = "cancelled by the buyer", utc_now()
    await refunds.owe_order_refund(session, order, RefundCause.ORDER_CANCELLED)
    _stock_seen.pop(order.package_id, None)
    await session.flush()
    return await buyer_order(session, token, wechatpay=wechatpay)


async def release_unpaid(session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Orders unpaid at their deadline go back on sale for the next buyer."""
    query = (
        select(SaleOrder)
        .where(col(SaleOrder.status) == OrderStatus.PLACED, col(SaleOrder.pay_by) <= now)
        .order_by(col(SaleOrder.pay_by))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    orders = (await session.exec(query)).all()
    await _give_back_stock(session, orders)
    for order in orders:
        order.status = move_order(order.status, OrderStep.RELEASE)
        order.reason, order.updated_at = f"not paid by {order.pay_by:%Y-%m-%d %H:%M} UTC", now
        _stock_seen.pop(order.package_id, None)
    return len(orders)


# --- payments ------------------------------------------------------------------------------------------------------


async def pay_order(session: AsyncSession, reference: str, amount_cents: int, via: str) -> SaleOrder:
    """A payment confirmed for the order with this reference. Paid twice (a provider's retry) changes nothing."""
    query = select(SaleOrder).where(col(SaleOrder.payment_reference) == reference).with_for_update()
    order = (await session.exec(query)).first()
    if order is None:
        raise NotFound(f"no order has payment reference {reference}")
    if amount_cents != order.amount_cents:
        raise InvalidField("amount_cents", f"order {reference} is owed {order.amount_cents}, not {amount_cents}")
    if order.paid_at is None:
        await _pay(session, order, via)
    return order


async def pay_by_wechat(session: AsyncSession, state: TradeState) -> SaleOrder | None:
    """WeChat Pay says how an order's trade stands (a notification, or the sweeper's query): paid, the order is."""
    if state.trade_state != "SUCCESS":
        return None
    order = await pay_order(session, state.out_trade_no, state.total_cents, wechatpay.PROVIDER)
    await checkout.record_transaction(session, order.id, state.transaction_id)
    return order


async def _pay(session: AsyncSession, order: SaleOrder, via: str) -> None:
    order.status = move_order(order.status, OrderStep.PAY)
    now = utc_now()
    order.paid_at, order.paid_via, order.updated_at = now, via, now
    if order.status is OrderStatus.REFUND_DUE:
        order.reason = f"paid after the order was {order.reason or 'ended'}: refund it"
        await refunds.owe_order_refund(session, order, RefundCause.LATE_PAYMENT)


async def reconcile_statement(
    session: AsyncSession, package_id: UUID, community_id: UUID | None, statement: str
) -> StatementReport:
    """A bank's CSV statement, or a WeChat Pay or Alipay bill, against the package's orders: matched lines pay
    their orders."""
    await services.get_package(session, package_id, community_id)
    lines = parse_any_statement(statement).lines
    query = (
        select(SaleOrder)
        .where(col(SaleOrder.package_id) == package_id)
        .order_by(col(SaleOrder.id))  # the order the close locks them in
        .with_for_update()
    )
    orders = {order.payment_reference: order for order in (await session.exec(query)).all()}
    payable = {
        reference: Payable(reference, order.amount_cents, order.status if order.paid_at is None else OrderStatus.PAID)
        for reference, order in orders.items()
    }
    report = reconcile(lines, payable)
    for line, _ in report.matched:
        assert line.reference is not None
        await _pay(session, orders[line.reference], "statement")
    await session.flush()

    def public(found: Sequence[Any]) -> list[StatementLinePublic]:
        return [
            StatementLinePublic(
                line=line.line, reference=line.reference, amount_cents=line.amount_cents, note=note, text=line.text
            )
            for line, note in found
        ]

    return StatementReport(
        matched=public(report.matched),
        already_paid=public(report.already_paid),
        mismatched=public(report.mismatched),
        unmatched=public(report.unmatched),
    )


# --- the close -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardTerms:
    """How a sale that goes ahead is awarded: the solver's time and the suppliers' time to answer."""

    time_limit_seconds: float
    answer_within_hours: int


async def close_sale(
    session: AsyncSession,
    package_id: UUID,
    actor: str,
    now: datetime,
    award: AwardTerms,
    *,
    community_id: UUID | None = None,
    early_reason: str | None = None,
) -> SaleClosePublic | None:
    """Stop selling, release what is unpaid, count what is paid: the package goes ahead with those as its firm
    quantities, which go to award at once, or is cancelled and every paid order is owed a refund. None when the
    window is still open (and no reason to close early was given) or the sale is already closed."""
    package = await services.get_package(session, package_id, community_id, lock=True)
    # FOR NO KEY UPDATE: orders still insert beside it (their foreign key takes a key-share lock on this row); a
    # plain FOR UPDATE would make an order holding a stock row wait here while the close waits for that row.
    sale = await session.get(Sale, package_id, with_for_update={"key_share": True})
    if sale is None or sale.closed_at is not None or package.status is not PackageStatus.ON_SALE:
        return None
    if now < sale.closes_at and early_reason is None:
        return None
    orders = await _stop_and_lock_orders(session, package_id)
    for order in orders:
        if order.status is OrderStatus.PLACED:
            order.status = move_order(order.status, OrderStep.RELEASE)
            order.reason, order.updated_at = "not paid by the close", now
    sold = {region: 0 for region in sale.caps}
    for order in orders:
        if order.status is OrderStatus.PAID:
            sold[order.region] += order.quantity
    total = sum(sold.values())
    step = sale_outcome(total, sale.threshold_units)
    went_ahead = step is PackageStep.REACH_THRESHOLD
    outcome = fit(
        f"{total} units paid of the threshold {sale.threshold_units}: "
        + ("the group-buy goes ahead" if went_ahead else "the group-buy is cancelled and paid orders are refunded")
        + (f" (closed early: {early_reason})" if early_reason else ""),
        REASON_LENGTH,
    )
    for order in orders:
        if order.status is OrderStatus.PAID:
            order.status = move_order(order.status, OrderStep.CONFIRM if went_ahead else OrderStep.VOID)
            order.updated_at = now
            if not went_ahead:
                order.reason = outcome
                await refunds.owe_order_refund(session, order, RefundCause.PACKAGE_CANCELLED)
    sale.closed_at, sale.sold, sale.went_ahead, sale.outcome = now, sold, went_ahead, outcome
    if went_ahead:
        package.firm_quantities = {region: units for region, units in sold.items() if units > 0}
    await services.move_package(session, package, step, actor, reason=outcome)
    _stock_seen.pop(package_id, None)
    await session.flush()
    if went_ahead:
        await awards.request_award(
            session, package_id, None, actor, award.time_limit_seconds, award.answer_within_hours
        )
    return SaleClosePublic(
        package_id=package.id, package_status=package.status, went_ahead=went_ahead, sold=sold, outcome=outcome
    )


async def cancel_package(
    session: AsyncSession, package_id: UUID, community_id: UUID | None, actor: str, reason: str
) -> PackagePublic:
    """A leader or operator cancels a package; its sale's orders end with it."""
    cancelled = await services.cancel_package(session, package_id, community_id, actor, reason)
    await void_orders(session, package_id, reason)
    return cancelled


async def void_orders(session: AsyncSession, package_id: UUID, reason: str) -> None:
    """A package cancelled with orders (by its leader or an operator): no order stays live, paid ones are owed."""
    # FOR NO KEY UPDATE: orders still insert beside it (their foreign key takes a key-share lock on this row); a
    # plain FOR UPDATE would make an order holding a stock row wait here while the close waits for that row.
    sale = await session.get(Sale, package_id, with_for_update={"key_share": True})
    if sale is None:
        return
    now = utc_now()
    for order in await _stop_and_lock_orders(session, package_id):
        if order.status not in LIVE:
            continue
        order.status = move_order(order.status, OrderStep.VOID)
        order.reason, order.updated_at = fit(f"the group-buy was cancelled: {reason}", REASON_LENGTH), now
        await refunds.owe_order_refund(session, order, RefundCause.PACKAGE_CANCELLED)
    if sale.closed_at is None:
        sale.closed_at, sale.went_ahead, sale.outcome = now, False, fit(f"cancelled: {reason}", REASON_LENGTH)
    _stock_seen.pop(package_id, None)


async def _stop_and_lock_orders(session: AsyncSession, package_id: UUID) -> Sequence[SaleOrder]:
    """The sale stops selling, and every order of it is held: the orders first, then the stock rows (the lock
    order), then the orders again, with those placed while the stock rows were being locked."""
    query = (
        select(SaleOrder).where(col(SaleOrder.package_id) == package_id).order_by(col(SaleOrder.id)).with_for_update()
    )
    await session.exec(query)
    await _stop_selling(await session.connection(), package_id)
    return (await session.exec(query)).all()


async def package_orders(
    session: AsyncSession, package_id: UUID, community_id: UUID | None, limit: int, offset: int
) -> list[LeaderOrderPublic]:
    await services.get_package(session, package_id, community_id)
    query = (
        select(SaleOrder)
        .where(col(SaleOrder.package_id) == package_id)
        .order_by(col(SaleOrder.placed_at), col(SaleOrder.id))
        .limit(limit)
        .offset(offset)
    )
    return [LeaderOrderPublic.model_validate(order) for order in (await session.exec(query)).all()]


# --- owed work -------------------------------------------------------------------------------------------------------


async def sweep_sales(session: AsyncSession, overdue_before: datetime) -> int:
    """Sales whose opening or close message is overdue get it again; unpaid orders past their deadline are
    released now (not `overdue_before`: a release is not a lost message but the next buyer's chance)."""
    opening = select(DemandPackage).where(
        col(DemandPackage.status) == PackageStatus.PLANNED,
        col(DemandPackage.sale_opens_at) <= overdue_before,
        col(DemandPackage.sale_closes_at) > utc_now(),
    )
    closing = select(DemandPackage).where(
        col(DemandPackage.status) == PackageStatus.ON_SALE, col(DemandPackage.sale_closes_at) <= overdue_before
    )
    owed = 0
    for package in (await session.exec(opening)).all():
        outbox.publish(session, OutboxMessage, SaleOpeningDue(package_id=package.id))
        owed += 1
    for package in (await session.exec(closing)).all():
        outbox.publish(session, OutboxMessage, SaleClosingDue(package_id=package.id))
        owed += 1
    return owed + await release_unpaid(session, utc_now())


# --- market evenings -------------------------------------------------------------------------------------------------


async def create_market(
    session: AsyncSession, data: MarketCreate, community_id: UUID | None, actor: str
) -> MarketPublic:
    if data.ends_at <= data.starts_at:
        raise InvalidField("ends_at", "the market ends before it starts")
    if len(set(data.package_ids)) != len(data.package_ids):
        raise InvalidField("package_ids", "a package is listed twice")
    for package_id in data.package_ids:
        try:
            package = await services.get_package(session, package_id, community_id)
        except NotFound:
            raise InvalidField("package_ids", f"no package {package_id} in your community") from None
        if package.sale_opens_at < data.starts_at or package.sale_closes_at > data.ends_at:
            raise InvalidField(
                "package_ids",
                f"package {package_id} sells from {package.sale_opens_at:%H:%M} to {package.sale_closes_at:%H:%M} "
                "UTC, outside the market's hours",
            )
    market = Market(
        community_id=community_id,
        title=data.title,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        package_ids=[str(package_id) for package_id in data.package_ids],
        created_by=actor,
    )
    session.add(market)
    await session.flush()
    return await market_view(session, market.id)


def _on_now(sale: SalePublic, now: datetime) -> bool:
    """On sale, or due to open now (the first order opens it, before its scheduled message does)."""
    return sale.state is SaleState.ON_SALE or (
        sale.state is SaleState.UPCOMING and bool(sale.regions) and sale.opens_at <= now < sale.closes_at
    )


async def market_view(session: AsyncSession, market_id: UUID) -> MarketPublic:
    market = await session.get(Market, market_id)
    if market is None:
        raise NotFound(f"no market {market_id}")
    sales = sorted(
        [await sale_view(session, UUID(package_id)) for package_id in market.package_ids],
        key=lambda sale: (sale.opens_at, sale.title),
    )
    now = utc_now()
    upcoming: dict[tuple[datetime, datetime], list[SalePublic]] = {}
    for sale in sales:
        if sale.opens_at > now and sale.state is SaleState.UPCOMING:
            upcoming.setdefault((sale.opens_at, sale.closes_at), []).append(sale)
    return MarketPublic(
        id=market.id,
        title=market.title,
        starts_at=market.starts_at,
        ends_at=market.ends_at,
        now=[sale for sale in sales if _on_now(sale, now)],
        next=[MarketSlot(opens_at=opens, closes_at=closes, sales=slot) for (opens, closes), slot in upcoming.items()],
        done=[sale for sale in sales if not _on_now(sale, now) and sale.state is not SaleState.UPCOMING],
    )
