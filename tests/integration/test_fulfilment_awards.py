"""Fulfilment records the awarded package that matching announces, once however often the event arrives."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from sqlmodel import col, select

from flexsupply.contracts.events import AwardedAllocation, AwardedReserve, PackageAwarded
from flexsupply.kit import outbox
from flexsupply.kit.db import Database
from flexsupply.matching.models import OutboxMessage as MatchingOutbox
from tests.support.waiting import eventually


def awarded_event() -> PackageAwarded:
    supplier, backup = uuid4(), uuid4()
    return PackageAwarded(
        package_id=uuid4(),
        sku="bread-gift-box",
        needed_by=datetime.now(UTC) + timedelta(days=20),
        currency="CNY",
        firm_quantities={"ningbo": 120, "shanghai": 40},
        allocations=[
            AwardedAllocation(
                supplier_id=supplier,
                offer_id=str(uuid4()),
                region="ningbo",
                quantity=120,
                unit_cents=3500,
                shipping_cents=300,
            ),
            AwardedAllocation(
                supplier_id=supplier,
                offer_id=str(uuid4()),
                region="shanghai",
                quantity=40,
                unit_cents=3500,
                shipping_cents=600,
            ),
        ],
        reserves=[AwardedReserve(supplier_id=backup, offer_id=str(uuid4()), quantity=120)],
    )


async def test_an_awarded_package_reaches_fulfilment_once(
    app: object, operator: httpx.AsyncClient, database_urls: dict[str, str]
):
    event = awarded_event()
    matching = Database(database_urls["matching"], pooled=False)

    async def received() -> dict | None:
        response = await operator.get(f"/api/v1/awarded-packages/{event.package_id}")
        return response.json() if response.status_code == 200 else None

    async def both_sent() -> bool:
        async with matching.transaction() as session:
            unsent = (await session.exec(select(MatchingOutbox).where(col(MatchingOutbox.sent_at).is_(None)))).all()
        return not [row for row in unsent if row.payload.get("package_id") == str(event.package_id)]

    try:
        for _ in range(2):  # as a publisher that retried, or a relay that sent twice
            async with matching.transaction() as session:
                outbox.publish(session, MatchingOutbox, event)
        body = await eventually(received)
        await eventually(both_sent)
    finally:
        await matching.dispose()

    assert body["firm_quantities"] == {"ningbo": 120, "shanghai": 40}
    assert [a["quantity"] for a in body["allocations"]] == [120, 40]
    assert body["reserves"][0]["quantity"] == 120
    listed = (await operator.get("/api/v1/awarded-packages", params={"limit": 500})).json()
    assert [item["package_id"] for item in listed].count(str(event.package_id)) == 1


async def test_awarded_packages_are_for_operators(as_key, operator: httpx.AsyncClient, anonymous: httpx.AsyncClient):
    from tests.support.catalogue import create_supplier

    supplier = await create_supplier(operator)
    assert (await as_key(supplier["api_key"]["api_key"]).get("/api/v1/awarded-packages")).status_code == 403
    assert (await anonymous.get("/api/v1/awarded-packages")).status_code == 401
    assert (await operator.get(f"/api/v1/awarded-packages/{uuid4()}")).status_code == 404
