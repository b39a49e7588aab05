"""The sourcing loop as a new user plays it, through the public API alone, with a real local webhook receiver:
register a leader and suppliers, draft a package sized by the group's sign-up, source it (and a federated round),
see the RFQs arrive signed, quote with each supplier's key, get a plan the contract's checker accepts, set firm
quantities, award, watch a decline lead to a new plan without that supplier, and see fulfilment receive the award.

CI runs it embedded (SQLite, in-process broker) and on PostgreSQL with RabbitMQ and with Redis.
"""

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import httpx
from standardwebhooks.webhooks import Webhook

from flexsupply.allocation import Plan, Problem, cost_cents, violations
from tests.support.catalogue import create_supplier, offer_body, quote_body
from tests.support.fake_supplier import FakeSupplier, fake_supplier_server
from tests.support.matching import create_package, register_community, start_round
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


def events_for(fake: FakeSupplier, secret: str, event_type: str) -> list[dict[str, Any]]:
    """The webhooks of one type the receiver got for a supplier, each verified with that supplier's secret."""
    found = []
    for request in list(fake.received):
        try:
            payload = Webhook(secret).verify(request.body, request.headers)
        except Exception:  # another supplier's event: signed with another secret
            continue
        if payload["type"] == event_type:
            found.append(payload)
    return found


async def finished_run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        run = (await client.get(f"/api/v1/match-runs/{run_id}")).json()
        return run if run["status"] in {"planned", "infeasible", "failed"} else None

    return await eventually(finished, timeout_seconds=60)


def checked(run: dict[str, Any], problem: dict[str, Any]) -> Plan:
    plan, solved = Plan.model_validate(run["plan"]), Problem.model_validate(problem)
    assert violations(solved, plan) == []
    assert cost_cents(solved, plan) == plan.total_cents
    return plan


