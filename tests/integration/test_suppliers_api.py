"""The supplier catalogue through its HTTP API, on a real database and broker."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from flexsupply.kit.auth import hash_secret, parse_api_key
from flexsupply.kit.db import Database
from tests.support.catalogue import create_supplier, ensure_regions, offer_body, supplier_body, supplier_names
from tests.support.fake_supplier import fake_supplier_server
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


async def publish(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/offers", json=offer_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_registered_supplier_publishes_offers_with_its_key(operator: httpx.AsyncClient, as_key: KeyClient):
    created = await create_supplier(operator, capacity=900)
    supplier = as_key(created["api_key"]["api_key"])

    offer = await publish(supplier)

    assert offer["supplier_id"] == created["supplier"]["id"]
    assert offer["price_tiers"][1] == {"min_quantity": 300, "unit_cents": 3500}
    listed = (await supplier.get("/api/v1/offers")).json()
    assert [o["id"] for o in listed] == [offer["id"]]
    assert (await supplier.get("/api/v1/me")).json()["id"] == created["supplier"]["id"]


async def test_only_the_hash_of_an_api_key_is_stored(operator: httpx.AsyncClient, database_urls: dict[str, str]):
    from flexsupply.suppliers.models import ApiKey

    created = await create_supplier(operator)
    token: str = created["api_key"]["api_key"]
    assert token.startswith("fsk_")

    database = Database(database_urls["suppliers"], pooled=False)
    try:
        async with database.transaction() as session:
            keys = (
                await session.exec(select(ApiKey).where(ApiKey.supplier_id == UUID(created["supplier"]["id"])))
            ).all()
    finally:
        await database.dispose()
    assert len(keys) == 1
    parsed = parse_api_key(token)
    assert parsed is not None
    secret = parsed[1]  # the whole secret: it may itself contain "_"
    assert keys[0].secret_hash == hash_secret(secret) and secret not in keys[0].secret_hash


async def test_a_supplier_cannot_see_or_change_another_suppliers_offers(operator: httpx.AsyncClient, as_key: KeyClient):
    owner = as_key((await create_supplier(operator))["api_key"]["api_key"])
    intruder = as_key((await create_supplier(operator))["api_key"]["api_key"])
    offer = await publish(owner)

    assert (await intruder.get(f"/api/v1/offers/{offer['id']}")).status_code == 404
    assert (await intruder.put(f"/api/v1/offers/{offer['id']}", json=offer_body(moq=1))).status_code == 404
    assert (await intruder.delete(f"/api/v1/offers/{offer['id']}")).status_code == 404
    assert (await intruder.get("/api/v1/offers")).json() == []
    # Asking for another supplier's list by id still returns only the caller's own.
    assert (await intruder.get("/api/v1/offers", params={"supplier_id": offer["supplier_id"]})).json() == []
    unchanged = (await owner.get(f"/api/v1/offers/{offer['id']}")).json()
    assert unchanged["moq"] == 100 and unchanged["withdrawn_at"] is None


SOME_ID = "00000000-0000-0000-0000-000000000001"
OPERATOR_ONLY = [
    ("POST", "/api/v1/suppliers"),
    ("GET", "/api/v1/suppliers"),
    ("GET", "/api/v1/suppliers/{own}"),
    ("PATCH", "/api/v1/suppliers/{own}"),
    ("GET", "/api/v1/suppliers/{own}/api-keys"),
    ("POST", "/api/v1/suppliers/{own}/api-keys"),
    ("DELETE", f"/api/v1/suppliers/{{own}}/api-keys/{SOME_ID}"),
    ("POST", "/api/v1/suppliers/{own}/webhook-secret"),
    ("GET", "/api/v1/suppliers/{own}/webhook-deliveries"),
    ("PUT", "/api/v1/regions/hangzhou"),
    ("GET", "/api/v1/eligible-offers?sku=x&needed_by=2030-01-01T00:00:00Z"),
]


@pytest.mark.parametrize(("method", "path"), OPERATOR_ONLY)
async def test_operator_endpoints_refuse_supplier_keys_even_for_their_own_record(
    operator: httpx.AsyncClient, as_key: KeyClient, method: str, path: str
):
    created = await create_supplier(operator)
    supplier = as_key(created["api_key"]["api_key"])
    response = await supplier.request(method, path.format(own=created["supplier"]["id"]), json={"name": "Hangzhou"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    # Nothing changed: the supplier's key still works, and it is still its only key.
    assert (await supplier.get("/api/v1/me")).status_code == 200
    keys = (await operator.get(f"/api/v1/suppliers/{created['supplier']['id']}/api-keys")).json()
    assert [k["revoked_at"] for k in keys] == [None]


async def test_supplier_endpoints_refuse_the_operator(operator: httpx.AsyncClient):
    assert (await operator.post("/api/v1/offers", json=offer_body())).status_code == 403


@pytest.mark.parametrize(
    "header", [None, "Bearer nonsense", "Bearer fsk_00000000000000000000000000000000_x", "Basic abc"]
)
async def test_requests_without_a_valid_credential_are_unauthorised(anonymous: httpx.AsyncClient, header: str | None):
    headers = {"authorization": header} if header else {}
    response = await anonymous.get("/api/v1/offers", headers=headers)
    assert response.status_code == 401
    assert response.json()["status"] == 401


async def test_rotating_a_key_revokes_the_old_one(operator: httpx.AsyncClient, as_key: KeyClient):
    created = await create_supplier(operator)
    supplier_id = created["supplier"]["id"]
    old = as_key(created["api_key"]["api_key"])

    rotated = await operator.post(f"/api/v1/suppliers/{supplier_id}/api-keys", json={})
    assert rotated.status_code == 201
    new = as_key(rotated.json()["api_key"])

    assert (await old.get("/api/v1/me")).status_code == 401
    assert (await new.get("/api/v1/me")).status_code == 200
    keys = (await operator.get(f"/api/v1/suppliers/{supplier_id}/api-keys")).json()
    assert [k["revoked_at"] is None for k in keys] == [False, True]
    assert all("api_key" not in k for k in keys)


async def test_a_revoked_key_is_refused(operator: httpx.AsyncClient, as_key: KeyClient):
    created = await create_supplier(operator)
    supplier = as_key(created["api_key"]["api_key"])
    revoked = await operator.delete(
        f"/api/v1/suppliers/{created['supplier']['id']}/api-keys/{created['api_key']['id']}"
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await supplier.get("/api/v1/me")).status_code == 401


BAD_OFFERS = [
    (
        "price_tiers",
        {"price_tiers": [{"min_quantity": 300, "unit_cents": 3500}, {"min_quantity": 0, "unit_cents": 3900}]},
    ),
    ("price_tiers", {"price_tiers": [{"min_quantity": 150, "unit_cents": 3500}]}),
    ("price_tiers", {"price_tiers": []}),
    ("capacity", {"moq": 700}),
    ("fixed_cents", {"fixed_cents": -1}),
    ("reserve_cents", {"reserve_cents": 1.5}),
    ("price_tiers.0.unit_cents", {"price_tiers": [{"min_quantity": 0, "unit_cents": 39.5}]}),
    ("quality", {"quality": 101}),
    ("lead_time_days", {"lead_time_days": -2}),
    ("shipping_cents", {"shipping_cents": {"atlantis": 100}}),
    ("shipping_cents", {"shipping_cents": {"chengdu": 100}}),
    ("shipping_cents", {"shipping_cents": {}}),
    ("sku", {"sku": ""}),
    ("currency", {"currency": "yuan"}),
    ("valid_until", {"valid_from": "2026-12-02T00:00:00Z", "valid_until": "2026-12-01T00:00:00Z"}),
    ("valid_from", {"valid_from": "2026-12-02T00:00:00"}),
    ("valid_until", {"valid_until": "9999-12-31T23:00:00-05:00"}),
    ("valid_from", {"valid_from": "0001-01-01T00:00:00+05:00"}),
    ("fixed_cents", {"fixed_cents": 10**12 + 1}),
    ("capacity", {"capacity": 10**9 + 1}),
    ("price_tiers.0.unit_cents", {"price_tiers": [{"min_quantity": 0, "unit_cents": 10**20}]}),
]


@pytest.mark.parametrize(("field", "changes"), BAD_OFFERS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_OFFERS)])
async def test_a_bad_offer_gets_a_400_naming_the_field(
    operator: httpx.AsyncClient, as_key: KeyClient, field: str, changes: dict[str, Any]
):
    supplier = as_key((await create_supplier(operator))["api_key"]["api_key"])
    response = await supplier.post("/api/v1/offers", json=offer_body(**changes))

    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert field in [error["field"] for error in problem["errors"]], problem
    assert field.split(".")[0] in problem["detail"]
    assert (await supplier.get("/api/v1/offers")).json() == []


async def test_a_rejected_change_keeps_the_stored_offer(operator: httpx.AsyncClient, as_key: KeyClient):
    supplier = as_key((await create_supplier(operator))["api_key"]["api_key"])
    offer = await publish(supplier)

    response = await supplier.put(f"/api/v1/offers/{offer['id']}", json=offer_body(moq=5000))

    assert response.status_code == 400
    assert (await supplier.get(f"/api/v1/offers/{offer['id']}")).json()["moq"] == 100


async def test_a_supplier_with_unknown_regions_is_refused_and_not_stored(operator: httpx.AsyncClient):
    await ensure_regions(operator, "ningbo")
    body = supplier_body(regions=["ningbo", "atlantis"])

    response = await operator.post("/api/v1/suppliers", json=body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "regions"
    assert body["name"] not in await supplier_names(operator)


async def test_a_repeated_idempotency_key_returns_the_first_result(operator: httpx.AsyncClient, as_key: KeyClient):
    await ensure_regions(operator, "ningbo")
    body = supplier_body(regions=["ningbo"])
    headers = {"idempotency-key": f"create-{uuid4()}"}

    first = await operator.post("/api/v1/suppliers", json=body, headers=headers)
    second = await operator.post("/api/v1/suppliers", json=body, headers=headers)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert (await supplier_names(operator)).count(body["name"]) == 1
    # The replayed key is the one issued first, and it works.
    assert (await as_key(second.json()["api_key"]["api_key"]).get("/api/v1/me")).status_code == 200

    reused = await operator.post("/api/v1/suppliers", json=body | {"name": "Someone else"}, headers=headers)
    assert reused.status_code == 422
    assert "Idempotency-Key" in reused.json()["detail"]


async def test_offer_creation_is_idempotent_per_supplier(operator: httpx.AsyncClient, as_key: KeyClient):
    supplier = as_key((await create_supplier(operator))["api_key"]["api_key"])
    other = as_key((await create_supplier(operator))["api_key"]["api_key"])
    headers = {"idempotency-key": "offer-0001"}

    first = await supplier.post("/api/v1/offers", json=offer_body(), headers=headers)
    again = await supplier.post("/api/v1/offers", json=offer_body(), headers=headers)
    # The same key from another supplier is another request, not a replay of the first.
    theirs = await other.post("/api/v1/offers", json=offer_body(), headers=headers)

    assert (first.status_code, again.status_code, theirs.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"] != theirs.json()["id"]
    assert len((await supplier.get("/api/v1/offers")).json()) == 1


async def test_eligible_offers_follow_sku_quality_deadline_regions_and_withdrawal(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    sku = f"candle-{uuid4().hex[:6]}"
    created = await create_supplier(operator, capacity=800)
    supplier = as_key(created["api_key"]["api_key"])
    fast = await publish(supplier, sku=sku, lead_time_days=3, quality=90)
    slow = await publish(supplier, sku=sku, lead_time_days=20, quality=95)
    poor = await publish(supplier, sku=sku, lead_time_days=3, quality=60)
    shanghai_only = await publish(supplier, sku=sku, lead_time_days=3, quality=90, shipping_cents={"shanghai": 500})
    withdrawn = await publish(supplier, sku=sku, lead_time_days=3, quality=90)
    await supplier.delete(f"/api/v1/offers/{withdrawn['id']}")
    later = datetime.now(UTC) + timedelta(days=30)
    await publish(supplier, sku=sku, lead_time_days=3, quality=90, valid_from=later.isoformat())
    await publish(supplier, sku=f"other-{sku}", lead_time_days=3, quality=90)

    needed_by = (datetime.now(UTC) + timedelta(days=7, hours=1)).isoformat()
    response = await operator.get(
        "/api/v1/eligible-offers",
        params={"sku": sku, "needed_by": needed_by, "min_quality": 80, "regions": ["ningbo"]},
    )

    assert response.status_code == 200, response.text
    found = response.json()
    assert [o["id"] for o in found["offers"]] == [fast["id"]]
    assert found["suppliers"] == [{"id": created["supplier"]["id"], "capacity": 800}]
    # The offer carries exactly the matching problem's fields.
    problem_fields = {
        "moq",
        "capacity",
        "lead_time_days",
        "quality",
        "fixed_cents",
        "reserve_cents",
        "price_tiers",
        "shipping_cents",
        "sku",
    }
    assert problem_fields <= found["offers"][0].keys()
    everywhere = await operator.get("/api/v1/eligible-offers", params={"sku": sku, "needed_by": needed_by})
    assert {o["id"] for o in everywhere.json()["offers"]} == {fast["id"], poor["id"], shanghai_only["id"]}
    assert slow["id"] not in {o["id"] for o in everywhere.json()["offers"]}


async def test_a_naive_deadline_is_refused(operator: httpx.AsyncClient):
    response = await operator.get("/api/v1/eligible-offers", params={"sku": "x", "needed_by": "2030-01-01T00:00:00"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "needed_by"


async def test_registration_sends_a_signed_webhook_through_the_worker(operator: httpx.AsyncClient):
    with fake_supplier_server() as fake:
        created = await create_supplier(operator, webhook_url=fake.url)
        supplier_id = created["supplier"]["id"]

        async def delivered() -> list[dict[str, Any]] | None:
            deliveries = (await operator.get(f"/api/v1/suppliers/{supplier_id}/webhook-deliveries")).json()
            return deliveries if deliveries and deliveries[0]["status"] == "delivered" else None

        deliveries = await eventually(delivered)

    assert len(fake.received) == 1
    request = fake.received[0]
    payload = Webhook(created["webhook_secret"]).verify(request.body, request.headers)
    assert payload["type"] == "supplier.registered"
    assert payload["data"] == {"supplier_id": supplier_id}
    assert request.headers["webhook-id"] == deliveries[0]["id"]


async def test_a_failing_webhook_is_retried_until_it_arrives(operator: httpx.AsyncClient):
    with fake_supplier_server() as fake:
        fake.answers = [(503, {})]
        created = await create_supplier(operator, webhook_url=fake.url)
        supplier_id = created["supplier"]["id"]

        async def delivered() -> dict[str, Any] | None:
            deliveries = (await operator.get(f"/api/v1/suppliers/{supplier_id}/webhook-deliveries")).json()
            return deliveries[0] if deliveries and deliveries[0]["status"] == "delivered" else None

        delivery = await eventually(delivered, timeout_seconds=30)

    assert delivery["attempts"] == 2
    assert len(fake.received) == 2
    assert fake.received[0].headers["webhook-id"] == fake.received[1].headers["webhook-id"]


async def test_one_idempotency_key_rotates_each_suppliers_keys_separately(operator: httpx.AsyncClient):
    first, second = await create_supplier(operator), await create_supplier(operator)
    headers = {"idempotency-key": f"rotate-{uuid4()}"}

    for_first = await operator.post(f"/api/v1/suppliers/{first['supplier']['id']}/api-keys", json={}, headers=headers)
    for_second = await operator.post(f"/api/v1/suppliers/{second['supplier']['id']}/api-keys", json={}, headers=headers)

    assert (for_first.status_code, for_second.status_code) == (201, 201)
    assert for_first.json()["supplier_id"] == first["supplier"]["id"]
    assert for_second.json()["supplier_id"] == second["supplier"]["id"]


async def test_concurrent_repeats_of_one_idempotency_key_create_one_supplier(operator: httpx.AsyncClient):
    import asyncio

    await ensure_regions(operator, "ningbo")
    body = supplier_body(regions=["ningbo"])
    headers = {"idempotency-key": f"race-{uuid4()}"}

    answers = await asyncio.gather(*(operator.post("/api/v1/suppliers", json=body, headers=headers) for _ in range(4)))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, statuses
    assert (await supplier_names(operator)).count(body["name"]) == 1


async def test_money_up_to_the_bound_is_stored_exactly(operator: httpx.AsyncClient, as_key: KeyClient):
    supplier = as_key((await create_supplier(operator))["api_key"]["api_key"])
    offer = await publish(supplier, fixed_cents=10**12, reserve_cents=3_000_000_000)
    stored = (await supplier.get(f"/api/v1/offers/{offer['id']}")).json()
    assert (stored["fixed_cents"], stored["reserve_cents"]) == (10**12, 3_000_000_000)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"regions": None}, "regions"),
        ({"name": None}, "name"),
        ({"contact_email": None}, "contact_email"),
        ({"webhook_url": "https://example.com/" + "x" * 2000}, "webhook_url"),
        ({"capacity": 10**9 + 1}, "capacity"),
    ],
)
async def test_a_bad_supplier_change_is_a_400_and_changes_nothing(
    operator: httpx.AsyncClient, changes: dict[str, Any], field: str
):
    created = await create_supplier(operator)
    supplier_id = created["supplier"]["id"]

    response = await operator.patch(f"/api/v1/suppliers/{supplier_id}", json=changes)

    assert response.status_code == 400, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (await operator.get(f"/api/v1/suppliers/{supplier_id}")).json() == created["supplier"]


async def test_capacity_and_webhook_url_can_be_removed(operator: httpx.AsyncClient):
    created = await create_supplier(operator, capacity=500, webhook_url="https://example.com/hook")
    response = await operator.patch(
        f"/api/v1/suppliers/{created['supplier']['id']}", json={"capacity": None, "webhook_url": None}
    )
    assert response.status_code == 200
    assert (response.json()["capacity"], response.json()["webhook_url"]) == (None, None)


async def test_a_region_with_live_offers_cannot_be_dropped(operator: httpx.AsyncClient, as_key: KeyClient):
    created = await create_supplier(operator)
    supplier_id = created["supplier"]["id"]
    supplier = as_key(created["api_key"]["api_key"])
    offer = await publish(supplier, shipping_cents={"shanghai": 500})

    refused = await operator.patch(f"/api/v1/suppliers/{supplier_id}", json={"regions": ["ningbo"]})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "regions" and "shanghai" in refused.json()["detail"]

    await supplier.delete(f"/api/v1/offers/{offer['id']}")
    allowed = await operator.patch(f"/api/v1/suppliers/{supplier_id}", json={"regions": ["ningbo"]})
    assert allowed.status_code == 200 and allowed.json()["regions"] == ["ningbo"]


async def test_a_region_name_longer_than_its_column_is_a_400(operator: httpx.AsyncClient):
    response = await operator.put("/api/v1/regions/longname", json={"name": "x" * 121})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


async def test_every_supplier_gets_a_webhook_secret_and_can_rotate_it(operator: httpx.AsyncClient):
    created = await create_supplier(operator)  # no webhook URL yet
    assert created["webhook_secret"].startswith("whsec_")
    supplier_id = created["supplier"]["id"]
    headers = {"idempotency-key": f"secret-{uuid4()}"}

    rotated = await operator.post(f"/api/v1/suppliers/{supplier_id}/webhook-secret", headers=headers)
    replayed = await operator.post(f"/api/v1/suppliers/{supplier_id}/webhook-secret", headers=headers)

    assert (rotated.status_code, replayed.status_code) == (201, 200)
    assert rotated.json()["webhook_secret"] == replayed.json()["webhook_secret"] != created["webhook_secret"]
    supplier = (await operator.get(f"/api/v1/suppliers/{supplier_id}")).json()
    assert "webhook_secret" not in supplier
