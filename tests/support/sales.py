"""A package on sale through the public API alone: a supplier with an offer, a leader's package, its sourcing
round and the run that plans it; the sale window opening when the test wants it."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

from tests.support.catalogue import create_supplier, offer_body
from tests.support.matching import create_package, register_community, start_round

KeyClient = Callable[[str], httpx.AsyncClient]


@dataclass
class SaleSetup:
    leader: httpx.AsyncClient
    package: dict[str, Any]
    opens_at: datetime

    @property
    def id(self) -> str:
        return self.package["id"]


def _at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def planned_sale(
    operator: httpx.AsyncClient,
    as_key: KeyClient,
    finished_run: Callable[[httpx.AsyncClient, str], Awaitable[dict[str, Any]]],
    *,
    opens_in_seconds: float = 2,
    open_for_seconds: float = 3600,
    quantities: dict[str, int] | None = None,
    leader: httpx.AsyncClient | None = None,
    **package: Any,
) -> SaleSetup:
    """A planned package whose sale opens in `opens_in_seconds` (its caps: the plan's units per region, at most
    the package's `cap_units`), of `leader`'s community (a new community's by default)."""
    sku = f"sale-{uuid4().hex[:8]}"
    quantities = quantities or {"ningbo": 10, "shanghai": 10}
    created = await create_supplier(operator, regions=sorted(quantities), capacity=100_000)
    supplier = as_key(created["api_key"]["api_key"])
    shipping = {region: 100 for region in quantities}
    offer = await supplier.post(
        "/api/v1/offers",
        json=offer_body(sku=sku, moq=1, capacity=max(600, sum(quantities.values())), shipping_cents=shipping),
    )
    assert offer.status_code == 201, offer.text
    if leader is None:
        _, key = await register_community(operator)
        leader = as_key(key)
    # The window is set after planning would be too late: a draft's terms are fixed once sourcing starts.
    opens_at = datetime.now(UTC) + timedelta(seconds=opens_in_seconds)
    terms = {
        "sku": sku,
        "quantities": quantities,
        "backups": 0,
        "threshold_units": 1,
        "cap_units": sum(quantities.values()),
        "sale_opens_at": opens_at.isoformat(),
        "sale_closes_at": (opens_at + timedelta(seconds=open_for_seconds)).isoformat(),
    }
    draft = await create_package(leader, **(terms | package))
    sourcing = await start_round(leader, draft["id"])
    run = await leader.post(f"/api/v1/sourcing-rounds/{sourcing['id']}/match-runs", json={"time_limit_seconds": 5})
    assert run.status_code == 202, run.text
    finished = await finished_run(leader, run.json()["id"])
    assert finished["status"] == "planned", finished
    return SaleSetup(leader, draft, opens_at)


def order_body(**changes: Any) -> dict[str, Any]:
    body = {
        "quantity": 1,
        "region": "ningbo",
        "name": "Li Wei",
        "phone": f"138{uuid4().int % 10**8:08d}",
        "address": "No. 8 Zhongshan Road, Haishu District, Ningbo",
    }
    return body | changes


async def order(client: httpx.AsyncClient, package_id: str, key: str | None = None, **changes: Any) -> httpx.Response:
    headers = {"Idempotency-Key": key or uuid4().hex}
    return await client.post(f"/api/v1/sales/{package_id}/orders", json=order_body(**changes), headers=headers)
