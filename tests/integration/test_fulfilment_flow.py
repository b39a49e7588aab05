"""Fulfilment end to end through the API: production orders from an award, suppliers' moves, batches and parcels,
manifests, a supplier failing and the backup taking over with no unit lost or doubled, and after-sales."""

import asyncio
import csv
import io
from typing import Any
from uuid import UUID

import httpx
from sqlmodel import select

from bench.fulfilment.invariants import assert_every_unit_assigned_once, assert_every_unit_assigned_once_or_waiting
from flexsupply.contracts.events import PickupPoint
from flexsupply.fulfilment.models import OutboxMessage
from flexsupply.kit.db import Database
from tests.support.awarded import AwardedSetUp, announce, awarded_package, json_of
from tests.support.waiting import eventually


async def _received(operator: httpx.AsyncClient, setup: AwardedSetUp, matching_url: str) -> dict[str, Any]:
    await announce(matching_url, setup.event)

    async def assigned() -> dict[str, Any] | None:
        response = await operator.get(f"/api/v1/awarded-packages/{setup.package_id}/assignment")
        return response.json() if response.status_code == 200 and response.json()["status"] == "done" else None

    return await eventually(assigned)


async def _production(client: httpx.AsyncClient, package_id: UUID) -> list[dict[str, Any]]:
    return json_of(await client.get("/api/v1/production-orders", params={"package_id": str(package_id)}))


