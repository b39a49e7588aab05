"""Requests for quotation, the supplier side: a round matching opens becomes RFQs, webhooks, quotes and declines."""

import asyncio
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from flexsupply.clients.suppliers import SuppliersClient
from flexsupply.contracts.events import RfqItem, RfqRoundOpened
from flexsupply.kit import outbox
from flexsupply.kit.db import Database
from tests.integration.conftest import OPERATOR_TOKEN
from tests.support.catalogue import create_supplier, offer_body, quote_body, rfq_item
from tests.support.fake_supplier import FakeSupplier, ReceivedRequest, fake_supplier_server
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


def open_round(
    items: list[RfqItem], named: Iterable[UUID | str] = (), reply_by: datetime | None = None
) -> RfqRoundOpened:
    return RfqRoundOpened(
        round_id=uuid4(),
        reply_by=reply_by or datetime.now(UTC) + timedelta(days=2),
        items=items,
        named_supplier_ids=[UUID(str(supplier_id)) for supplier_id in named],
    )


async def publish(database_urls: dict[str, str], *events: RfqRoundOpened) -> None:
    """As matching publishes it: into matching's outbox, which its relay (in the running app) sends on."""
    from flexsupply.matching.models import OutboxMessage

    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            for event in events:
                outbox.publish(session, OutboxMessage, event)
    finally:
        await database.dispose()


async def round_rfqs(operator: httpx.AsyncClient, round_id: UUID) -> dict[str, Any]:
    """The round once the suppliers service has handled its event."""

    async def opened() -> dict[str, Any] | None:
        response = await operator.get(f"/api/v1/rfq-rounds/{round_id}")
        return response.json() if response.status_code == 200 else None

    return await eventually(opened)


async def supplier_with_offer(operator: httpx.AsyncClient, as_key: KeyClient, **offer: Any) -> dict[str, Any]:
    """A supplier with one offer; returns its registration (supplier, api_key, webhook_secret) and a client."""
    created = await create_supplier(operator, **offer.pop("supplier", {}))
    client = as_key(created["api_key"]["api_key"])
    response = await client.post("/api/v1/offers", json=offer_body(**offer))
    assert response.status_code == 201, response.text
    return created | {"client": client}


async def one_rfq(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str], **round_changes: Any
) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    """A supplier named in a round of one item (sku `sku-<hex>`), its client and its RFQ as it reads it."""
    created = await create_supplier(operator, capacity=900)
    supplier = as_key(created["api_key"]["api_key"])
    event = open_round([rfq_item(f"sku-{uuid4().hex[:8]}")], named=[created["supplier"]["id"]], **round_changes)
    await publish(database_urls, event)
    rfq_id = (await round_rfqs(operator, event.round_id))["rfqs"][0]["rfq_id"]
    rfq = (await supplier.get(f"/api/v1/rfqs/{rfq_id}")).json()
    return supplier, rfq


def rfq_webhooks(fake: FakeSupplier, path: str) -> list[ReceivedRequest]:
    return [
        request
        for request in fake.received
        if request.path == path and json.loads(request.body)["type"] == "rfq.created"
    ]


