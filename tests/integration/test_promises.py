"""The promises a leader made hold to the end, on the real services: a package sold, awarded and delivered follows
its fulfilment to completed, and a take-over shows what it used of the reserve and what backup is left."""

import codecs
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

from flexsupply.matching.payments import sign_test_payment
from tests.integration.conftest import OPERATOR_TOKEN
from tests.integration.test_award_carries_orders import accept_all
from tests.integration.test_awards import (
    SPLIT,
    Planned,
    awarded_run,
    awards_view,
    by_supplier,
    notices,
    planned,
    price,
    told,
)
from tests.integration.test_fulfilment_flow import _production, _received, assert_every_unit_assigned_once
from tests.integration.test_match_runs import finished_run
from tests.support.awarded import awarded_package
from tests.support.catalogue import create_supplier, offer_body
from tests.support.fake_supplier import fake_supplier_server
from tests.support.matching import create_package, register_community, start_round
from tests.support.sales import order
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]
SALE_PRICE_CENTS = 5900
# maker makes ningbo; backup holds the package's reserve (backups=1).
OFFERS = {
    "maker": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(3000), "moq": 1},
    "backup": {"shipping_cents": {"ningbo": 300}, "price_tiers": price(9000), "moq": 1, "reserve_cents": 50},
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def sold_and_awarded(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient, orders: list[int]
) -> Planned:
    """A package for ningbo sold through flexsupply (paid orders of `orders` units each), awarded and accepted."""
    opens_at = datetime.now(UTC) + timedelta(seconds=1)
    units = sum(orders)
    sale = {
        "sale_opens_at": opens_at.isoformat(),
        "sale_closes_at": (opens_at + timedelta(hours=1)).isoformat(),
        "threshold_units": 1,
        "cap_units": units,
        "per_buyer_limit": units,
        "sale_price_cents": SALE_PRICE_CENTS,
    }
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, OFFERS, quantities={"ningbo": units}, backups=1, **sale)
    package_id = planned_.package["id"]

    async def on_sale() -> bool:
        return (await planned_.leader.get(f"/api/v1/packages/{package_id}")).json()["status"] == "on_sale"

    await eventually(on_sale, 30)
    for index, quantity in enumerate(orders):
        buyer = {"quantity": quantity, "name": f"Buyer {index}", "phone": f"139{uuid4().int % 10**8:08d}"}
        placed = ok(await order(anonymous, package_id, **buyer), 201)
        body, signature = sign_test_payment(OPERATOR_TOKEN, placed["payment_reference"], quantity * SALE_PRICE_CENTS)
        ok(await anonymous.post("/api/v1/payments/test/callbacks", content=body, headers=signature))
    closed = ok(await planned_.leader.post(f"/api/v1/packages/{package_id}/sale/close", json={"reason": "sold"}))
    assert closed["went_ahead"] is True
    await finished_run(planned_.leader, (await awards_view(planned_))["runs"][0]["id"])
    await accept_all(planned_)
    return planned_


async def production_of(client: httpx.AsyncClient, package_id: str) -> dict[str, Any]:
    async def issued() -> dict[str, Any] | None:
        found = ok(await client.get("/api/v1/production-orders", params={"package_id": package_id}))
        return next((production for production in found if production["status"] == "issued"), None)

    return await eventually(issued, 30)


async def assignment_done(operator: httpx.AsyncClient, package_id: str) -> None:
    """The buyers' orders are assigned to production: only then does a batch plan its parcels (a slower broker
    delivers the award's event later than the supplier may report its first batch)."""

    async def done() -> bool:
        answer = await operator.get(f"/api/v1/awarded-packages/{package_id}/assignment")
        return answer.status_code == 200 and answer.json()["status"] == "done"

    await eventually(done, 30)


