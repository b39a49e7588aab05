"""Awards end to end: firm quantities, an award run whose plan becomes offers told by signed webhooks, suppliers
answering by the deadline, re-matches without a supplier that declined or stayed silent, and the accepted awards
reaching fulfilment."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from standardwebhooks.webhooks import Webhook

from flexsupply.kit.db import Database
from flexsupply.matching.models import DemandPackage, MatchRun
from tests.integration.test_match_runs import finished_run, request_run
from tests.support.catalogue import create_supplier, offer_body
from tests.support.fake_supplier import FakeSupplier, ReceivedRequest, fake_supplier_server
from tests.support.matching import create_package, register_community, request_award, set_firm_quantities, start_round
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


@dataclass
class Planned:
    leader: httpx.AsyncClient
    package: dict[str, Any]
    suppliers: dict[str, dict[str, Any]]  # name -> registration, its client and its offer

    def id_of(self, name: str) -> str:
        return self.suppliers[name]["supplier"]["id"]

    def name_of(self, supplier_id: str) -> str:
        return next(name for name, created in self.suppliers.items() if created["supplier"]["id"] == supplier_id)

    def client(self, name: str) -> httpx.AsyncClient:
        return self.suppliers[name]["client"]


async def planned(
    operator: httpx.AsyncClient,
    as_key: KeyClient,
    fake: FakeSupplier,
    offers: dict[str, dict[str, Any]],
    **package: Any,
) -> Planned:
    """Suppliers (webhooks to `fake.url/<name>`) with one offer each for a new SKU, and a leader's package planned
    on them by a sourcing run."""
    sku = f"award-{uuid4().hex[:8]}"
    suppliers = {}
    for name, terms in offers.items():
        regions = sorted(terms["shipping_cents"])
        created = await create_supplier(operator, webhook_url=f"{fake.url}/{name}", regions=regions)
        client = as_key(created["api_key"]["api_key"])
        response = await client.post("/api/v1/offers", json=offer_body(**({"sku": sku, "moq": 10} | terms)))
        assert response.status_code == 201, response.text
        suppliers[name] = created | {"client": client, "offer": response.json()}
    _, key = await register_community(operator)
    leader = as_key(key)
    created_package = await create_package(leader, sku=sku, **package)
    sourcing = await start_round(leader, created_package["id"])
    run = await finished_run(leader, (await request_run(leader, sourcing["id"], time_limit_seconds=5))["id"])
    assert run["status"] == "planned", run
    return Planned(leader, created_package, suppliers)


def price(unit_cents: int) -> list[dict[str, int]]:
    return [{"min_quantity": 0, "unit_cents": unit_cents}]


async def awarded_run(planned_: Planned, **firm: int) -> dict[str, Any]:
    """Firm quantities set, the award run finished; returns the package's awards view."""
    package_id = planned_.package["id"]
    response = await set_firm_quantities(planned_.leader, package_id, **firm)
    assert response.status_code == 200, response.text
    run = await finished_run(planned_.leader, (await request_award(planned_.leader, package_id))["id"])
    assert run["kind"] == "award"
    return await awards_view(planned_)


async def awards_view(planned_: Planned) -> dict[str, Any]:
    response = await planned_.leader.get(f"/api/v1/packages/{planned_.package['id']}/awards")
    assert response.status_code == 200, response.text
    return response.json()


def by_supplier(view: dict[str, Any], planned_: Planned, status: str) -> dict[str, dict[str, Any]]:
    return {planned_.name_of(award["supplier_id"]): award for award in view["awards"] if award["status"] == status}


def notices(fake: FakeSupplier, name: str, event_type: str) -> list[ReceivedRequest]:
    return [
        request
        for request in fake.received
        if request.path == f"/webhooks/{name}" and json.loads(request.body)["type"] == event_type
    ]