async def test_a_round_reaches_eligible_and_named_suppliers_as_signed_webhooks(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    sku, unasked_sku = f"candle-{uuid4().hex[:6]}", f"soap-{uuid4().hex[:6]}"
    with fake_supplier_server() as fake:

        async def supplier(name: str, **offer: Any) -> dict[str, Any]:
            return await supplier_with_offer(operator, as_key, supplier={"webhook_url": f"{fake.url}/{name}"}, **offer)

        eligible = await supplier("eligible", sku=sku, quality=92)
        await supplier("poor", sku=sku, quality=60)
        await supplier("slow", sku=sku, lead_time_days=30)
        await supplier("elsewhere", sku=sku, shipping_cents={"shanghai": 600})
        await supplier("other-sku", sku=f"other-{sku}")
        named = await create_supplier(operator, webhook_url=f"{fake.url}/named")
        event = open_round(
            [rfq_item(sku, min_quality=80), rfq_item(unasked_sku)],
            named=[named["supplier"]["id"], uuid4()],  # a supplier that does not exist is skipped
        )

        await publish(database_urls, event)

        found = await round_rfqs(operator, event.round_id)
        rfq_of = {rfq["supplier_id"]: rfq for rfq in found["rfqs"]}
        assert rfq_of.keys() == {eligible["supplier"]["id"], named["supplier"]["id"]}
        assert all(rfq["status"] == "open" and rfq["answered_at"] is None for rfq in found["rfqs"])

        async def both_sent() -> bool:
            return len(rfq_webhooks(fake, "/webhooks/eligible")) == len(rfq_webhooks(fake, "/webhooks/named")) == 1

        await eventually(both_sent)
        for created, path, skus in [
            (eligible, "/webhooks/eligible", [sku]),  # asked about the item it has an eligible offer for
            (named, "/webhooks/named", [sku, unasked_sku]),  # named: asked about every item
        ]:
            request = rfq_webhooks(fake, path)[0]
            payload = Webhook(created["webhook_secret"]).verify(request.body, request.headers)
            rfq = payload["data"]
            assert rfq["id"] == rfq_of[created["supplier"]["id"]]["rfq_id"]
            assert rfq["round_id"] == str(event.round_id)
            assert datetime.fromisoformat(rfq["reply_by"]) == event.reply_by
            assert [item["sku"] for item in rfq["items"]] == skus
            assert rfq["items"][0]["quantities"] == {"ningbo": 200}
        # Only the RFQs' suppliers were written to (what registration sent aside).
        sent_to = {r.path for r in fake.received if json.loads(r.body)["type"] == "rfq.created"}
        assert sent_to == {"/webhooks/eligible", "/webhooks/named"}


async def test_a_redelivered_round_creates_nothing_twice(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    from flexsupply.suppliers import services

    sku = f"bread-{uuid4().hex[:6]}"
    with fake_supplier_server() as fake:
        created = await supplier_with_offer(operator, as_key, sku=sku, supplier={"webhook_url": fake.url})
        event = open_round([rfq_item(sku)])

        await publish(database_urls, event, event)  # delivered twice, perhaps at once

        found = await round_rfqs(operator, event.round_id)

        async def sent() -> list[ReceivedRequest]:
            return rfq_webhooks(fake, "/webhooks")

        await eventually(sent)
        # However late a copy arrives, the round is recorded and the copy changes nothing.
        database = Database(database_urls["suppliers"], pooled=False)
        try:
            async with database.transaction() as session:
                assert await services.open_rfq_round(session, event) == 0
        finally:
            await database.dispose()
        await asyncio.sleep(1.0)  # a copy that lost a race to the first is retried after a second
        assert len(rfq_webhooks(fake, "/webhooks")) == 1

    assert [rfq["supplier_id"] for rfq in found["rfqs"]] == [created["supplier"]["id"]]
    assert len((await round_rfqs(operator, event.round_id))["rfqs"]) == 1
    assert len((await created["client"].get("/api/v1/rfqs")).json()) == 1


async def test_a_supplier_sees_and_answers_only_its_own_rfqs(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    mine, theirs = await create_supplier(operator), await create_supplier(operator)
    me, them = as_key(mine["api_key"]["api_key"]), as_key(theirs["api_key"]["api_key"])
    sku = f"jam-{uuid4().hex[:6]}"
    event = open_round([rfq_item(sku)], named=[mine["supplier"]["id"], theirs["supplier"]["id"]])
    await publish(database_urls, event)
    rfq_of = {rfq["supplier_id"]: rfq["rfq_id"] for rfq in (await round_rfqs(operator, event.round_id))["rfqs"]}
    my_rfq, their_rfq = rfq_of[mine["supplier"]["id"]], rfq_of[theirs["supplier"]["id"]]

    listed = (await me.get("/api/v1/rfqs")).json()
    assert [rfq["id"] for rfq in listed] == [my_rfq]
    assert (await me.get(f"/api/v1/rfqs/{my_rfq}")).status_code == 200
    assert (await me.get(f"/api/v1/rfqs/{their_rfq}")).status_code == 404
    assert (await me.post(f"/api/v1/rfqs/{their_rfq}/quotes", json=quote_body(sku=sku))).status_code == 404
    assert (await me.post(f"/api/v1/rfqs/{their_rfq}/decline", json={"reason": "busy"})).status_code == 404
    assert (await operator.get("/api/v1/rfqs")).status_code == 403  # an inbox is a supplier's
    untouched = (await them.get(f"/api/v1/rfqs/{their_rfq}")).json()
    assert (untouched["status"], untouched["quotes"], untouched["decline"]) == ("open", [], None)


async def test_the_inbox_is_newest_first_filtered_by_status_and_paginated(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    created = await create_supplier(operator)
    supplier = as_key(created["api_key"]["api_key"])
    me = [created["supplier"]["id"]]
    rounds = [
        open_round([rfq_item("inbox-a")], named=me),
        open_round([rfq_item("inbox-b")], named=me),
        open_round([rfq_item("inbox-c")], named=me, reply_by=datetime.now(UTC) - timedelta(minutes=1)),
    ]
    ids = []
    for event in rounds:  # one after the other, so that they are created in this order
        await publish(database_urls, event)
        ids.append((await round_rfqs(operator, event.round_id))["rfqs"][0]["rfq_id"])
    answered = await supplier.post(f"/api/v1/rfqs/{ids[0]}/decline", json={"reason": "fully booked"})
    assert answered.status_code == 200, answered.text

    async def listed(**params: Any) -> list[str]:
        response = await supplier.get("/api/v1/rfqs", params=params)
        assert response.status_code == 200, response.text
        return [rfq["id"] for rfq in response.json()]

    assert await listed() == ids[::-1]
    assert await listed(status="open") == [ids[1]]
    assert await listed(status="answered") == [ids[0]]
    assert await listed(status="expired") == [ids[2]]
    assert await listed(limit=1, offset=1) == [ids[1]]
    for bad in [{"status": "pending"}, {"limit": 0}, {"limit": 501}, {"offset": -1}]:
        response = await supplier.get("/api/v1/rfqs", params=bad)
        assert response.status_code == 400, (bad, response.text)
        assert next(iter(bad)) in response.json()["detail"]


BAD_QUOTES: list[tuple[str, dict[str, Any]]] = [
    ("valid_until", {"valid_until": None}),
    ("valid_until", {"valid_until": "2020-01-01T00:00:00Z"}),
    ("valid_until", {"valid_until": "2030-01-01T00:00:00"}),  # naive
    ("capacity", {"moq": 700}),
    ("price_tiers", {"price_tiers": []}),
    ("fixed_cents", {"fixed_cents": 1.5}),
    ("shipping_cents", {"shipping_cents": {"chengdu": 100}}),  # known, but not the supplier's region
    ("shipping_cents", {"shipping_cents": {"atlantis": 100}}),  # unknown
    ("sku", {"sku": "not-asked"}),
]


async def test_a_bad_quote_gets_a_400_naming_the_field_and_stores_nothing(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    supplier, rfq = await one_rfq(operator, as_key, database_urls)
    sku = rfq["items"][0]["sku"]

    for field, changes in BAD_QUOTES:
        body = {k: v for k, v in (quote_body(sku=sku) | changes).items() if v is not None}
        response = await supplier.post(f"/api/v1/rfqs/{rfq['id']}/quotes", json=body)
        assert response.status_code == 400, (field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [error["field"] for error in response.json()["errors"]], (field, response.json())

    stored = (await supplier.get(f"/api/v1/rfqs/{rfq['id']}")).json()
    assert (stored["status"], stored["quotes"]) == ("open", [])


async def test_answers_after_the_deadline_are_a_conflict_naming_it(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    reply_by = datetime.now(UTC) - timedelta(minutes=5)  # the event arrived after its deadline
    supplier, rfq = await one_rfq(operator, as_key, database_urls, reply_by=reply_by)
    assert rfq["status"] == "expired"

    quoted = await supplier.post(f"/api/v1/rfqs/{rfq['id']}/quotes", json=quote_body(sku=rfq["items"][0]["sku"]))
    declined = await supplier.post(f"/api/v1/rfqs/{rfq['id']}/decline", json={"reason": "too late anyway"})

    for response in (quoted, declined):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert reply_by.isoformat() in response.json()["detail"]
    stored = (await supplier.get(f"/api/v1/rfqs/{rfq['id']}")).json()
    assert (stored["status"], stored["quotes"], stored["decline"], stored["answered_at"]) == ("expired", [], None, None)


async def test_a_new_quote_supersedes_the_last_for_its_sku_and_is_replayed_by_its_key(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    supplier, rfq = await one_rfq(operator, as_key, database_urls)
    path, sku = f"/api/v1/rfqs/{rfq['id']}/quotes", rfq["items"][0]["sku"]
    headers = {"idempotency-key": f"quote-{uuid4()}"}

    first = await supplier.post(path, json=quote_body(sku=sku))
    second = await supplier.post(path, json=quote_body(sku=sku))
    assert (first.status_code, second.status_code) == (201, 201)  # no key: two quotes, the second supersedes

    body = quote_body(sku=sku, moq=150)
    newest = await supplier.post(path, json=body, headers=headers)
    repeat = await supplier.post(path, json=body, headers=headers)
    assert (newest.status_code, repeat.status_code) == (201, 200)
    assert repeat.headers["idempotent-replayed"] == "true" and repeat.json() == newest.json()
    reused = await supplier.post(path, json=body | {"moq": 160}, headers=headers)
    assert reused.status_code == 422

    stored = (await supplier.get(f"/api/v1/rfqs/{rfq['id']}")).json()
    assert stored["status"] == "answered" and stored["answered_at"] is not None
    assert [q["id"] for q in stored["quotes"]] == [newest.json()["id"], second.json()["id"], first.json()["id"]]
    assert [q["status"] for q in stored["quotes"]] == ["current", "superseded", "superseded"]
    assert stored["quotes"][0]["moq"] == 150 and stored["quotes"][1]["replaced_at"] is not None


async def test_declining_withdraws_quotes_and_quoting_withdraws_the_decline(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    supplier, rfq = await one_rfq(operator, as_key, database_urls)
    rfq_path, sku = f"/api/v1/rfqs/{rfq['id']}", rfq["items"][0]["sku"]
    for bad in [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}]:
        response = await supplier.post(f"{rfq_path}/decline", json=bad)
        assert response.status_code == 400, (bad, response.text)
        assert "reason" in [error["field"] for error in response.json()["errors"]]
    quote = (await supplier.post(f"{rfq_path}/quotes", json=quote_body(sku=sku))).json()

    declined = await supplier.post(f"{rfq_path}/decline", json={"reason": "  The oven is booked until March.  "})

    assert declined.status_code == 200, declined.text
    answer = declined.json()
    assert answer["status"] == "answered"
    assert answer["decline"]["reason"] == "The oven is booked until March."
    assert [(q["id"], q["status"]) for q in answer["quotes"]] == [(quote["id"], "withdrawn")]

    requoted = await supplier.post(f"{rfq_path}/quotes", json=quote_body(sku=sku))
    assert requoted.status_code == 201
    after = (await supplier.get(rfq_path)).json()
    assert after["decline"] is None
    assert [q["status"] for q in after["quotes"]] == ["current", "withdrawn"]


async def test_the_round_responses_hold_current_quotes_declines_and_capacities(
    app: Any, operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    sku = f"cake-{uuid4().hex[:6]}"
    quoting = await supplier_with_offer(operator, as_key, sku=sku, supplier={"capacity": 900})
    declining = await supplier_with_offer(operator, as_key, sku=sku, supplier={"capacity": 400})
    lapsing = await supplier_with_offer(operator, as_key, sku=sku)
    silent = await create_supplier(operator, capacity=50)
    event = open_round([rfq_item(sku)], named=[silent["supplier"]["id"]])
    await publish(database_urls, event)
    rfq_of = {rfq["supplier_id"]: rfq["rfq_id"] for rfq in (await round_rfqs(operator, event.round_id))["rfqs"]}

    def quotes_path(created: dict[str, Any]) -> str:
        return f"/api/v1/rfqs/{rfq_of[created['supplier']['id']]}/quotes"

    await quoting["client"].post(quotes_path(quoting), json=quote_body(sku=sku, moq=300))
    current = (await quoting["client"].post(quotes_path(quoting), json=quote_body(sku=sku, moq=200))).json()
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    lapsed = await lapsing["client"].post(quotes_path(lapsing), json=quote_body(sku=sku, valid_until=soon))
    assert lapsed.status_code == 201, lapsed.text
    declined = await declining["client"].post(
        f"/api/v1/rfqs/{rfq_of[declining['supplier']['id']]}/decline", json={"reason": "no capacity"}
    )
    assert declined.status_code == 200
    await asyncio.sleep(1.6)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"authorization": f"Bearer {OPERATOR_TOKEN}"},
    ) as http:
        client = SuppliersClient(http)
        responses = await client.round_responses(event.round_id)
        rfqs = await client.round_rfqs(event.round_id)

    assert responses.round_id == event.round_id
    assert [(str(q.id), str(q.supplier_id), q.moq) for q in responses.quotes] == [
        (current["id"], quoting["supplier"]["id"], 200)
    ]
    assert responses.quotes[0].valid_until is not None and responses.quotes[0].price_tiers[1].unit_cents == 3500
    assert [str(s) for s in responses.declined_supplier_ids] == [declining["supplier"]["id"]]
    capacities = {str(s.id): s.capacity for s in responses.suppliers}
    assert capacities == {
        quoting["supplier"]["id"]: 900,
        declining["supplier"]["id"]: 400,
        lapsing["supplier"]["id"]: None,
        silent["supplier"]["id"]: 50,
    }
    status_of = {str(rfq.supplier_id): (rfq.status, rfq.declined, rfq.answered_at is not None) for rfq in rfqs.rfqs}
    assert status_of == {
        quoting["supplier"]["id"]: ("answered", False, True),
        declining["supplier"]["id"]: ("answered", True, True),
        lapsing["supplier"]["id"]: ("answered", False, True),
        silent["supplier"]["id"]: ("open", False, False),
    }
    assert rfqs.reply_by == event.reply_by
    assert (await operator.get(f"/api/v1/rfq-rounds/{uuid4()}/responses")).status_code == 404


ROUND_PATHS = ["/api/v1/rfq-rounds/{round_id}", "/api/v1/rfq-rounds/{round_id}/responses"]


@pytest.mark.parametrize("path", ROUND_PATHS)
async def test_round_endpoints_refuse_suppliers_and_strangers(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient, path: str
):
    created = await create_supplier(operator)
    supplier = as_key(created["api_key"]["api_key"])
    url = path.format(round_id=uuid4())
    assert (await supplier.get(url)).status_code == 403
    assert (await anonymous.get(url)).status_code == 401
    assert (await operator.get(url)).status_code == 404  # allowed, but no such round


async def test_a_round_of_200_eligible_suppliers_opens_in_a_few_statements(
    database_urls: dict[str, str],
):
    from flexsupply.suppliers import services
    from flexsupply.suppliers.models import Offer, Rfq, Supplier

    sku = f"lamp-{uuid4().hex[:6]}"
    database = Database(database_urls["suppliers"], pooled=False)
    statements: list[str] = []

    def count(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    try:
        async with database.sessions() as session:
            transaction = await session.begin()
            suppliers = [
                Supplier(
                    name=f"Bench {index}",
                    contact_name="A",
                    contact_email="a@example.com",
                    regions=["ningbo"],
                    webhook_url="http://127.0.0.1:9/unused",
                    webhook_secret="whsec_" + "A" * 43 + "=",
                )
                for index in range(200)
            ]
            session.add_all(suppliers)
            await session.flush()
            offer = offer_body(sku=sku, shipping_cents={"ningbo": 300})
            session.add_all(Offer.model_validate(offer, update={"supplier_id": s.id}) for s in suppliers)
            await session.flush()
            # The second item is for shanghai, where none of them ships.
            event = open_round([rfq_item(sku), rfq_item(sku, quantities={"shanghai": 50})])

            sqlalchemy_event.listen(database.engine.sync_engine, "before_cursor_execute", count)
            created = await services.open_rfq_round(session, event)
            sqlalchemy_event.remove(database.engine.sync_engine, "before_cursor_execute", count)

            rfqs = (await session.exec(select(Rfq).where(Rfq.round_id == event.round_id))).all()
            assert len(rfqs) == created == 200
            assert all(len(rfq.items) == 1 for rfq in rfqs)
            await transaction.rollback()  # leave no webhooks for later tests' workers to attempt
    finally:
        await database.dispose()

    # Its speed is measured in bench/sourcing; here, that it does not grow with the suppliers.
    assert len(statements) <= 10, statements  # one query for the offers, bulk inserts: not one per supplier
