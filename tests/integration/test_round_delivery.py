"""A round's RFQs are owed until the suppliers service says it sent them: a lost RfqRoundOpened is sent again."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx

from flexsupply.kit.db import Database
from tests.support.catalogue import create_supplier, offer_body
from tests.support.matching import create_package, register_community, start_round
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


async def acknowledged(client: httpx.AsyncClient, round_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = (await client.get(f"/api/v1/sourcing-rounds/{round_id}")).json()
        return found if found["rfqs_acknowledged_at"] else None

    return await eventually(probe)


async def test_a_round_says_how_many_suppliers_were_asked(operator: httpx.AsyncClient, as_key: KeyClient):
    sku = f"honey-{uuid4().hex[:6]}"
    for _ in range(2):
        supplier = await create_supplier(operator)
        await as_key(supplier["api_key"]["api_key"]).post("/api/v1/offers", json=offer_body(sku=sku))
    _, key = await register_community(operator)
    leader = as_key(key)
    sourcing = await start_round(leader, (await create_package(leader, sku=sku))["id"])
    assert sourcing["rfq_count"] is None  # not yet heard from the suppliers service
    assert (await acknowledged(leader, sourcing["id"]))["rfq_count"] == 2


async def test_a_round_whose_message_was_lost_is_sent_again(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    """As a worker killed with the message leaves it: the round stored, its RFQs requested long ago, never sent."""
    from flexsupply.matching.domain.package import PackageStatus
    from flexsupply.matching.models import DemandPackage, SourcingRound

    sku = f"tea-{uuid4().hex[:6]}"
    supplier = await create_supplier(operator)
    supplier_client = as_key(supplier["api_key"]["api_key"])
    await supplier_client.post("/api/v1/offers", json=offer_body(sku=sku))
    _, key = await register_community(operator)
    leader = as_key(key)
    package = await create_package(leader, sku=sku)

    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            sourcing_round = SourcingRound(
                package_ids=[package["id"]],
                reply_by=datetime.now(UTC) + timedelta(days=2),
                started_by="test",
                rfqs_requested_at=datetime.now(UTC) - timedelta(hours=1),
            )
            session.add(sourcing_round)
            await session.flush()
            stored = await session.get(DemandPackage, UUID(package["id"]))
            assert stored is not None
            stored.status, stored.round_id = PackageStatus.SOURCING, sourcing_round.id
        round_id = str(sourcing_round.id)
    finally:
        await database.dispose()

    assert (await acknowledged(leader, round_id))["rfq_count"] == 1
    rfqs = (await supplier_client.get("/api/v1/rfqs")).json()
    assert [rfq["round_id"] for rfq in rfqs].count(round_id) == 1  # sent again, and once
