"""Scorecards: fulfilment's outcome events counted once each, and the quality matching reads of a supplier's offers
and quotes capped by its score."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlmodel import select

from flexsupply.contracts.events import SupplierOutcome
from flexsupply.kit import outbox
from flexsupply.kit.db import Database
from flexsupply.suppliers import services
from flexsupply.suppliers.domain.scorecard import OutcomeKind
from flexsupply.suppliers.models import RecordedOutcome
from tests.integration.test_rfqs import open_round, round_rfqs
from tests.integration.test_rfqs import publish as publish_round
from tests.support.catalogue import create_supplier, offer_body, quote_body, rfq_item
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


def outcome(supplier_id: str | UUID, kind: OutcomeKind, units: int) -> SupplierOutcome:
    return SupplierOutcome(
        outcome_id=uuid4(), supplier_id=UUID(str(supplier_id)), kind=kind, units=units, occurred_at=datetime.now(UTC)
    )


async def publish(database_urls: dict[str, str], *events: SupplierOutcome) -> None:
    """As fulfilment publishes them: each in its own transaction of fulfilment's outbox, which its relay sends."""
    from flexsupply.fulfilment.models import OutboxMessage

    database = Database(database_urls["fulfilment"], pooled=False)
    try:
        for event in events:
            async with database.transaction() as session:
                outbox.publish(session, OutboxMessage, event)
    finally:
        await database.dispose()


async def scorecard_once(operator: httpx.AsyncClient, supplier_id: str, total_units: int) -> dict[str, Any]:
    """The supplier's scorecard once it counts `total_units`."""

    async def counted() -> dict[str, Any] | None:
        response = await operator.get(f"/api/v1/suppliers/{supplier_id}/scorecard")
        assert response.status_code == 200, response.text
        card = response.json()
        return card if card["total_units"] == total_units else None

    return await eventually(counted)


async def supplier_with_record(
    operator: httpx.AsyncClient, database_urls: dict[str, str], record: dict[OutcomeKind, int]
) -> dict[str, Any]:
    """A new supplier, once the outcomes given (units per kind) are on its scorecard."""
    created = await create_supplier(operator, capacity=5_000)
    supplier_id = created["supplier"]["id"]
    await publish(database_urls, *(outcome(supplier_id, kind, units) for kind, units in record.items()))
    await scorecard_once(operator, supplier_id, sum(record.values()))
    return created


async def test_a_new_supplier_has_an_empty_scorecard_that_does_not_apply(operator: httpx.AsyncClient):
    supplier_id = (await create_supplier(operator))["supplier"]["id"]

    response = await operator.get(f"/api/v1/suppliers/{supplier_id}/scorecard")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "supplier_id": supplier_id,
        "delivered_on_time_units": 0,
        "delivered_late_units": 0,
        "quality_failed_units": 0,
        "failed_to_deliver_units": 0,
        "case_upheld_units": 0,
        "total_units": 0,
        "quality_score": 100,
        "min_units_on_record": 100,
        "applies": False,
        "updated_at": None,
    }
    assert (await operator.get(f"/api/v1/suppliers/{uuid4()}/scorecard")).status_code == 404


async def test_an_outcome_delivered_twice_counts_once(operator: httpx.AsyncClient, database_urls: dict[str, str]):
    supplier_id = (await create_supplier(operator))["supplier"]["id"]
    late = outcome(supplier_id, "delivered_late", 30)
    on_time = outcome(supplier_id, "delivered_on_time", 70)

    await publish(database_urls, late, late)  # a publisher that retried, or a relay that sent twice
    await publish(database_urls, on_time)
    card = await scorecard_once(operator, supplier_id, 100)

    assert card["delivered_late_units"] == 30
    assert card["delivered_on_time_units"] == 70
    assert card["quality_score"] == 85  # (70 + 30 / 2) / 100
    assert card["applies"] is True
    assert datetime.fromisoformat(card["updated_at"]) > datetime.now(UTC) - timedelta(minutes=5)
    await publish(database_urls, late)
    await publish(database_urls, outcome(supplier_id, "case_upheld", 5))
    card = await scorecard_once(operator, supplier_id, 105)
    assert card["delivered_late_units"] == 30


async def test_the_same_outcome_recorded_at_once_in_two_transactions_counts_once(
    operator: httpx.AsyncClient, database_urls: dict[str, str]
):
    supplier_id = (await create_supplier(operator))["supplier"]["id"]
    event = outcome(supplier_id, "quality_failed", 12)
    database = Database(database_urls["suppliers"], pooled=False)

    async def record() -> bool:
        async with database.transaction() as session:
            return await services.record_outcome(session, event)

    try:
        recorded = await asyncio.gather(record(), record())
    finally:
        await database.dispose()

    assert sorted(recorded) == [False, True]
    card = (await operator.get(f"/api/v1/suppliers/{supplier_id}/scorecard")).json()
    assert card["quality_failed_units"] == 12


