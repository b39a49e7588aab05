"""A package on sale through the public API, as a leader and a supplier get there: regions, a supplier with a
standing offer, a community and its leader; then per sale a package, a sourcing round, the supplier's quote and a
match run, until the package is planned with its sale opening shortly after.

The clients are httpx.AsyncClients without credentials: over the network (bench.flash_sale.run) or through the
ASGI transport (bench.flash_sale.parts). `catalogue` serves the suppliers service's paths, `matching` the
matching service's; embedded, both are the same app.
"""

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

REGIONS = ("ningbo", "shanghai", "chengdu")
SKU = "flash-bread-box"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def at(moment: datetime) -> str:
    return moment.isoformat()


def check(response: httpx.Response, *expected: int) -> Any:
    if response.status_code not in expected:
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def split(total: int) -> dict[str, int]:
    """`total` units over the three regions, the remainder to the first."""
    share = total // len(REGIONS)
    caps: dict[str, int] = dict.fromkeys(REGIONS, share)
    caps[REGIONS[0]] += total - share * len(REGIONS)
    return caps


def offer_terms(**changes: Any) -> dict[str, Any]:
    return {
        "sku": SKU,
        "moq": 1,
        "capacity": 1_000_000,
        "lead_time_days": 3,
        "quality": 92,
        "fixed_cents": 20_000,
        "reserve_cents": 100,
        "price_tiers": [{"min_quantity": 0, "unit_cents": 3500}],
        "shipping_cents": dict.fromkeys(REGIONS, 300),
    } | changes


@dataclass
class Seller:
    """What every sale of a run shares: the supplier (with its key and standing offer) and the leader's key."""

    supplier_key: str
    leader_key: str


@dataclass
class Sale:
    package_id: str
    opens_at: datetime
    caps: dict[str, int]
    setup_seconds: float


async def prepare(catalogue: httpx.AsyncClient, matching: httpx.AsyncClient, token: str) -> Seller:
    operator = bearer(token)
    for region in REGIONS:
        check(await catalogue.put(f"/api/v1/regions/{region}", json={"name": region.title()}, headers=operator), 200)
    supplier = check(
        await catalogue.post(
            "/api/v1/suppliers",
            json={
                "name": "Flash Bakery",
                "contact_name": "Li Wei",
                "contact_email": "li@example.com",
                "regions": list(REGIONS),
            },
            headers=operator,
        ),
        201,
    )
    key = supplier["api_key"]["api_key"]
    check(await catalogue.post("/api/v1/offers", json=offer_terms(), headers=bearer(key)), 201)
    community = check(
        await matching.post(
            "/api/v1/communities",
            json={"name": "Flash bakers", "leader": {"name": "Zhang Min", "contact": "wechat:zhangmin"}},
            headers=operator,
        ),
        201,
    )
    return Seller(supplier_key=key, leader_key=community["leader_key"]["api_key"])


async def sale_package(
    catalogue: httpx.AsyncClient, matching: httpx.AsyncClient, seller: Seller, caps: dict[str, int], lead_seconds: float
) -> Sale:
    """A package planned through sourcing, its sale opening `lead_seconds` after its creation."""
    began = time.monotonic()
    now = datetime.now(UTC)
    opens_at = now + timedelta(seconds=lead_seconds)
    leader, supplier = bearer(seller.leader_key), bearer(seller.supplier_key)
    package = check(
        await matching.post(
            "/api/v1/packages",
            json={
                "title": "Sourdough gift box, flash sale",
                "sku": SKU,
                "spec": "Two 500 g loaves, boxed",
                "quantities": caps,
                "needed_by": at(now + timedelta(days=20)),
                "min_quality": 80,
                "backups": 0,
                "sale_opens_at": at(opens_at),
                "sale_closes_at": at(opens_at + timedelta(hours=2)),
                "threshold_units": 1,
                "cap_units": sum(caps.values()),
                "per_buyer_limit": 5,
                "sale_price_cents": 5900,
            },
            headers=leader,
        ),
        201,
    )
    round_ = check(
        await matching.post(
            "/api/v1/sourcing-rounds",
            json={"package_ids": [package["id"]], "reply_by": at(now + timedelta(days=1))},
            headers=leader,
        ),
        201,
    )
    rfq = None
    deadline = time.monotonic() + 60
    while rfq is None and time.monotonic() < deadline:
        inbox = check(await catalogue.get("/api/v1/rfqs", headers=supplier), 200)
        rfq = next((r for r in inbox if r["round_id"] == round_["id"]), None)
        if rfq is None:
            await asyncio.sleep(0.1)
    if rfq is None:
        raise SystemExit(f"no RFQ for round {round_['id']} within 60 s")
    quote = offer_terms(price_tiers=[{"min_quantity": 0, "unit_cents": 3300}], valid_until=at(now + timedelta(days=7)))
    check(await catalogue.post(f"/api/v1/rfqs/{rfq['id']}/quotes", json=quote, headers=supplier), 201)
    run = check(
        await matching.post(
            f"/api/v1/sourcing-rounds/{round_['id']}/match-runs", json={"time_limit_seconds": 5}, headers=leader
        ),
        201,
        202,
    )
    while run["status"] in {"queued", "running"}:
        await asyncio.sleep(0.1)
        run = check(await matching.get(f"/api/v1/match-runs/{run['id']}", headers=leader), 200)
    if run["status"] != "planned":
        raise SystemExit(f"match run {run['id']}: {run['status']}: {json.dumps(run)[:2000]}")
    plan = check(await matching.get(f"/api/v1/packages/{package['id']}/plan", headers=leader), 200)
    status = check(await matching.get(f"/api/v1/packages/{package['id']}", headers=leader), 200)["status"]
    if plan["sale_caps"] != caps:
        raise SystemExit(f"the plan's sale caps {plan['sale_caps']} are not the package's {caps}")
    setup = time.monotonic() - began
    log(f"package {package['id']} {status} in {setup:.1f} s; sale caps {plan['sale_caps']}")
    return Sale(package["id"], opens_at, plan["sale_caps"], setup)


def seconds_to_opening(sale: Sale) -> float:
    left = (sale.opens_at - datetime.now(UTC)).total_seconds()
    if left < 0:
        log(f"warning: the sale opened {-left:.1f} s before the burst (raise --lead): not a clean 20:00:00 burst")
        return 0.0
    log(f"waiting {left:.1f} s for the opening at {sale.opens_at:%H:%M:%S.%f}"[:-3])
    return left + 0.01