async def test_from_award_to_delivery_with_a_failure_and_a_case(
    operator: httpx.AsyncClient, as_key, database_urls: dict[str, str]
):
    setup = await awarded_package(operator)
    assignment = await _received(operator, setup, database_urls["matching"])
    assert assignment["order_count"] == len(setup.event.orders)
    assert assignment["split_orders"] == 0  # one supplier per region: no order needs splitting

    north, south, backup = (as_key(setup.keys[role]) for role in ("north", "south", "backup"))
    [mine] = await _production(north, setup.package_id)
    assert (mine["region"], mine["quantity"], mine["status"]) == ("ningbo", 30, "issued")
    assert await _production(backup, setup.package_id) == []  # a supplier sees only its own
    assert len(await _production(operator, setup.package_id)) == 2
    assert (await south.get(f"/api/v1/production-orders/{mine['id']}")).status_code == 404

    # An illegal move is a 409 that changes nothing.
    url = f"/api/v1/production-orders/{mine['id']}"
    assert (await north.post(f"{url}/moves", json={"step": "start"})).status_code == 409
    assert json_of(await north.post(f"{url}/moves", json={"step": "accept"}))["status"] == "accepted"
    assert (
        await north.post(f"{url}/batches", json={"quantity": 5, "lot_number": "L0", "quality_passed": True})
    ).status_code == 409
    assert json_of(await north.post(f"{url}/moves", json={"step": "start"}))["status"] == "in_production"

    # A batch that failed its check is an exception staff see; a passed one gets its parcels planned at once.
    rejected = json_of(
        await north.post(f"{url}/batches", json={"quantity": 4, "lot_number": "L1", "quality_passed": False}), 201
    )
    assert rejected["status"] == "rejected"
    batch_body = {"quantity": 12, "lot_number": "L2", "quality_passed": True}
    headers = {"Idempotency-Key": f"batch-{mine['id']}"}
    batch = json_of(await north.post(f"{url}/batches", json=batch_body, headers=headers), 201)
    again = await north.post(f"{url}/batches", json=batch_body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == batch["id"]  # a retry reports one batch
    assert batch["status"] == "ready" and batch["shipment_count"] > 0
    too_many = await north.post(f"{url}/batches", json={"quantity": 19, "lot_number": "L3", "quality_passed": True})
    assert too_many.status_code == 400 and "18 left" in too_many.text
    exceptions = json_of(await operator.get("/api/v1/exceptions", params={"package_id": str(setup.package_id)}))
    assert [e["kind"] for e in exceptions] == ["quality_failed"]

    # The manifest: exactly the batch's units, to whole orders except at most one, the supplier's own only.
    manifest = await north.get(f"{url}/manifest.csv", params={"batch_id": batch["id"]})
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(manifest.text)))
    assert sum(int(row["quantity"]) for row in rows) == 12
    assert {row["region"] for row in rows} == {"ningbo"}
    assert all(row["address"] and row["recipient"] for row in rows)
    assert (await south.get(f"{url}/manifest.csv")).status_code == 404
    assert json_of(await north.get(f"{url}/manifest", params={"batch_id": batch["id"]}))[0]["phone"].startswith("+86")

    # Half the parcels ship (all or none in one request), one is delivered.
    parcels = json_of(await north.get(f"{url}/shipments", params={"batch_id": batch["id"]}))
    shipping = parcels[: len(parcels) // 2]
    moves = [
        {"shipment_id": p["id"], "step": "ship", "carrier": "SF Express", "tracking_number": f"SF{i:06d}"}
        for i, p in enumerate(shipping)
    ]
    assert (await south.post("/api/v1/shipments/moves", json={"moves": moves})).status_code == 404
    shipped = json_of(await north.post("/api/v1/shipments/moves", json={"moves": moves}))
    assert {p["status"] for p in shipped} == {"shipped"}
    delivered = json_of(await north.post(f"/api/v1/shipments/{shipping[0]['id']}/moves", json={"step": "deliver"}))
    assert delivered["status"] == "delivered"
    assert (
        await north.post(f"/api/v1/shipments/{parcels[-1]['id']}/moves", json={"step": "deliver"})
    ).status_code == 409
    shipped_units = sum(p["quantity"] for p in shipping)

    # The supplier fails: its unshipped remainder goes to the backup, with no unit lost or doubled.
    failure = json_of(await operator.post(f"{url}/failure", json={"reason": "kiln broke down"}), 202)
    assert failure["units"] == 30 - shipped_units
    assert (await operator.post(f"{url}/failure", json={"reason": "again"})).status_code == 409

    async def taken_over() -> dict[str, Any] | None:
        body = json_of(await operator.get(f"/api/v1/failures/{failure['id']}"))
        return body if body["status"] != "queued" else None

    finished = await eventually(taken_over, timeout_seconds=30)
    assert finished["status"] == "done", finished
    [backup_production] = await _production(backup, setup.package_id)
    assert (backup_production["region"], backup_production["quantity"]) == ("ningbo", 30 - shipped_units)
    assert backup_production["failure_id"] == failure["id"]
    # Below the backup's minimum order of 40: a reserve is made whatever its size.
    assert json_of(await north.get(url))["status"] == "failed"
    await assert_every_unit_assigned_once(database_urls["fulfilment"], setup.package_id)

    # Buyers whose units moved are told; their parcels already shipped stay.
    views = [json_of(await operator.get(f"/api/v1/buyer-orders/{token}")) for token in setup.tokens]
    told = [view for view in views if view["notices"]]
    assert told and all("another supplier" in view["notices"][0]["message"] for view in told)
    shipped_to = {p["order_id"] for p in shipping}
    assert all(view["order_id"] not in shipped_to or view["parcels"] for view in views)

    # The backup makes and ships; a buyer opens a case, staff resend; the supplier's outcomes are published.
    burl = f"/api/v1/production-orders/{backup_production['id']}"
    for step in ("accept", "start"):
        json_of(await backup.post(f"{burl}/moves", json={"step": step}))
    json_of(
        await backup.post(
            f"{burl}/batches",
            json={"quantity": backup_production["quantity"], "lot_number": "B1", "quality_passed": True},
        ),
        201,
    )
    backup_parcels = json_of(await backup.get(f"{burl}/shipments"))
    moves = [
        {"shipment_id": p["id"], "step": "ship", "carrier": "YTO", "tracking_number": f"YT{i:06d}"}
        for i, p in enumerate(backup_parcels)
    ]
    json_of(await backup.post("/api/v1/shipments/moves", json={"moves": moves}))
    assert json_of(await backup.get(burl))["status"] == "shipped"

    token = next(t for t, view in zip(setup.tokens, views, strict=True) if view["notices"])
    opened = json_of(
        await operator.post(f"/api/v1/buyer-orders/{token}/cases", json={"kind": "damaged", "description": "crushed"}),
        201,
    )
    assert [c["status"] for c in opened["cases"]] == ["open"]
    [case] = json_of(await operator.get("/api/v1/cases", params={"package_id": str(setup.package_id)}))
    resolved = json_of(await operator.post(f"/api/v1/cases/{case['id']}/resolution", json={"resolution": "resend"}))
    assert resolved["status"] == "resolved"
    assert (
        await operator.post(f"/api/v1/cases/{case['id']}/resolution", json={"resolution": "reject"})
    ).status_code == 409
    view = json_of(await operator.get(f"/api/v1/buyer-orders/{token}"))
    assert len(view["parcels"]) >= 2 and view["parcels"][-1]["status"] == "planned"  # the resend

    database = Database(database_urls["fulfilment"], pooled=False)
    try:
        async with database.transaction() as session:
            outcomes = [
                row.payload
                for row in (
                    await session.exec(
                        select(OutboxMessage).where(OutboxMessage.event_name == "fulfilment.supplier_outcome")
                    )
                ).all()
            ]
    finally:
        await database.dispose()
    kinds = {(o["supplier_id"], o["kind"]) for o in outcomes}
    north_id, backup_id = str(setup.supplier_ids["north"]), str(setup.supplier_ids["backup"])
    assert {(north_id, "quality_failed"), (north_id, "failed_to_deliver"), (north_id, "delivered_on_time")} <= kinds
    assert (backup_id, "case_upheld") in kinds


async def test_a_failure_while_a_batch_ships_loses_and_doubles_nothing(
    operator: httpx.AsyncClient, as_key, database_urls: dict[str, str]
):
    setup = await awarded_package(operator, ningbo=40, shanghai=10)
    await _received(operator, setup, database_urls["matching"])
    north = as_key(setup.keys["north"])
    [mine] = await _production(north, setup.package_id)
    url = f"/api/v1/production-orders/{mine['id']}"
    for step in ("accept", "start"):
        json_of(await north.post(f"{url}/moves", json={"step": step}))
    batch = json_of(
        await north.post(f"{url}/batches", json={"quantity": 20, "lot_number": "L", "quality_passed": True}), 201
    )
    parcels = json_of(await north.get(f"{url}/shipments", params={"batch_id": batch["id"]}))
    moves = [
        {"shipment_id": p["id"], "step": "ship", "carrier": "SF", "tracking_number": f"T{i}"}
        for i, p in enumerate(parcels)
    ]

    # The supplier ships while staff mark it failed, and the failure is sent twice: one order of events wins.
    ship, fail, fail_again = await asyncio.gather(
        north.post("/api/v1/shipments/moves", json={"moves": moves}),
        operator.post(f"{url}/failure", json={"reason": "closed by the authorities"}),
        operator.post(f"{url}/failure", json={"reason": "closed by the authorities"}),
    )
    assert sorted([fail.status_code, fail_again.status_code]) == [202, 409]
    failure = (fail if fail.status_code == 202 else fail_again).json()
    if ship.status_code == 200:  # shipped first: the batch stays with the failed supplier
        assert failure["units"] == 20
    else:  # failed first: its parcels were cancelled and cannot ship
        assert ship.status_code == 409 and failure["units"] == 40

    async def finished() -> dict[str, Any] | None:
        body = json_of(await operator.get(f"/api/v1/failures/{failure['id']}"))
        return body if body["status"] != "queued" else None

    assert (await eventually(finished, timeout_seconds=30))["status"] == "done"
    backup_orders = await _production(as_key(setup.keys["backup"]), setup.package_id)
    assert sum(p["quantity"] for p in backup_orders) == failure["units"]
    await assert_every_unit_assigned_once(database_urls["fulfilment"], setup.package_id)


async def test_a_buyer_link_and_the_api_boundaries(operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key):
    assert (await anonymous.get("/api/v1/buyer-orders/not-a-real-token")).status_code == 404
    assert (await anonymous.get("/api/v1/production-orders")).status_code == 401
    assert (await anonymous.get("/api/v1/exceptions")).status_code == 401
    setup = await awarded_package(operator)
    supplier = as_key(setup.keys["north"])
    assert (await supplier.get("/api/v1/exceptions")).status_code == 403
    assert (await supplier.get("/api/v1/cases")).status_code == 403
    assert (await supplier.get("/api/v1/awarded-packages")).status_code == 403
    bad = await operator.post("/api/v1/buyer-orders/whatever/cases", json={"kind": "broken-ish", "description": "x"})
    assert bad.status_code == 400


async def _failed(operator: httpx.AsyncClient, production_order_id: str, reason: str = "closed") -> dict[str, Any]:
    failure = json_of(
        await operator.post(f"/api/v1/production-orders/{production_order_id}/failure", json={"reason": reason}), 202
    )

    async def finished() -> dict[str, Any] | None:
        body = json_of(await operator.get(f"/api/v1/failures/{failure['id']}"))
        return body if body["status"] != "queued" else None

    return await eventually(finished, timeout_seconds=30)


async def test_failures_one_after_another_use_the_reserve_until_it_is_gone(
    operator: httpx.AsyncClient, as_key, database_urls: dict[str, str]
):
    setup = await awarded_package(operator, ningbo=30, shanghai=20, reserve=40)
    await _received(operator, setup, database_urls["matching"])
    [north] = await _production(as_key(setup.keys["north"]), setup.package_id)
    [south] = await _production(as_key(setup.keys["south"]), setup.package_id)
    backup = as_key(setup.keys["backup"])

    # Both awarded suppliers fail at once: the reserve of 40 takes one failure whole (30 or 20 units); what is left
    # of it cannot make the other's, and a take-over is whole or not at all.
    first, second = await asyncio.gather(_failed(operator, north["id"]), _failed(operator, south["id"]))
    assert sorted([first["status"], second["status"]]) == ["done", "failed"]
    done, short = (first, second) if first["status"] == "done" else (second, first)
    backups = await _production(backup, setup.package_id)
    assert sum(p["quantity"] for p in backups) == done["units"]
    assert "no backup" in short["outcome"]
    await assert_every_unit_assigned_once_or_waiting(database_urls["fulfilment"], setup.package_id)

    # Buyers left waiting are told now; staff may try again (still nothing to take it: it fails again).
    waiting = [
        view
        for token in setup.tokens
        if (view := json_of(await operator.get(f"/api/v1/buyer-orders/{token}")))["notices"]
        and "no backup could take them over" in view["notices"][-1]["message"]
    ]
    assert waiting
    again = json_of(await operator.post(f"/api/v1/failures/{short['id']}/retry"), 202)
    assert again["status"] == "queued"

    async def failed_again() -> dict[str, Any] | None:
        body = json_of(await operator.get(f"/api/v1/failures/{short['id']}"))
        return body if body["status"] == "failed" else None

    await eventually(failed_again, timeout_seconds=30)
    assert sum(p["quantity"] for p in await _production(backup, setup.package_id)) == done["units"]
    assert (await operator.post(f"/api/v1/failures/{done['id']}/retry")).status_code == 409


async def test_a_resend_waiting_when_its_supplier_fails_reopens_its_case(
    operator: httpx.AsyncClient, as_key, database_urls: dict[str, str]
):
    setup = await awarded_package(operator)
    await _received(operator, setup, database_urls["matching"])
    north = as_key(setup.keys["north"])
    [mine] = await _production(north, setup.package_id)
    url = f"/api/v1/production-orders/{mine['id']}"
    for step in ("accept", "start"):
        json_of(await north.post(f"{url}/moves", json={"step": step}))
    batch = json_of(
        await north.post(f"{url}/batches", json={"quantity": 5, "lot_number": "L", "quality_passed": True}), 201
    )
    parcels = json_of(await north.get(f"{url}/shipments", params={"batch_id": batch["id"]}))
    moves = [
        {"shipment_id": p["id"], "step": "ship", "carrier": "SF", "tracking_number": f"T{i}"}
        for i, p in enumerate(parcels)
    ]
    json_of(await north.post("/api/v1/shipments/moves", json={"moves": moves}))
    again = json_of(await north.post("/api/v1/shipments/moves", json={"moves": moves}))  # a retry: no 409
    assert {p["status"] for p in again} == {"shipped"}
    views = {t: json_of(await operator.get(f"/api/v1/buyer-orders/{t}")) for t in setup.tokens}
    token = next(t for t, view in views.items() if view["parcels"])
    json_of(
        await operator.post(f"/api/v1/buyer-orders/{token}/cases", json={"kind": "wrong", "description": "rye"}), 201
    )
    [case] = json_of(await operator.get("/api/v1/cases", params={"package_id": str(setup.package_id)}))
    json_of(await operator.post(f"/api/v1/cases/{case['id']}/resolution", json={"resolution": "resend"}))

    await _failed(operator, mine["id"])

    [reopened] = json_of(await operator.get("/api/v1/cases", params={"package_id": str(setup.package_id)}))
    assert (reopened["status"], reopened["resolution"]) == ("open", None)
    view = json_of(await operator.get(f"/api/v1/buyer-orders/{token}"))
    assert all(parcel["status"] != "cancelled" for parcel in view["parcels"])  # the cancelled resend is not shown
    # Resent now from whoever makes the order's units: the backup, not the failed supplier.
    resolved = json_of(await operator.post(f"/api/v1/cases/{case['id']}/resolution", json={"resolution": "resend"}))
    assert resolved["status"] == "resolved"
    [backup_production] = await _production(as_key(setup.keys["backup"]), setup.package_id)
    resends = json_of(await operator.get(f"/api/v1/production-orders/{backup_production['id']}/shipments"))
    assert any(p["case_id"] == case["id"] for p in resends)


async def test_text_with_control_characters_is_refused_not_stored(operator: httpx.AsyncClient, as_key, database_urls):
    setup = await awarded_package(operator)
    await _received(operator, setup, database_urls["matching"])
    north = as_key(setup.keys["north"])
    [mine] = await _production(north, setup.package_id)
    for step in ("accept", "start"):
        json_of(await north.post(f"/api/v1/production-orders/{mine['id']}/moves", json={"step": step}))
    bad = await north.post(
        f"/api/v1/production-orders/{mine['id']}/batches",
        json={"quantity": 1, "lot_number": "L\x00", "quality_passed": True},
    )
    assert bad.status_code == 400 and "lot_number" in bad.text
    bad_case = await operator.post(
        f"/api/v1/buyer-orders/{setup.tokens[0]}/cases", json={"kind": "late", "description": "where\x00"}
    )
    assert bad_case.status_code == 400


async def test_group_pickup_sends_a_region_s_parcels_to_its_pickup_point(
    operator: httpx.AsyncClient, as_key, database_urls: dict[str, str]
):
    setup = await awarded_package(operator)
    point = PickupPoint(name="Li's bakery", address="12 Harbour Road, Ningbo", phone="+8613900000001")
    setup.event = setup.event.model_copy(update={"pickup_points": {"ningbo": point}})
    await _received(operator, setup, database_urls["matching"])
    north, south = as_key(setup.keys["north"]), as_key(setup.keys["south"])
    for client, units in ((north, 30), (south, 20)):
        [mine] = await _production(client, setup.package_id)
        for step in ("accept", "start"):
            json_of(await client.post(f"/api/v1/production-orders/{mine['id']}/moves", json={"step": step}))
        body = {"quantity": units, "lot_number": "P1", "quality_passed": True}
        json_of(await client.post(f"/api/v1/production-orders/{mine['id']}/batches", json=body), 201)
        rows = json_of(await client.get(f"/api/v1/production-orders/{mine['id']}/manifest"))
        if mine["region"] == "ningbo":  # to the point, each parcel still named for its buyer
            assert {(r["address"], r["phone"]) for r in rows} == {(point.address, point.phone)}
            assert all(r["recipient"].startswith("Li's bakery (for Buyer ") for r in rows)
        else:  # shanghai has no pickup point: to each door
            assert len({r["address"] for r in rows}) == len(rows)
    ningbo_token = next(
        token for token, order in zip(setup.tokens, setup.event.orders, strict=True) if order.region == "ningbo"
    )
    view = json_of(await operator.get(f"/api/v1/buyer-orders/{ningbo_token}"))
    assert view["pickup_point"]["address"] == point.address
