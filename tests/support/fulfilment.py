"""A package in production through the public APIs alone: two suppliers' offers (a maker, and a backup holding the
package's reserve), a leader's package planned on them, its firm quantities set (sold outside flexsupply: no sale),
awarded and accepted; then the maker, with its own key, accepts its production order, starts it and reports a
batch. Works against any running stack (an in-process app or `flexsupply up`)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx

from tests.support.catalogue import create_supplier, offer_body
from tests.support.matching import create_package, register_community, request_award, set_firm_quantities, start_round
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]
WAIT_SECONDS = 60.0


@dataclass
class InProduction:
    package_id: str
    sku: str
    maker_id: str
    backup_id: str
    maker: httpx.AsyncClient  # the maker's own key
    production_order: dict[str, Any]  # the maker's, in production
    batch: dict[str, Any]  # its first batch, ready


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def _finished_run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        run = ok(await client.get(f"/api/v1/match-runs/{run_id}"))
        return run if run["status"] in {"planned", "infeasible", "failed"} else None

    return await eventually(finished, WAIT_SECONDS, what=f"match run {run_id} finishes")


async def awarded_package(
    operator: httpx.AsyncClient, as_key: KeyClient, *, units: int = 20, region: str = "ningbo"
) -> tuple[str, str, dict[str, httpx.AsyncClient], dict[str, str]]:
    """A package awarded to a maker with a backup's reserve, every award accepted; (package id, sku, clients by
    name, supplier ids by name)."""
    sku = f"board-{uuid4().hex[:8]}"
    offers = {
        "maker": {"price_tiers": [{"min_quantity": 0, "unit_cents": 3000}]},
        "backup": {"price_tiers": [{"min_quantity": 0, "unit_cents": 9000}], "reserve_cents": 50},
    }
    clients, ids = {}, {}
    for name, terms in offers.items():
        created = await create_supplier(operator, regions=[region])
        client = as_key(created["api_key"]["api_key"])
        body = offer_body(sku=sku, moq=1, capacity=10 * units, shipping_cents={region: 300}, **terms)
        ok(await client.post("/api/v1/offers", json=body), 201)
        clients[name], ids[name] = client, created["supplier"]["id"]
    _, key = await register_community(operator)
    leader = as_key(key)
    package = await create_package(
        leader, sku=sku, quantities={region: units}, backups=1, threshold_units=1, cap_units=units
    )
    sourcing = await start_round(leader, package["id"])
    run = ok(
        await leader.post(f"/api/v1/sourcing-rounds/{sourcing['id']}/match-runs", json={"time_limit_seconds": 5}),
        202,
    )
    assert (await _finished_run(leader, run["id"]))["status"] == "planned"
    ok(await set_firm_quantities(leader, package["id"], **{region: units}))
    award_run = await _finished_run(leader, (await request_award(leader, package["id"]))["id"])
    assert award_run["status"] == "planned", award_run
    awards = ok(await leader.get(f"/api/v1/packages/{package['id']}/awards"))["awards"]
    for award in awards:
        if award["status"] == "offered":
            name = next(name for name, supplier_id in ids.items() if supplier_id == award["supplier_id"])
            ok(await clients[name].post(f"/api/v1/awards/{award['id']}/accept"))
    assert ok(await leader.get(f"/api/v1/packages/{package['id']}"))["status"] == "awarded"
    return package["id"], sku, clients, ids


async def production_orders(client: httpx.AsyncClient, package_id: str) -> list[dict[str, Any]]:
    """The caller's production orders of the package (all of them for an operator)."""
    return ok(await client.get("/api/v1/production-orders", params={"package_id": package_id, "limit": 100}))


async def in_production(
    operator: httpx.AsyncClient, as_key: KeyClient, *, units: int = 20, batch_units: int = 8
) -> InProduction:
    """An awarded package whose maker has started its production order and reported one passed batch."""
    package_id, sku, clients, ids = await awarded_package(operator, as_key, units=units)
    maker = clients["maker"]

    async def issued() -> dict[str, Any] | None:
        return next(iter(await production_orders(maker, package_id)), None)

    order = await eventually(issued, WAIT_SECONDS, what="the maker's production order is issued")
    for step in ("accept", "start"):
        order = ok(await maker.post(f"/api/v1/production-orders/{order['id']}/moves", json={"step": step}))
    batch = ok(
        await maker.post(
            f"/api/v1/production-orders/{order['id']}/batches",
            json={"quantity": batch_units, "lot_number": f"LOT-{uuid4().hex[:6].upper()}", "quality_passed": True},
            headers={"Idempotency-Key": uuid4().hex},
        ),
        201,
    )
    return InProduction(
        package_id=package_id,
        sku=sku,
        maker_id=ids["maker"],
        backup_id=ids["backup"],
        maker=maker,
        production_order=order,
        batch=batch,
    )