async def test_an_outcome_for_an_unknown_supplier_records_nothing(database_urls: dict[str, str]):
    event = outcome(uuid4(), "failed_to_deliver", 500)
    database = Database(database_urls["suppliers"], pooled=False)
    try:
        async with database.transaction() as session:
            assert await services.record_outcome(session, event) is False
        async with database.transaction() as session:
            assert (
                await session.exec(select(RecordedOutcome).where(RecordedOutcome.supplier_id == event.supplier_id))
            ).all() == []
    finally:
        await database.dispose()


async def test_bad_outcomes_lower_the_quality_matching_reads(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    sku = f"scored-{uuid4().hex[:8]}"
    created = await create_supplier(operator)
    supplier_id = created["supplier"]["id"]
    supplier = as_key(created["api_key"]["api_key"])
    offer = await supplier.post("/api/v1/offers", json=offer_body(sku=sku, quality=92))
    assert offer.status_code == 201, offer.text
    needed_by = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    async def quality_matching_reads(min_quality: int = 0) -> list[int]:
        params = {"sku": sku, "needed_by": needed_by, "min_quality": min_quality}
        response = await operator.get("/api/v1/eligible-offers", params=params)
        assert response.status_code == 200, response.text
        return [offer["quality"] for offer in response.json()["offers"]]

    assert await quality_matching_reads() == [92]
    await publish(database_urls, outcome(supplier_id, "quality_failed", 60))
    await scorecard_once(operator, supplier_id, 60)
    assert await quality_matching_reads() == [92]  # 60 units: too few to judge yet

    await publish(database_urls, outcome(supplier_id, "delivered_on_time", 90))
    card = await scorecard_once(operator, supplier_id, 150)

    assert card["quality_score"] == 60 and card["applies"] is True
    assert await quality_matching_reads() == [60]
    assert await quality_matching_reads(min_quality=61) == []
    own = (await supplier.get(f"/api/v1/offers/{offer.json()['id']}")).json()
    assert own["quality"] == 92  # what the supplier declared stays on its offer


async def test_rfqs_and_quotes_go_by_the_quality_after_the_scorecard(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    sku = f"scored-{uuid4().hex[:8]}"
    poor = await supplier_with_record(operator, database_urls, {"delivered_on_time": 70, "failed_to_deliver": 30})
    clean = await create_supplier(operator, capacity=5_000)
    for created in (poor, clean):
        response = await as_key(created["api_key"]["api_key"]).post("/api/v1/offers", json=offer_body(sku=sku))
        assert response.status_code == 201, response.text
    poor_id, clean_id = poor["supplier"]["id"], clean["supplier"]["id"]
    asked_by_offers = open_round([rfq_item(sku, min_quality=80)])
    poor_named = open_round([rfq_item(sku, min_quality=80)], named=[poor_id])

    await publish_round(database_urls, asked_by_offers, poor_named)

    asked = await round_rfqs(operator, asked_by_offers.round_id)
    assert [rfq["supplier_id"] for rfq in asked["rfqs"]] == [clean_id]  # quality 92 declared, 70 effective
    named_rfqs = {
        rfq["supplier_id"]: rfq["rfq_id"] for rfq in (await round_rfqs(operator, poor_named.round_id))["rfqs"]
    }
    assert named_rfqs.keys() == {poor_id, clean_id}  # the clean supplier by its offer, the poor one by name
    rfq_id = named_rfqs[poor_id]
    quote = await as_key(poor["api_key"]["api_key"]).post(
        f"/api/v1/rfqs/{rfq_id}/quotes", json=quote_body(sku=sku, quality=95)
    )
    assert quote.status_code == 201, quote.text
    responses = (await operator.get(f"/api/v1/rfq-rounds/{poor_named.round_id}/responses")).json()
    assert [(q["supplier_id"], q["quality"]) for q in responses["quotes"]] == [(poor_id, 70)]


async def test_a_supplier_reads_its_own_scorecard_and_no_other(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    mine = await supplier_with_record(operator, database_urls, {"delivered_on_time": 10})
    other = await supplier_with_record(operator, database_urls, {"case_upheld": 3})
    client = as_key(mine["api_key"]["api_key"])

    own = await client.get(f"/api/v1/suppliers/{mine['supplier']['id']}/scorecard")
    others = await client.get(f"/api/v1/suppliers/{other['supplier']['id']}/scorecard")

    assert own.status_code == 200 and own.json()["delivered_on_time_units"] == 10
    assert others.status_code == 404
    assert others.headers["content-type"].startswith("application/problem+json")
    assert "case_upheld_units" not in others.text