async def told(fake: FakeSupplier, name: str, event_type: str, subject_id: str) -> dict[str, Any]:
    """The webhook telling supplier `name` `event_type` about the award or reservation `subject_id`, once it came."""

    async def arrived() -> dict[str, Any] | None:
        found = [json.loads(r.body) for r in notices(fake, name, event_type)]
        return next((payload for payload in found if payload["data"]["id"] == subject_id), None)

    return await eventually(arrived, 30)


async def package_status(planned_: Planned) -> str:
    return (await planned_.leader.get(f"/api/v1/packages/{planned_.package['id']}")).json()["status"]


# A package for ningbo (100) and shanghai (60); with backups=1, one backup supplier holds a reserve.
SPLIT = {
    "north": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(3000)},
    "south": {"shipping_cents": {"shanghai": 300}, "price_tiers": price(3000)},
    "backup": {"shipping_cents": {"ningbo": 300, "shanghai": 300}, "price_tiers": price(9000), "reserve_cents": 50},
}


async def test_firm_quantities_stay_within_the_plan_and_close_a_planned_package(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, SPLIT, quantities={"ningbo": 100, "shanghai": 60}, backups=1)
    package_id = planned_.package["id"]
    leader = planned_.leader
    assert (await leader.post(f"/api/v1/packages/{package_id}/award", json={})).status_code == 409  # not closed

    for quantities, field in [
        ({"ningbo": 101}, "quantities.ningbo"),  # over the sale cap
        ({"chengdu": 5}, "quantities.chengdu"),  # a region the plan does not cover
        ({"ningbo": 0, "shanghai": 0}, "quantities"),  # nothing sold
    ]:
        response = await set_firm_quantities(leader, package_id, **quantities)
        assert response.status_code == 400, response.text
        assert [error["field"] for error in response.json()["errors"]] == [field]
    response = await leader.post(f"/api/v1/packages/{package_id}/firm-quantities", json={"quantities": {}})
    assert response.status_code == 400
    _, other_key = await register_community(operator)
    assert (await set_firm_quantities(as_key(other_key), package_id, ningbo=10)).status_code == 404
    assert (await set_firm_quantities(planned_.client("north"), package_id, ningbo=10)).status_code == 403
    assert await package_status(planned_) == "planned"

    response = await set_firm_quantities(leader, package_id, ningbo=80, shanghai=0)
    assert response.status_code == 200, response.text
    firmed = response.json()
    assert firmed["status"] == "closed" and firmed["firm_quantities"] == {"ningbo": 80}
    assert firmed["sale_caps"] == {"ningbo": 100, "shanghai": 60}
    (move,) = [m for m in (await leader.get(f"/api/v1/packages/{package_id}/history")).json() if m["step"] == "firm_up"]
    assert move["from_status"] == "planned" and move["to_status"] == "closed"
    assert move["actor"].startswith("leader:") and "80 in ningbo" in move["reason"]
    # Closed: the firm quantities may still change until awarding starts (an operator may set them too).
    response = await set_firm_quantities(operator, package_id, ningbo=100, shanghai=60)
    assert response.status_code == 200 and response.json()["firm_quantities"] == {"ningbo": 100, "shanghai": 60}

    await request_award(leader, package_id)
    response = await leader.post(f"/api/v1/packages/{package_id}/award", json={})
    assert response.status_code == 409  # an award run is already queued or running
    assert (await set_firm_quantities(leader, package_id, ningbo=10)).status_code == 409


