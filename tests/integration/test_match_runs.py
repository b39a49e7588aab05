"""Matching runs as jobs: a round matched at the leader's request or its deadline, the plan stored with the exact
problem it solved, federated rounds split back per package, and a run whose worker died solved again, once."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlmodel import col, select

from flexsupply.allocation import Plan, Problem, cost_cents, violations
from flexsupply.kit.db import Database
from tests.support.catalogue import create_supplier, offer_body, quote_body
from tests.support.matching import create_package, register_community, start_round
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


async def supplier_with_offer(operator: httpx.AsyncClient, as_key: KeyClient, **terms: Any) -> dict[str, Any]:
    created = await create_supplier(operator)
    client = as_key(created["api_key"]["api_key"])
    response = await client.post("/api/v1/offers", json=offer_body(**terms))
    assert response.status_code == 201, response.text
    return created | {"client": client, "offer": response.json()}


async def finished_run(client: httpx.AsyncClient, run_id: str, timeout_seconds: float = 60) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        run = (await client.get(f"/api/v1/match-runs/{run_id}")).json()
        return run if run["status"] in {"planned", "infeasible", "failed"} else None

    return await eventually(finished, timeout_seconds)


async def request_run(client: httpx.AsyncClient, round_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/sourcing-rounds/{round_id}/match-runs", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def checked(run: dict[str, Any], problem: dict[str, Any]) -> Plan:
    """The stored plan passes the contract's checker on the stored problem, and costs what it says."""
    plan, solved = Plan.model_validate(run["plan"]), Problem.model_validate(problem)
    assert violations(solved, plan) == []
    assert cost_cents(solved, plan) == plan.total_cents == run["total_cents"]
    return plan


async def test_a_round_is_planned_from_quotes_and_standing_offers(operator: httpx.AsyncClient, as_key: KeyClient):
    sku = f"loaf-{uuid4().hex[:6]}"
    cheap = await supplier_with_offer(operator, as_key, sku=sku, capacity=400, moq=50)
    dear = await supplier_with_offer(
        operator,
        as_key,
        sku=sku,
        capacity=400,
        moq=50,
        price_tiers=[{"min_quantity": 0, "unit_cents": 4500}],
    )
    _, key = await register_community(operator)
    leader = as_key(key)
    package = await create_package(leader, sku=sku, quantities={"ningbo": 100, "shanghai": 60}, backups=1)
    sourcing = await start_round(leader, package["id"])

    # The dearer supplier quotes below its standing offer: the quote replaces that offer in this round.
    async def rfq_of(supplier: dict[str, Any]) -> str | None:
        rfqs = (await supplier["client"].get("/api/v1/rfqs")).json()
        return next((rfq["id"] for rfq in rfqs if rfq["round_id"] == sourcing["id"]), None)

    rfq_id = await eventually(lambda: rfq_of(dear))
    quote = quote_body(sku=sku, capacity=400, moq=50, price_tiers=[{"min_quantity": 0, "unit_cents": 2000}])
    assert (await dear["client"].post(f"/api/v1/rfqs/{rfq_id}/quotes", json=quote)).status_code == 201

    queued = await request_run(leader, sourcing["id"], time_limit_seconds=5)
    assert queued["status"] == "queued" and queued["kind"] == "sourcing"
    run = await finished_run(leader, queued["id"])
    assert run["status"] == "planned", run
    problem = (await leader.get(f"/api/v1/match-runs/{run['id']}/problem")).json()
    plan = checked(run, problem)

    # The quote won the allocation; the standing offer it superseded was left out, with the reason.
    quote_ids = {offer["id"] for offer in problem["offers"] if offer["supplier"] == dear["supplier"]["id"]}
    assert dear["offer"]["id"] not in quote_ids and quote_ids
    assert {allocation.offer for allocation in plan.allocations} <= quote_ids
    assert any(dear["offer"]["id"] in sentence or "supersed" in sentence for sentence in run["left_out"])
    # One backup held on the other supplier.
    assert {reserve.offer for reserve in plan.reserves} == {cheap["offer"]["id"]}

    (share,) = run["packages"]
    assert share["units"] == 160 and share["sale_caps"] == {"ningbo": 100, "shanghai": 60}
    assert sum(share["cost"].values()) == run["total_cents"]
    assert (await leader.get(f"/api/v1/packages/{package['id']}")).json()["status"] == "planned"
    assert (await leader.get(f"/api/v1/packages/{package['id']}/plan")).json()["run_id"] == run["id"]


