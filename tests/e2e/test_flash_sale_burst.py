"""The 20:00 burst over real HTTP, against the stack as it is deployed: many buyers at the opening (more units
asked than the cap), retries of the same order, cancellations freeing units for later buyers. Afterwards the sale
has sold its cap exactly, each retry counted once, every accepted order is stored with its address and every
refusal was a sold-out answer. On PostgreSQL with compose.yaml's processes, and on `flexsupply up` (SQLite)."""

import asyncio
import os
import random
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.integration.test_match_runs import finished_run
from tests.support.sales import order, planned_sale
from tests.support.stack import Stack, compose_stack, embedded_stack

POSTGRES_URL = os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL")
BROKER_URL = os.environ.get("FLEXSUPPLY_BROKER_URL", "")
SERVERS_GIVEN = bool(POSTGRES_URL) and BROKER_URL.startswith(("amqp", "redis"))
CAPS = {"ningbo": 40, "shanghai": 20}
BUYERS = 150
CLIENTS = 64


async def burst(stack: Stack) -> None:
    rng = random.Random(20)
    async with AsyncExitStack() as clients:
        operator = await clients.enter_async_context(stack.client())

        def as_key(key: str) -> httpx.AsyncClient:
            client = stack.client(key)
            clients.push_async_callback(client.aclose)
            return client

        setup = await planned_sale(
            operator, as_key, finished_run, opens_in_seconds=4, quantities=CAPS, per_buyer_limit=3
        )
        limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
        async with stack.client("", limits=limits) as buyers:
            await asyncio.sleep(max(0.0, (setup.opens_at - datetime.now(UTC)).total_seconds()))
            accepted: dict[str, dict[str, Any]] = {}  # order id -> the order
            refusals: list[httpx.Response] = []
            replays = 0
            cancelled: set[str] = set()
            gate = asyncio.Semaphore(CLIENTS)

            async def buyer(index: int) -> None:
                nonlocal replays
                body = {"phone": f"1370000{index:04d}", "quantity": rng.randint(1, 3)}
                body["region"] = rng.choice(sorted(CAPS))
                key = uuid4().hex
                async with gate:
                    first = await order(buyers, setup.id, key, **body)
                    if first.status_code != 201:
                        refusals.append(first)
                        return
                    accepted[first.json()["id"]] = first.json()
                    if rng.random() < 0.3:  # the answer was lost: the phone sends the same order again
                        again = await order(buyers, setup.id, key, **body)
                        assert again.status_code == 200 and again.json()["id"] == first.json()["id"], again.text
                        replays += 1
                    if rng.random() < 0.15:  # a change of mind: the units are for someone else
                        token = first.json()["token"]
                        gone = await buyers.post(f"/api/v1/orders/{token}/cancel")
                        assert gone.status_code == 200, gone.text
                        cancelled.add(first.json()["id"])

            await asyncio.gather(*(buyer(index) for index in range(BUYERS)))
            # Late buyers take what the cancellations freed, one unit at a time, until each region is sold out.
            for region in CAPS:
                while (late := await order(buyers, setup.id, region=region)).status_code == 201:
                    accepted[late.json()["id"]] = late.json()
                refusals.append(late)

        assert replays > 0 and cancelled
        assert all(r.status_code == 409 and r.json()["type"].endswith("/sold-out") for r in refusals), [
            r.text for r in refusals if r.status_code != 409
        ]
        stored: list[dict[str, Any]] = []
        while page := (
            await setup.leader.get(f"/api/v1/packages/{setup.id}/orders?limit=100&offset={len(stored)}")
        ).json():
            stored.extend(page)
        assert {o["id"] for o in stored} == set(accepted), "an accepted order is missing, or one was stored twice"
        assert all(o["address"] and o["phone"] and o["name"] for o in stored)
        live = [o for o in stored if o["status"] == "placed"]
        assert {o["id"] for o in stored if o["status"] == "cancelled"} == cancelled
        sold = Counter()
        for placed in live:
            sold[placed["region"]] += placed["quantity"]
        assert dict(sold) == CAPS, "the sale sold more or less than its cap"
        stock = (await buyers_stock(stack, setup.id))["regions"]
        assert {r["region"]: (r["sold"], r["left"]) for r in stock} == {r: (c, 0) for r, c in CAPS.items()}


async def buyers_stock(stack: Stack, package_id: str) -> dict[str, Any]:
    await asyncio.sleep(0.6)  # the polled counter may be half a second old
    async with stack.client("") as anyone:
        return (await anyone.get(f"/api/v1/sales/{package_id}/stock")).json()


def test_the_burst_sells_the_cap_exactly_on_the_embedded_stack(tmp_path: Path):
    with embedded_stack(tmp_path) as stack:
        asyncio.run(burst(stack))


@pytest.mark.distributed
@pytest.mark.skipif(
    not SERVERS_GIVEN and not os.environ.get("FLEXSUPPLY_REQUIRE_SERVERS"),
    reason="needs FLEXSUPPLY_TEST_POSTGRES_URL and an amqp:// or redis:// FLEXSUPPLY_BROKER_URL",
)
def test_the_burst_sells_the_cap_exactly_on_postgresql_with_the_compose_processes(tmp_path: Path):
    with compose_stack(tmp_path, POSTGRES_URL, BROKER_URL) as stack:
        asyncio.run(burst(stack))