async def test_firm_quantities_of_a_sale_held_elsewhere_keep_to_the_leaders_cap_as_the_flash_sale_does(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    # A plan of 80 + 60 under a cap of 100: the flash sale would sell 57 + 43, so a sale held outside may not
    # report more.
    with fake_supplier_server() as fake:
        planned_ = await planned(
            operator, as_key, fake, SPLIT, quantities={"ningbo": 80, "shanghai": 60}, backups=1, cap_units=100
        )
    package_id, leader = planned_.package["id"], planned_.leader

    async def caps_shown() -> None:
        plan = (await leader.get(f"/api/v1/packages/{package_id}/plan")).json()
        stock = (await leader.get(f"/api/v1/sales/{package_id}/stock")).json()
        assert plan["sale_caps"] == {"ningbo": 57, "shanghai": 43}
        assert {region["region"]: region["cap"] for region in stock["regions"]} == plan["sale_caps"]

    await caps_shown()
    # A plan recorded before the caps had one rule holds the least of the cap and each region's units: the caps
    # follow from its units all the same.
    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            package = await session.get(DemandPackage, UUID(package_id))
            assert package is not None and package.plan_run_id is not None
            run = await session.get(MatchRun, package.plan_run_id)
            assert run is not None and run.package_plans is not None
            recorded = run.package_plans[package_id] | {"sale_caps": {"ningbo": 80, "shanghai": 60}}
            run.package_plans = run.package_plans | {package_id: recorded}
    finally:
        await database.dispose()
    await caps_shown()

    response = await set_firm_quantities(leader, package_id, ningbo=80, shanghai=60)
    assert response.status_code == 400, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["quantities.ningbo"]
    response = await set_firm_quantities(leader, package_id, ningbo=57, shanghai=43)
    assert response.status_code == 200, response.text
    assert response.json()["sale_caps"] == {"ningbo": 57, "shanghai": 43}


async def test_every_award_accepted_awards_the_package_to_fulfilment(operator: httpx.AsyncClient, as_key: KeyClient):
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, SPLIT, quantities={"ningbo": 100, "shanghai": 60}, backups=1)
        view = await awarded_run(planned_, ningbo=100, shanghai=60)

        offered = by_supplier(view, planned_, "offered")
        assert set(offered) == {"north", "south"}
        assert offered["north"]["lines"][0]["quantities"] == {"ningbo": 100}
        assert offered["south"]["lines"][0]["quantities"] == {"shanghai": 60}
        assert all(
            award["total_cents"] == sum(line["total_cents"] for line in award["lines"]) for award in view["awards"]
        )
        (reservation,) = view["reservations"]
        assert planned_.name_of(reservation["supplier_id"]) == "backup" and reservation["status"] == "held"
        assert view["runs"][0]["kind"] == "award" and view["runs"][0]["status"] == "planned"

        # Each is told by a webhook signed with its own secret.
        for name, award in offered.items():
            payload = await told(fake, name, "award.offered", award["id"])
            request = next(r for r in notices(fake, name, "award.offered") if json.loads(r.body) == payload)
            verified = Webhook(planned_.suppliers[name]["webhook_secret"]).verify(request.body, request.headers)
            assert verified["data"]["answer_by"] == award["answer_by"]
            assert verified["data"]["lines"] == award["lines"]
        await told(fake, "backup", "reservation.held", reservation["id"])

        # A supplier sees its own awards only; another's is not found.
        north, south = planned_.client("north"), planned_.client("south")
        assert [a["id"] for a in (await north.get("/api/v1/awards")).json()] == [offered["north"]["id"]]
        assert (await north.get("/api/v1/awards", params={"status": "accepted"})).json() == []
        assert (await north.get(f"/api/v1/awards/{offered['south']['id']}")).status_code == 404
        assert (await north.post(f"/api/v1/awards/{offered['south']['id']}/accept")).status_code == 404
        assert (await planned_.leader.get("/api/v1/awards")).status_code == 403
        backup = planned_.client("backup")
        assert [r["id"] for r in (await backup.get("/api/v1/reservations")).json()] == [reservation["id"]]

        accepted = await north.post(f"/api/v1/awards/{offered['north']['id']}/accept")
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        assert accepted.json()["answered_at"] is not None
        again = await north.post(f"/api/v1/awards/{offered['north']['id']}/accept")
        assert again.status_code == 409 and "accepted" in again.json()["detail"]
        assert (await north.get(f"/api/v1/awards/{offered['north']['id']}")).json() == accepted.json()
        assert await package_status(planned_) == "closed"  # south has not answered

        assert (await south.post(f"/api/v1/awards/{offered['south']['id']}/accept")).status_code == 200
        assert await package_status(planned_) == "awarded"

    async def in_fulfilment() -> dict[str, Any] | None:
        response = await operator.get(f"/api/v1/awarded-packages/{planned_.package['id']}")
        return response.json() if response.status_code == 200 else None

    awarded = await eventually(in_fulfilment, 30)
    assert awarded["firm_quantities"] == {"ningbo": 100, "shanghai": 60}
    made = {(planned_.name_of(a["supplier_id"]), a["region"]): a["quantity"] for a in awarded["allocations"]}
    assert made == {("north", "ningbo"): 100, ("south", "shanghai"): 60}
    assert all(a["unit_cents"] == 3000 and a["shipping_cents"] == 300 for a in awarded["allocations"])
    assert [planned_.name_of(r["supplier_id"]) for r in awarded["reserves"]] == ["backup"]