async def test_from_a_groups_wish_to_an_award_fulfilment_receives(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    sku = f"sourdough-{uuid4().hex[:6]}"
    with fake_supplier_server() as fake:
        # Three workshops, each with a standing offer and a webhook.
        suppliers = []
        for price in (3000, 3200, 3400):
            created = await create_supplier(operator, webhook_url=fake.url, capacity=1000)
            client = as_key(created["api_key"]["api_key"])
            tiers = [{"min_quantity": 0, "unit_cents": price}]
            offer = await client.post("/api/v1/offers", json=offer_body(sku=sku, moq=50, price_tiers=tiers))
            assert offer.status_code == 201, offer.text
            suppliers.append(created | {"client": client})
        by_id = {supplier["supplier"]["id"]: supplier for supplier in suppliers}

        # A leader sizes a package by the group's sign-up.
        _, key = await register_community(operator)
        leader = as_key(key)
        package = await create_package(leader, sku=sku, quantities={"ningbo": 0, "shanghai": 0}, backups=1)
        signup = (await leader.post(f"/api/v1/packages/{package['id']}/signup", json={"per_person_max": 200})).json()
        for phone, region, quantity in [("13800000001", "ningbo", 120), ("13800000002", "shanghai", 80)]:
            entry = {"name": "Member", "phone": phone, "region": region, "quantity": quantity}
            assert (await anonymous.post(f"/api/v1/signups/{signup['token']}/entries", json=entry)).status_code == 201
        adopted = await leader.post(f"/api/v1/packages/{package['id']}/signup/adopt")
        assert adopted.json()["quantities"] == {"ningbo": 120, "shanghai": 80}

        # Sourcing: every supplier gets a signed RFQ; each quotes with its own key.
        sourcing = await start_round(leader, package["id"])
        for supplier in suppliers:
            rfqs = await eventually(lambda s=supplier: _rfq_events(fake, s, sourcing["id"]))
            assert rfqs[0]["data"]["round_id"] == sourcing["id"]
        for supplier, price in zip(suppliers, (2900, 3100, 3300), strict=True):
            rfq = next(
                r for r in (await supplier["client"].get("/api/v1/rfqs")).json() if r["round_id"] == sourcing["id"]
            )
            quote = quote_body(sku=sku, moq=50, price_tiers=[{"min_quantity": 0, "unit_cents": price}])
            assert (await supplier["client"].post(f"/api/v1/rfqs/{rfq['id']}/quotes", json=quote)).status_code == 201

        # The plan: the checker accepts it, the package is planned with what the sale may promise.
        run = (
            await leader.post(f"/api/v1/sourcing-rounds/{sourcing['id']}/match-runs", json={"time_limit_seconds": 5})
        ).json()
        run = await finished_run(leader, run["id"])
        assert run["status"] == "planned", run
        checked(run, (await leader.get(f"/api/v1/match-runs/{run['id']}/problem")).json())
        plan = (await leader.get(f"/api/v1/packages/{package['id']}/plan")).json()
        assert plan["sale_caps"] == {"ningbo": 120, "shanghai": 80}

        # Firm quantities (the sale's result), then the award.
        firm = await leader.post(
            f"/api/v1/packages/{package['id']}/firm-quantities", json={"quantities": {"ningbo": 100, "shanghai": 60}}
        )
        assert firm.status_code == 200, firm.text
        award_run = await leader.post(f"/api/v1/packages/{package['id']}/award", json={"time_limit_seconds": 5})
        assert award_run.status_code == 202, award_run.text
        await finished_run(leader, award_run.json()["id"])

        async def offered() -> list[dict[str, Any]] | None:
            awards = (await leader.get(f"/api/v1/packages/{package['id']}/awards")).json()["awards"]
            return [a for a in awards if a["status"] == "offered"] or None

        (first,) = await eventually(offered)
        winner = by_id[first["supplier_id"]]

        async def award_told() -> list[dict[str, Any]] | None:
            return events_for(fake, winner["webhook_secret"], "award.offered") or None

        await eventually(award_told)

        # The chosen supplier declines: a new plan without it, the others told.
        declined = await winner["client"].post(f"/api/v1/awards/{first['id']}/decline", json={"reason": "oven broke"})
        assert declined.status_code == 200, declined.text

        async def replacement() -> dict[str, Any] | None:
            awards = (await leader.get(f"/api/v1/packages/{package['id']}/awards")).json()
            current = [a for a in awards["awards"] if a["status"] == "offered"]
            return awards if current else None

        awards = await eventually(replacement, timeout_seconds=60)
        current = [a for a in awards["awards"] if a["status"] == "offered"]
        assert first["supplier_id"] not in {a["supplier_id"] for a in current}
        assert any("oven broke" in (r["reason"] or "") for r in awards["runs"])
        assert sum(q for a in current for line in a["lines"] for q in line["quantities"].values()) == 160

        # Every award accepted: the package is awarded and fulfilment has it.
        for award in current:
            answer = await by_id[award["supplier_id"]]["client"].post(f"/api/v1/awards/{award['id']}/accept")
            assert answer.status_code == 200, answer.text

        async def received() -> dict[str, Any] | None:
            response = await operator.get(f"/api/v1/awarded-packages/{package['id']}")
            return response.json() if response.status_code == 200 else None

        awarded = await eventually(received)
        assert awarded["firm_quantities"] == {"ningbo": 100, "shanghai": 60}
        assert sum(a["quantity"] for a in awarded["allocations"]) == 160
        assert first["supplier_id"] not in {a["supplier_id"] for a in awarded["allocations"]}
        assert (await leader.get(f"/api/v1/packages/{package['id']}")).json()["status"] == "awarded"

        # Two more groups want the same bread: an operator sources them together, in one federated round.
        federated = []
        for quantity in (70, 90):
            community, _ = await register_community(operator)
            body = {"community_id": community["id"], "sku": sku, "quantities": {"ningbo": quantity}, "backups": 0}
            federated.append(await create_package(operator, **body))
        together = await start_round(operator, *(p["id"] for p in federated))
        run = (await operator.post(f"/api/v1/sourcing-rounds/{together['id']}/match-runs", json={})).json()
        run = await finished_run(operator, run["id"])
        assert run["status"] == "planned", run
        checked(run, (await operator.get(f"/api/v1/match-runs/{run['id']}/problem")).json())
        assert {share["package_id"] for share in run["packages"]} == {p["id"] for p in federated}
        assert sum(sum(share["cost"].values()) for share in run["packages"]) == run["total_cents"]
        assert run["saving_cents"] is not None and run["saving_cents"] >= 0


async def _rfq_events(fake: FakeSupplier, supplier: dict[str, Any], round_id: str) -> list[dict[str, Any]] | None:
    events = events_for(fake, supplier["webhook_secret"], "rfq.created")
    return [event for event in events if event["data"]["round_id"] == round_id] or None