async def test_a_federated_round_shows_what_sourcing_together_saved(operator: httpx.AsyncClient, as_key: KeyClient):
    sku = f"candle-{uuid4().hex[:6]}"
    # One offer whose set-up fee and volume tier reward pooling the two groups' orders.
    await supplier_with_offer(
        operator,
        as_key,
        sku=sku,
        capacity=1000,
        moq=100,
        fixed_cents=50_000,
        price_tiers=[{"min_quantity": 0, "unit_cents": 3000}, {"min_quantity": 150, "unit_cents": 2500}],
    )
    packages = []
    for _ in range(2):
        community, _ = await register_community(operator)
        packages.append(
            await create_package(operator, community_id=community["id"], sku=sku, quantities={"ningbo": 100}, backups=0)
        )
    sourcing = await start_round(operator, *(package["id"] for package in packages))
    run = await finished_run(operator, (await request_run(operator, sourcing["id"], time_limit_seconds=5))["id"])

    assert run["status"] == "planned", run
    checked(run, (await operator.get(f"/api/v1/match-runs/{run['id']}/problem")).json())
    assert run["saving_cents"] is not None and run["saving_cents"] > 0
    assert run["standalone_total_cents"] - run["total_cents"] == run["saving_cents"]
    shares = {share["package_id"]: share for share in run["packages"]}
    assert set(shares) == {package["id"] for package in packages}
    assert sum(sum(share["cost"].values()) for share in shares.values()) == run["total_cents"]
    # Both groups pay the pooled tier's price.
    assert all(share["cost"]["goods_cents"] == 100 * 2500 for share in shares.values())


async def test_a_round_without_a_plan_stays_in_sourcing_with_the_reason(operator: httpx.AsyncClient, as_key: KeyClient):
    sku = f"jam-{uuid4().hex[:6]}"
    await supplier_with_offer(operator, as_key, sku=sku, capacity=100, moq=50)
    _, key = await register_community(operator)
    leader = as_key(key)
    package = await create_package(leader, sku=sku, quantities={"ningbo": 300}, backups=0, cap_units=400)
    sourcing = await start_round(leader, package["id"])
    run = await finished_run(leader, (await request_run(leader, sourcing["id"], time_limit_seconds=5))["id"])

    assert run["status"] == "infeasible"
    assert run["explanation"] and any(package["id"] in line or "300" in line for line in run["explanation"])
    assert (await leader.get(f"/api/v1/packages/{package['id']}")).json()["status"] == "sourcing"
    assert (await leader.get(f"/api/v1/packages/{package['id']}/plan")).status_code == 404


async def test_another_leader_cannot_see_or_run_a_round(operator: httpx.AsyncClient, as_key: KeyClient):
    _, key = await register_community(operator)
    _, other_key = await register_community(operator)
    package = await create_package(as_key(key), sku=f"tea-{uuid4().hex[:6]}")
    sourcing = await start_round(as_key(key), package["id"])
    other = as_key(other_key)
    response = await other.post(f"/api/v1/sourcing-rounds/{sourcing['id']}/match-runs", json={})
    assert response.status_code == 404
    run = await request_run(as_key(key), sourcing["id"], time_limit_seconds=1)
    assert (await other.get(f"/api/v1/match-runs/{run['id']}")).status_code == 404
    assert (await other.get(f"/api/v1/match-runs/{run['id']}/problem")).status_code == 404


async def test_a_run_whose_worker_died_is_solved_again_once(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    """As a worker killed mid-solve leaves it: running, one attempt made, its lease expired, its message gone."""
    from flexsupply.matching.models import MatchRun, PackageTransition, RunKind, RunStatus

    sku = f"soap-{uuid4().hex[:6]}"
    await supplier_with_offer(operator, as_key, sku=sku, capacity=400, moq=50)
    _, key = await register_community(operator)
    leader = as_key(key)
    package = await create_package(leader, sku=sku, quantities={"ningbo": 80}, backups=0)
    sourcing = await start_round(leader, package["id"])

    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            run = MatchRun(
                round_id=UUID(sourcing["id"]),
                kind=RunKind.SOURCING,
                status=RunStatus.RUNNING,
                requested_by="test",
                time_limit_seconds=2,
                package_ids=[package["id"]],
                attempts=1,
                started_at=datetime.now(UTC) - timedelta(minutes=10),
                lease_until=datetime.now(UTC) - timedelta(minutes=1),
            )
            session.add(run)
        finished = await finished_run(leader, str(run.id))
        assert finished["status"] == "planned" and finished["attempts"] == 2
        async with database.transaction() as session:
            moves = (
                await session.exec(
                    select(PackageTransition).where(
                        PackageTransition.package_id == UUID(package["id"]),
                        col(PackageTransition.to_status) == "planned",
                    )
                )
            ).all()
        assert len(moves) == 1  # planned once, however many times the run was sent again
    finally:
        await database.dispose()