async def test_a_decline_rematches_without_the_supplier_keeping_the_accepted_award(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    """north makes ningbo, south shanghai, east chengdu. north accepts, south declines: only east ships to
    shanghai as well, so east's offered award is withdrawn and a larger one offered; north's stays accepted."""
    offers = {
        "north": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(3000)},
        "south": {"shipping_cents": {"shanghai": 300}, "price_tiers": price(3000)},
        "east": {"shipping_cents": {"chengdu": 300, "shanghai": 900}, "price_tiers": price(3000)},
    }
    quantities = {"ningbo": 100, "shanghai": 60, "chengdu": 50}
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, offers, quantities=quantities, backups=0)
        view = await awarded_run(planned_, **quantities)
        first = by_supplier(view, planned_, "offered")
        assert set(first) == {"north", "south", "east"}
        north, south = planned_.client("north"), planned_.client("south")
        assert (await north.post(f"/api/v1/awards/{first['north']['id']}/accept")).status_code == 200

        assert (
            await south.post(f"/api/v1/awards/{first['south']['id']}/decline", json={"reason": ""})
        ).status_code == 400
        declined = await south.post(f"/api/v1/awards/{first['south']['id']}/decline", json={"reason": "oven broken"})
        assert declined.status_code == 200, declined.text
        assert declined.json()["status"] == "declined" and declined.json()["reason"] == "oven broken"
        assert (await south.post(f"/api/v1/awards/{first['south']['id']}/accept")).status_code == 409

        view = await awards_view(planned_)
        rematch = view["runs"][0]
        assert rematch["kind"] == "rematch" and rematch["excluded_supplier_ids"] == [planned_.id_of("south")]
        assert rematch["reason"] == f"supplier {planned_.id_of('south')} declined: oven broken"
        await finished_run(planned_.leader, rematch["id"])

        view = await awards_view(planned_)
        statuses = {(planned_.name_of(a["supplier_id"]), a["status"]) for a in view["awards"]}
        assert statuses == {
            ("north", "accepted"),
            ("south", "declined"),
            ("east", "withdrawn"),
            ("east", "offered"),
        }
        assert by_supplier(view, planned_, "accepted")["north"]["id"] == first["north"]["id"]  # kept as it was
        now_east = by_supplier(view, planned_, "offered")["east"]
        assert now_east["run_id"] == rematch["id"]
        assert now_east["lines"][0]["quantities"] == {"chengdu": 50, "shanghai": 60}
        withdrawn = by_supplier(view, planned_, "withdrawn")["east"]
        assert "oven broken" in withdrawn["reason"]
        await told(fake, "east", "award.withdrawn", withdrawn["id"])
        await told(fake, "east", "award.offered", now_east["id"])
        assert notices(fake, "north", "award.withdrawn") == []  # the accepted award is not reopened

        east = planned_.client("east")
        assert (await east.post(f"/api/v1/awards/{withdrawn['id']}/accept")).status_code == 409
        assert (await east.post(f"/api/v1/awards/{now_east['id']}/accept")).status_code == 200
        assert await package_status(planned_) == "awarded"


