"""The reservation logic, checked by hypothesis against the real order code and database (SQLite embedded,
PostgreSQL in CI's server runs): any interleaving of placing, retrying, cancelling and releasing orders keeps
0 <= sold <= cap in every region, sold equal to the units of live orders, and each buyer's count equal to the units
of their live orders."""

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlmodel import select

from flexsupply.contracts.errors import InvalidField
from flexsupply.kit.db import Database
from flexsupply.matching import sales
from flexsupply.matching.domain.package import PackageStatus
from flexsupply.matching.domain.sale import LIVE, BuyerLimitReached, InvalidOrderMove, SoldOut
from flexsupply.matching.models import BuyerAllowance, Community, DemandPackage, Sale, SaleOrder, SaleStock
from flexsupply.matching.schemas import OrderCreate

CAPS = {"ningbo": 7, "shanghai": 3}
LIMIT = 4
PHONES = [f"+861380000000{index}" for index in range(4)]


async def on_sale_package(database: Database) -> UUID:
    """A package on sale with CAPS, its rows as opening a sale writes them."""
    now = datetime.now(UTC)
    async with database.transaction() as session:
        community = Community(name=f"property {uuid4().hex[:6]}")
        session.add(community)
        await session.flush()
        package = DemandPackage(
            community_id=community.id,
            title="Candles",
            sku="candle",
            spec="",
            quantities=CAPS,
            needed_by=now + timedelta(days=20),
            min_quality=0,
            backups=0,
            currency="CNY",
            sale_opens_at=now - timedelta(minutes=1),
            sale_closes_at=now + timedelta(hours=1),
            threshold_units=1,
            cap_units=sum(CAPS.values()),
            per_buyer_limit=LIMIT,
            sale_price_cents=1000,
            status=PackageStatus.ON_SALE,
        )
        session.add(package)
        await session.flush()
        session.add(
            Sale(
                package_id=package.id,
                opens_at=package.sale_opens_at,
                closes_at=package.sale_closes_at,
                unit_price_cents=1000,
                currency="CNY",
                per_buyer_limit=LIMIT,
                payment_minutes=30,
                threshold_units=1,
                caps=CAPS,
                shards=sales.SHARDS,
            )
        )
        await session.flush()
        session.add_all(sales.stock_rows(package.id, CAPS))
    return package.id


class Reservations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.database = Database(DATABASE_URL[0])
        self.package_id = self.run(on_sale_package(self.database))
        self.placed: dict[str, tuple[OrderCreate, str]] = {}  # key -> (request, order id), in order of placing
        self.attempts = 0

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        self.run(self.database.dispose())
        self.loop.close()

    @rule(phone=st.sampled_from(PHONES), region=st.sampled_from(sorted(CAPS)), quantity=st.integers(1, 5))
    def place(self, phone: str, region: str, quantity: int) -> None:
        request = OrderCreate(quantity=quantity, region=region, name="Li", phone=phone, address="No. 8 Road, Ningbo")
        key = f"{self.package_id}-{len(self.placed)}-{self.attempts}"  # the same steps make the same keys
        self.attempts += 1
        try:
            order, created = self.run(sales.place_order(self.database, self.package_id, key, request))
        except (SoldOut, BuyerLimitReached):
            return
        assert created
        self.placed[key] = (request, str(order.id))

    @precondition(lambda self: self.placed)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(list(self.placed)))
        request, order_id = self.placed[key]
        order, created = self.run(sales.place_order(self.database, self.package_id, key, request))
        assert not created and str(order.id) == order_id

    @precondition(lambda self: self.placed)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(list(self.placed)))
        token = self.run(self.token_of(self.placed[key][1]))
        with contextlib.suppress(InvalidOrderMove):  # cancelled or released already
            self.run(self.in_transaction(sales.cancel_order, token))

    @precondition(lambda self: self.placed)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        """An order's payment deadline passes: the sweeper releases it (and any other overdue one)."""
        key = data.draw(st.sampled_from(list(self.placed)))
        self.run(self.overdue(self.placed[key][1]))
        self.run(self.in_transaction(sales.release_unpaid, datetime.now(UTC)))

    @rule(quantity=st.integers(-1, 0))
    def refused_input(self, quantity: int) -> None:
        with pytest.raises((InvalidField, ValueError)):
            OrderCreate(quantity=quantity, region="ningbo", name="Li", phone=PHONES[0], address="No. 8 Road")

    async def in_transaction(self, use_case: Any, *args: Any) -> Any:
        async with self.database.transaction() as session:
            return await use_case(session, *args)

    async def token_of(self, order_id: str) -> str:
        async with self.database.transaction() as session:
            order = await session.get(SaleOrder, UUID(order_id))
            assert order is not None
            return order.token

    async def overdue(self, order_id: str) -> None:
        async with self.database.transaction() as session:
            order = await session.get(SaleOrder, UUID(order_id))
            assert order is not None
            order.pay_by = datetime.now(UTC) - timedelta(seconds=1)

    async def counts(self) -> tuple[dict[str, int], Counter[str], Counter[str], dict[str, int]]:
        async with self.database.transaction() as session:
            stock = (await session.exec(select(SaleStock).where(SaleStock.package_id == self.package_id))).all()
            orders = (await session.exec(select(SaleOrder).where(SaleOrder.package_id == self.package_id))).all()
            query = select(BuyerAllowance).where(BuyerAllowance.package_id == self.package_id)
            counted = {row.phone: row.units for row in (await session.exec(query)).all()}
        left: Counter[str] = Counter()
        for row in stock:
            left[row.region] += row.remaining
        live_by_region: Counter[str] = Counter()
        live_by_phone: Counter[str] = Counter()
        for order in orders:
            if order.status in LIVE:
                live_by_region[order.region] += order.quantity
                live_by_phone[order.phone] += order.quantity
        return dict(left), live_by_region, live_by_phone, counted

    @invariant()
    def sold_is_the_live_orders_and_within_the_cap(self) -> None:
        left, live_by_region, live_by_phone, counted = self.run(self.counts())
        for region, cap in CAPS.items():
            sold = cap - left[region]
            assert 0 <= sold <= cap
            assert sold == live_by_region[region]
        for phone in PHONES:
            assert counted.get(phone, 0) == live_by_phone[phone] <= LIMIT


DATABASE_URL: list[str] = []


def test_any_interleaving_keeps_the_count(database_urls: dict[str, str]):
    DATABASE_URL[:] = [database_urls["matching"]]
    run = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )(Reservations)
    run.TestCase().runTest()