async def make_and_deliver(client: httpx.AsyncClient, production: dict[str, Any], units: int) -> None:
    """The supplier makes `units` in one batch and ships and delivers every parcel planned for it."""
    base = f"/api/v1/production-orders/{production['id']}"
    if production["status"] == "issued":
        for step in ("accept", "start"):
            ok(await client.post(f"{base}/moves", json={"step": step}))
    batch = ok(
        await client.post(
            f"{base}/batches",
            json={"quantity": units, "lot_number": f"L{uuid4().hex[:6]}", "quality_passed": True},
            headers={"Idempotency-Key": uuid4().hex},
        ),
        201,
    )
    parcels = ok(await client.get(f"{base}/shipments", params={"batch_id": batch["id"], "status": "planned"}))
    assert sum(parcel["quantity"] for parcel in parcels) == units
    for step in ({"step": "ship", "carrier": "SF Express", "tracking_number": "SF1"}, {"step": "deliver"}):
        moves = [{"shipment_id": parcel["id"]} | step for parcel in parcels]
        ok(await client.post("/api/v1/shipments/moves", json={"moves": moves}))


async def package_of(planned_: Planned) -> dict[str, Any]:
    return ok(await planned_.leader.get(f"/api/v1/packages/{planned_.package['id']}"))


async def test_a_package_follows_its_fulfilment_and_shows_what_backup_is_left(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    planned_ = await sold_and_awarded(operator, anonymous, as_key, [2, 2, 2])
    package_id = planned_.package["id"]
    maker, backup = planned_.client("maker"), planned_.client("backup")
    assert (await package_of(planned_))["next_steps"] == ["start_fulfilment"]
    (reservation,) = ok(await backup.get("/api/v1/reservations"))
    assert (reservation["held_units"], reservation["used_units"], reservation["left_units"]) == (6, 0, 6)
    cover = (await awards_view(planned_))["reserve_cover"]
    assert (cover["backups"], cover["left_units"], cover["short_units"], cover["next_step"]) == (1, 6, 0, None)

    # The maker starts: the package is in fulfilment. It delivers the first buyer's 2 units, then stops.
    production = await production_of(maker, package_id)
    await assignment_done(operator, package_id)
    await make_and_deliver(maker, production, 2)

    async def in_fulfilment() -> dict[str, Any] | None:
        package = await package_of(planned_)
        return package if package["status"] == "in_fulfilment" else None

    assert (await eventually(in_fulfilment, 15))["next_steps"] == ["complete"]
    failure = ok(
        await operator.post(f"/api/v1/production-orders/{production['id']}/failure", json={"reason": "x"}), 202
    )

    # The backup makes the other 4 out of its reserve of 6: 2 are left, which cannot back the backup itself up.
    async def used() -> dict[str, Any] | None:
        (found,) = ok(await backup.get("/api/v1/reservations"))
        return found if found["used_units"] else None

    reservation = await eventually(used, 30)
    assert (reservation["held_units"], reservation["used_units"], reservation["left_units"]) == (6, 4, 2)
    view = await awards_view(planned_)
    assert [r["used_units"] for r in view["reservations"]] == [4]
    cover = view["reserve_cover"]
    assert (cover["held_units"], cover["used_units"], cover["left_units"], cover["short_units"]) == (6, 4, 2, 4)
    assert "POST /api/v1/failures/{id}/retry" in cover["next_step"]

    async def staff_told() -> list[dict[str, Any]] | None:
        found = ok(await operator.get("/api/v1/exceptions", params={"package_id": package_id}))
        return [exception for exception in found if exception["kind"] == "reserve_short"] or None

    (short,) = await eventually(staff_told, 15)
    assert "would leave 4 units without backup" in short["message"]
    assert ok(await operator.get(f"/api/v1/failures/{failure['id']}"))["status"] == "done"

    # The backup delivers the rest: every parcel delivered, the package is completed.
    await make_and_deliver(backup, await production_of(backup, package_id), 4)

    async def completed() -> dict[str, Any] | None:
        package = await package_of(planned_)
        return package if package["status"] == "completed" else None

    assert (await eventually(completed, 15))["next_steps"] == []
    history = ok(await planned_.leader.get(f"/api/v1/packages/{package_id}/history"))
    assert [(move["step"], move["actor"]) for move in history[-2:]] == [
        ("start_fulfilment", "fulfilment"),
        ("complete", "fulfilment"),
    ]


async def test_a_supplier_that_stops_is_failed_across_its_production_in_one_previewed_action(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    maker = await create_supplier(operator)
    maker_id = maker["supplier"]["id"]
    setups = [await awarded_package(operator, north=maker, ningbo=30, shanghai=20) for _ in range(2)]
    for setup in setups:
        await _received(operator, setup, database_urls["matching"])
    makers = [
        next(p for p in await _production(operator, setup.package_id) if p["supplier_id"] == maker_id)
        for setup in setups
    ]
    body = {"supplier_id": maker_id, "reason": "the workshop closed"}
    assert (await as_key(maker["api_key"]["api_key"]).post("/api/v1/supplier-stops", json=body)).status_code == 403

    preview = ok(await operator.post("/api/v1/supplier-stops", json=body), 201)
    assert preview["status"] == "previewed" and preview["failure_ids"] == []
    assert {(s["production_order_id"], s["units"], s["no_takeover"]) for s in preview["steps"]} == {
        (p["id"], 30, None) for p in makers
    }
    backups = {str(setup.package_id): str(setup.supplier_ids["backup"]) for setup in setups}
    for step in preview["steps"]:
        takeovers = [(t["supplier_id"], t["region"], t["quantity"]) for t in step["takeovers"]]
        assert takeovers == [(backups[step["package_id"]], "ningbo", 30)]
    # A dry run: nothing failed, no backup was asked.
    for setup in setups:
        productions = await _production(operator, setup.package_id)
        assert {p["status"] for p in productions} == {"issued"} and len(productions) == 2

    applied = ok(await operator.post(f"/api/v1/supplier-stops/{preview['id']}/apply"), 202)
    assert applied["status"] == "applied" and len(applied["failure_ids"]) == 2
    assert applied["steps"] == preview["steps"]
    again = ok(await operator.post(f"/api/v1/supplier-stops/{preview['id']}/apply"), 202)
    assert again["failure_ids"] == applied["failure_ids"]

    for failure_id in applied["failure_ids"]:

        async def done(failure_id: str = failure_id) -> dict[str, Any] | None:
            failure = ok(await operator.get(f"/api/v1/failures/{failure_id}"))
            return failure if failure["status"] == "done" else None

        assert (await eventually(done, 30))["units"] == 30
    for setup in setups:
        productions = await _production(operator, setup.package_id)
        by_supplier = {(p["supplier_id"], p["status"], p["quantity"]) for p in productions}
        assert by_supplier == {
            (maker_id, "failed", 30),
            (str(setup.supplier_ids["south"]), "issued", 20),
            (str(setup.supplier_ids["backup"]), "issued", 30),
        }
        await assert_every_unit_assigned_once(database_urls["fulfilment"], setup.package_id)
    refused = await operator.post("/api/v1/supplier-stops", json=body)
    assert refused.status_code == 409 and "no open production order" in refused.text


async def test_a_stop_previewed_before_something_changed_is_not_applied(
    operator: httpx.AsyncClient, database_urls: dict[str, str]
):
    maker = await create_supplier(operator)
    setup = await awarded_package(operator, north=maker)
    await _received(operator, setup, database_urls["matching"])
    (production,) = [
        p for p in await _production(operator, setup.package_id) if p["supplier_id"] == maker["supplier"]["id"]
    ]
    body = {"supplier_id": maker["supplier"]["id"], "reason": "the workshop closed"}
    preview = ok(await operator.post("/api/v1/supplier-stops", json=body), 201)
    ok(await operator.post(f"/api/v1/production-orders/{production['id']}/failure", json={"reason": "kiln"}), 202)

    outdated = await operator.post(f"/api/v1/supplier-stops/{preview['id']}/apply")
    assert outdated.status_code == 409 and "preview it again" in outdated.text
    assert ok(await operator.get(f"/api/v1/supplier-stops/{preview['id']}"))["status"] == "previewed"
    assert len(ok(await operator.get("/api/v1/failures", params={"package_id": str(setup.package_id)}))) == 1


async def test_manifest_csvs_carry_a_utf8_byte_order_mark(operator: httpx.AsyncClient, database_urls: dict[str, str]):
    setup = await awarded_package(operator)
    await _received(operator, setup, database_urls["matching"])
    production = next(iter(await _production(operator, setup.package_id)))
    manifest = await operator.get(f"/api/v1/production-orders/{production['id']}/manifest.csv")
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("text/csv")
    assert manifest.content.startswith(codecs.BOM_UTF8)
    assert manifest.content.decode("utf-8-sig").startswith("shipment_id,")


async def _latest_run_finished(planned_: Planned) -> dict[str, Any]:
    await finished_run(planned_.leader, (await awards_view(planned_))["runs"][0]["id"])
    return await awards_view(planned_)


async def test_a_supplier_that_accepted_then_declined_more_is_offered_nothing_more(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    # north ships to shanghai dearly: south makes shanghai, and north is next in line when south declines.
    offers = {
        "north": {"shipping_cents": {"ningbo": 300, "shanghai": 1500}, "price_tiers": price(3000)},
        "south": {"shipping_cents": {"shanghai": 300}, "price_tiers": price(3000)},
        "other": {"shipping_cents": {"shanghai": 300}, "price_tiers": price(5000)},
        "backup": {"shipping_cents": {"ningbo": 300, "shanghai": 300}, "price_tiers": price(9000), "reserve_cents": 50},
    }
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, offers, quantities={"ningbo": 100, "shanghai": 60}, backups=1)
        view = await awarded_run(planned_, ningbo=100, shanghai=60)
    offered = by_supplier(view, planned_, "offered")
    assert {name: award["lines"][0]["quantities"] for name, award in offered.items()} == {
        "north": {"ningbo": 100},
        "south": {"shanghai": 60},
    }
    north = planned_.client("north")
    ok(await north.post(f"/api/v1/awards/{offered['north']['id']}/accept"))
    decline = {"reason": "no capacity"}
    ok(await planned_.client("south").post(f"/api/v1/awards/{offered['south']['id']}/decline", json=decline))
    further = by_supplier(await _latest_run_finished(planned_), planned_, "offered")
    assert {name: award["lines"][0]["quantities"] for name, award in further.items()} == {"north": {"shanghai": 60}}

    # north will make its ningbo units and no more: the shanghai units go to the next supplier, not back to north.
    ok(await north.post(f"/api/v1/awards/{further['north']['id']}/decline", json={"reason": "only ningbo"}))
    view = await _latest_run_finished(planned_)
    assert view["runs"][0]["held_supplier_ids"] == [planned_.id_of("north")]
    again = by_supplier(view, planned_, "offered")
    assert {name: award["lines"][0]["quantities"] for name, award in again.items()} == {"other": {"shanghai": 60}}
    assert [a["lines"][0]["quantities"] for a in by_supplier(view, planned_, "accepted").values()] == [{"ningbo": 100}]


async def test_cancelling_a_closed_package_withdraws_its_awards_and_releases_its_reservations(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    with fake_supplier_server() as fake:
        planned_ = await planned(operator, as_key, fake, SPLIT, quantities={"ningbo": 100, "shanghai": 60}, backups=1)
        view = await awarded_run(planned_, ningbo=100, shanghai=60)
        offered = by_supplier(view, planned_, "offered")
        (reservation,) = view["reservations"]
        ok(await planned_.client("north").post(f"/api/v1/awards/{offered['north']['id']}/accept"))

        package_id = planned_.package["id"]
        reason = {"reason": "the group changed its mind"}
        assert ok(await planned_.leader.post(f"/api/v1/packages/{package_id}/cancel", json=reason))["status"] == (
            "cancelled"
        )
        view = await awards_view(planned_)
        assert {(award["status"], award["reason"]) for award in view["awards"]} == {
            ("withdrawn", "the package was cancelled: the group changed its mind")
        }
        assert [(r["status"], r["left_units"]) for r in view["reservations"]] == [("released", 100)]
        for name, award in offered.items():
            await told(fake, name, "award.withdrawn", award["id"])
        await told(fake, "backup", "reservation.released", reservation["id"])
    late = await planned_.client("south").post(f"/api/v1/awards/{offered['south']['id']}/accept")
    assert late.status_code == 409
    assert ok(await planned_.client("backup").get("/api/v1/reservations")) == []


async def test_a_planned_sale_can_be_postponed_within_its_plan_s_lead_times(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    sku = f"postpone-{uuid4().hex[:8]}"
    now = datetime.now(UTC)
    with fake_supplier_server() as fake:
        suppliers = {}
        for name, terms in SPLIT.items():
            created = await create_supplier(
                operator, webhook_url=f"{fake.url}/{name}", regions=sorted(terms["shipping_cents"])
            )
            body = offer_body(**({"sku": sku, "moq": 10, "lead_time_days": 5} | terms))
            ok(await as_key(created["api_key"]["api_key"]).post("/api/v1/offers", json=body), 201)
            suppliers[name] = created["supplier"]["id"]
        _, key = await register_community(operator)
        leader = as_key(key)
        package = await create_package(
            leader,
            sku=sku,
            quantities={"ningbo": 100, "shanghai": 60},
            backups=1,
            needed_by=(now + timedelta(days=20)).isoformat(),
        )
        link = ok(await leader.post(f"/api/v1/packages/{package['id']}/signup", json={"per_person_max": 5}), 201)
        entry = {"name": "Wang", "phone": "13800000001", "region": "ningbo", "quantity": 2}
        ok(await anonymous.post(f"/api/v1/signups/{link['token']}/entries", json=entry), 201)
        sourcing = await start_round(leader, package["id"])
        run = ok(
            await leader.post(f"/api/v1/sourcing-rounds/{sourcing['id']}/match-runs", json={"time_limit_seconds": 5}),
            202,
        )
        assert (await finished_run(leader, run["id"]))["status"] == "planned"
        path = f"/api/v1/packages/{package['id']}"

        # Too late: production starts at the close, and the plan's offers need 5 days before needed_by.
        late = {
            "sale_opens_at": (now + timedelta(days=14)).isoformat(),
            "sale_closes_at": (now + timedelta(days=16)).isoformat(),
        }
        refused = await leader.patch(path, json=late)
        assert refused.status_code == 409 and "needs 5 days after the close" in refused.text, refused.text
        assert (await leader.patch(path, json={"title": "Another"})).status_code == 409
        past = await leader.patch(path, json={"sale_opens_at": (now - timedelta(hours=1)).isoformat()})
        assert past.status_code == 400 and [e["field"] for e in past.json()["errors"]] == ["sale_opens_at"]

        window = {
            "sale_opens_at": (now + timedelta(days=8)).isoformat(),
            "sale_closes_at": (now + timedelta(days=9)).isoformat(),
        }
        moved = ok(await leader.patch(path, json=window))
        assert moved["status"] == "planned"
        assert datetime.fromisoformat(moved["sale_opens_at"]) == datetime.fromisoformat(window["sale_opens_at"])
        (move,) = [m for m in ok(await leader.get(f"{path}/history")) if m["step"] == "move_sale"]
        assert move["actor"].startswith("leader:") and "the sale now opens" in move["reason"]

        # Every supplier of the plan (makers and the backup) is told; the signed-up members see it on their link.
        for name in SPLIT:
            payload = await told_about(fake, name)
            assert payload["data"]["sale_opens_at"] == datetime.fromisoformat(window["sale_opens_at"]).isoformat()
        invitation = ok(await anonymous.get(f"/api/v1/signups/{link['token']}"))
        assert invitation["notices"] == [move["reason"]]
        assert datetime.fromisoformat(invitation["sale_closes_at"]) == datetime.fromisoformat(window["sale_closes_at"])
    # The old opening does nothing: the sale is still planned at the old time.
    assert ok(await leader.get(path))["status"] == "planned"


async def told_about(fake: Any, name: str) -> dict[str, Any]:
    async def arrived() -> dict[str, Any] | None:
        found = [json.loads(r.body) for r in notices(fake, name, "sale.moved")]
        return found[0] if found else None

    return await eventually(arrived, 30)


async def test_a_federated_round_is_awarded_together_at_its_plan_s_shares(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    sku = f"federated-{uuid4().hex[:8]}"
    created = await create_supplier(operator, regions=["ningbo"])
    maker = as_key(created["api_key"]["api_key"])
    # The lower tier only for the pooled quantity: 60 units alone pay 50.00 each, 120 together 30.00.
    tiers = [{"min_quantity": 0, "unit_cents": 5000}, {"min_quantity": 100, "unit_cents": 3000}]
    offer = offer_body(sku=sku, moq=10, price_tiers=tiers, shipping_cents={"ningbo": 300})
    ok(await maker.post("/api/v1/offers", json=offer), 201)
    packages = []
    for _ in range(2):
        community, _ = await register_community(operator)
        terms = {"sku": sku, "quantities": {"ningbo": 60}, "backups": 0, "community_id": community["id"]}
        packages.append((await create_package(operator, **terms))["id"])
    sourcing = await start_round(operator, *packages)
    run = ok(
        await operator.post(f"/api/v1/sourcing-rounds/{sourcing['id']}/match-runs", json={"time_limit_seconds": 5}), 202
    )
    assert (await finished_run(operator, run["id"]))["status"] == "planned"
    shares = {}
    for package_id in packages:
        cost = ok(await operator.get(f"/api/v1/packages/{package_id}/plan"))["cost"]
        shares[package_id] = sum(cost.values())

    first, second = packages
    ok(await operator.post(f"/api/v1/packages/{first}/firm-quantities", json={"quantities": {"ningbo": 60}}))
    waits = await operator.post(f"/api/v1/packages/{first}/award", json={"time_limit_seconds": 5})
    assert waits.status_code == 409 and "waits until the round's other packages have closed" in waits.text
    ok(await operator.post(f"/api/v1/packages/{second}/firm-quantities", json={"quantities": {"ningbo": 60}}))
    award_run = ok(await operator.post(f"/api/v1/packages/{second}/award", json={"time_limit_seconds": 5}), 202)
    assert sorted(award_run["package_ids"]) == sorted(packages)
    assert (await finished_run(operator, award_run["id"]))["status"] == "planned"
    for package_id in packages:
        view = ok(await operator.get(f"/api/v1/packages/{package_id}/awards"))
        (award,) = view["awards"]
        assert award["lines"][0]["unit_cents"] == 3000  # the pooled tier
        assert award["total_cents"] == shares[package_id]


async def test_a_federated_package_that_closed_first_waits_and_is_awarded_once_the_other_is_cancelled(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    sku = f"federated-{uuid4().hex[:8]}"
    created = await create_supplier(operator, regions=["ningbo"])
    offer = offer_body(sku=sku, moq=1, price_tiers=price(3000), shipping_cents={"ningbo": 300})
    ok(await as_key(created["api_key"]["api_key"]).post("/api/v1/offers", json=offer), 201)
    opens_at = datetime.now(UTC) + timedelta(seconds=1)
    packages = []
    for threshold in (1, 50):
        community, _ = await register_community(operator)
        terms = {
            "sku": sku,
            "quantities": {"ningbo": 60},
            "backups": 0,
            "community_id": community["id"],
            "threshold_units": threshold,
            "sale_opens_at": opens_at.isoformat(),
            "sale_closes_at": (opens_at + timedelta(hours=1)).isoformat(),
            "sale_price_cents": SALE_PRICE_CENTS,
        }
        packages.append((await create_package(operator, **terms))["id"])
    sourcing = await start_round(operator, *packages)
    run = ok(
        await operator.post(f"/api/v1/sourcing-rounds/{sourcing['id']}/match-runs", json={"time_limit_seconds": 5}), 202
    )
    assert (await finished_run(operator, run["id"]))["status"] == "planned"
    sold, missed = packages

    async def on_sale() -> bool:
        statuses = [ok(await operator.get(f"/api/v1/packages/{p}"))["status"] for p in packages]
        return statuses == ["on_sale", "on_sale"]

    await eventually(on_sale, 30)
    placed = ok(await order(anonymous, sold, quantity=2), 201)
    body, signature = sign_test_payment(OPERATOR_TOKEN, placed["payment_reference"], 2 * SALE_PRICE_CENTS)
    ok(await anonymous.post("/api/v1/payments/test/callbacks", content=body, headers=signature))
    assert ok(await operator.post(f"/api/v1/packages/{sold}/sale/close", json={"reason": "sold"}))["went_ahead"]
    # The round's other package is still on sale: the one that closed waits to be awarded with it.
    assert ok(await operator.get(f"/api/v1/packages/{sold}/awards"))["runs"] == []
    assert not ok(await operator.post(f"/api/v1/packages/{missed}/sale/close", json={"reason": "too few"}))[
        "went_ahead"
    ]

    async def awarded_alone() -> list[dict[str, Any]] | None:
        return ok(await operator.get(f"/api/v1/packages/{sold}/awards"))["runs"] or None

    (award_run,) = await eventually(awarded_alone, 30)
    assert (award_run["kind"], award_run["requested_by"]) == ("award", "system:deadline")
    assert (await finished_run(operator, award_run["id"]))["package_ids"] == [sold]