async def test_silence_past_the_deadline_counts_as_a_decline(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    from flexsupply.matching import awards
    from flexsupply.matching.models import Award

    offers = {
        "north": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(3000)},
        "spare": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(5000)},
    }
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, offers, quantities={"ningbo": 100}, backups=0)
        view = await awarded_run(planned_, ningbo=100)
    (award,) = view["awards"]
    assert planned_.name_of(award["supplier_id"]) == "north"
    answer_by = datetime.fromisoformat(award["answer_by"])
    assert timedelta(hours=23) < answer_by - datetime.now(UTC) <= timedelta(hours=24)

    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            # As the deadline's event arriving early would: nothing changes.
            assert not await awards.expire_award(session, UUID(award["id"]), answer_by - timedelta(seconds=1))
        async with database.transaction() as session:
            assert await awards.expire_award(session, UUID(award["id"]), answer_by)
        async with database.transaction() as session:  # the event again: the award is no longer offered
            assert not await awards.expire_award(session, UUID(award["id"]), answer_by + timedelta(hours=1))
    finally:
        await database.dispose()

    north = planned_.client("north")
    late = await north.post(f"/api/v1/awards/{award['id']}/accept")
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    view = await awards_view(planned_)
    rematch = view["runs"][0]
    assert rematch["kind"] == "rematch" and rematch["requested_by"] == "system:deadline"
    assert "did not answer by" in rematch["reason"]
    await finished_run(planned_.leader, rematch["id"])
    view = await awards_view(planned_)
    assert {(planned_.name_of(a["supplier_id"]), a["status"]) for a in view["awards"]} == {
        ("north", "expired"),
        ("spare", "offered"),
    }

    # An answer after the deadline is refused even before the deadline's event has expired the award.
    spare_award = by_supplier(view, planned_, "offered")["spare"]
    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            row = await session.get(Award, UUID(spare_award["id"]))
            assert row is not None
            row.answer_by = datetime.now(UTC) - timedelta(minutes=1)
    finally:
        await database.dispose()
    response = await planned_.client("spare").post(f"/api/v1/awards/{spare_award['id']}/accept")
    assert response.status_code == 409 and "was due by" in response.json()["detail"]
    assert (await planned_.client("spare").get(f"/api/v1/awards/{spare_award['id']}")).json()["status"] == "offered"


async def test_an_award_run_without_a_plan_issues_nothing_and_says_why(operator: httpx.AsyncClient, as_key: KeyClient):
    """The only offer makes at least 100: a sale of 40 cannot be made by it."""
    offers = {"north": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(3000), "moq": 100}}
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, offers, quantities={"ningbo": 100}, backups=0)
        view = await awarded_run(planned_, ningbo=40)
    assert view["awards"] == [] and view["reservations"] == []
    (run,) = view["runs"]
    assert run["status"] == "infeasible" and run["explanation"]
    assert view["status"] == "closed"


async def test_a_rematch_that_uses_a_supplier_who_declined_meanwhile_is_not_issued_but_run_again(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    """Two declines close together: the re-match asked for after the first still counts on the second decliner.
    Its plan is not issued; another re-match leaves both out. Recording a finished run again issues nothing."""
    from flexsupply.allocation import Plan, Problem
    from flexsupply.matching import runs
    from flexsupply.matching.models import MatchRun, RunKind, RunStatus

    offers = {
        "north": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(3000)},
        "south": {"shipping_cents": {"shanghai": 300}, "price_tiers": price(3000)},
        "east": {"shipping_cents": {"ningbo": 900, "shanghai": 900}, "price_tiers": price(4000)},
    }
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, offers, quantities={"ningbo": 100, "shanghai": 60}, backups=0)
        view = await awarded_run(planned_, ningbo=100, shanghai=60)
    first = by_supplier(view, planned_, "offered")
    assert set(first) == {"north", "south"}
    award_run = (await planned_.leader.get(f"/api/v1/match-runs/{first['north']['run_id']}")).json()
    problem = Problem.model_validate(
        (await planned_.leader.get(f"/api/v1/match-runs/{award_run['id']}/problem")).json()
    )
    result = runs.RunResult(problem=problem, plan=Plan.model_validate(award_run["plan"]), left_out=[])

    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            # A re-match asked for after an earlier decline, still solving (leased: no worker or sweeper takes it).
            pending = MatchRun(
                round_id=UUID(award_run["round_id"]),
                kind=RunKind.REMATCH,
                status=RunStatus.RUNNING,
                requested_by="test",
                reason="an earlier decline",
                time_limit_seconds=5,
                package_ids=[planned_.package["id"]],
                previous_run_id=UUID(award_run["id"]),
                answer_within_hours=24,
                lease_until=datetime.now(UTC) + timedelta(hours=1),
            )
            session.add(pending)
        # south declines meanwhile: the pending run will answer for it.
        response = await planned_.client("south").post(
            f"/api/v1/awards/{first['south']['id']}/decline", json={"reason": "no flour"}
        )
        assert response.status_code == 200
        assert [run["id"] for run in (await awards_view(planned_))["runs"]] == [str(pending.id), award_run["id"]]

        async with database.transaction() as session:
            # Its plan (as the award run's) still makes south's share.
            assert await runs.record_result(session, pending.id, result) is not None
        async with database.transaction() as session:  # a second worker's answer changes nothing
            assert await runs.record_result(session, pending.id, result) is None
            assert await runs.record_result(session, UUID(award_run["id"]), result) is None
    finally:
        await database.dispose()

    view = await awards_view(planned_)
    again, not_issued = view["runs"][0], view["runs"][1]
    assert not_issued["id"] == str(pending.id) and not_issued["status"] == "planned"
    assert any(line.startswith("Not issued") and planned_.id_of("south") in line for line in not_issued["explanation"])
    assert again["kind"] == "rematch" and again["requested_by"] == f"match-run:{pending.id}"
    assert again["excluded_supplier_ids"] == [planned_.id_of("south")]
    # Nothing was issued from the pending run, nor is its plan the package's (the next one may be, once solved).
    assert str(pending.id) not in {a["run_id"] for a in view["awards"]}
    plan = (await planned_.leader.get(f"/api/v1/packages/{planned_.package['id']}/plan")).json()
    assert plan["run_id"] in {award_run["id"], again["id"]}

    await finished_run(planned_.leader, again["id"])
    view = await awards_view(planned_)
    assert {(planned_.name_of(a["supplier_id"]), a["status"]) for a in view["awards"]} == {
        ("north", "offered"),
        ("south", "declined"),
        ("east", "offered"),
    }
    assert by_supplier(view, planned_, "offered")["north"]["id"] == first["north"]["id"]  # unchanged, kept


async def test_a_rematch_without_a_plan_keeps_the_accepted_award_and_says_why(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    """Only south ships to shanghai: once it declines, no plan exists. north's accepted award stands."""
    offers = {
        "north": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(3000)},
        "south": {"shipping_cents": {"shanghai": 300}, "price_tiers": price(3000)},
    }
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, offers, quantities={"ningbo": 100, "shanghai": 60}, backups=0)
        view = await awarded_run(planned_, ningbo=100, shanghai=60)
    first = by_supplier(view, planned_, "offered")
    assert (await planned_.client("north").post(f"/api/v1/awards/{first['north']['id']}/accept")).status_code == 200
    declined = await planned_.client("south").post(
        f"/api/v1/awards/{first['south']['id']}/decline", json={"reason": "closed for the holiday"}
    )
    assert declined.status_code == 200
    rematch = await finished_run(planned_.leader, (await awards_view(planned_))["runs"][0]["id"])
    assert rematch["kind"] == "rematch" and rematch["status"] == "infeasible"

    view = await awards_view(planned_)
    assert view["status"] == "closed"
    assert view["runs"][0]["explanation"] == rematch["explanation"] and rematch["explanation"]
    assert "closed for the holiday" in view["runs"][0]["reason"]
    assert {(planned_.name_of(a["supplier_id"]), a["status"]) for a in view["awards"]} == {
        ("north", "accepted"),
        ("south", "declined"),
    }
