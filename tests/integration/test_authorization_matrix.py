"""Every endpoint, tried with every role's credentials: each answer checked against what that role may do.

An endpoint joins by a line in POLICY; `test_every_endpoint_has_a_policy` fails for one that has none, so nothing
is added without saying who may call it. What the expectations mean:
- "ok": allowed (any answer but 401, 403, 404 and 5xx: a 400 for the empty body sent, or a 409, is still allowed);
- 401: the credential is unknown here (leaders' keys are kept by the matching service only);
- 403: known, but the role may not do this;
- 404: the resource belongs to someone else, and its existence is not revealed.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from flexsupply.kit.db import Database
from flexsupply.matching.payments import sign_test_payment
from flexsupply.suppliers.models import WebhookDelivery
from tests.integration.conftest import OPERATOR_TOKEN
from tests.integration.test_match_runs import finished_run
from tests.support.awarded import announce, awarded_package
from tests.support.catalogue import create_supplier, offer_body, quote_body
from tests.support.matching import create_package, register_community, start_round
from tests.support.sales import order, planned_sale
from tests.support.waiting import eventually

ROLES = ("anonymous", "other_supplier", "other_leader", "supplier", "leader", "operator")
Expectation = dict[str, "int | str"]


def allow(*roles: str, hidden_from: tuple[str, ...] = (), leaders_unknown: bool = False) -> Expectation:
    """`roles` may call; `hidden_from` get 404; everyone else 403 (401 for anonymous, and for leaders where their
    keys are unknown)."""
    expected: Expectation = {}
    for role in ROLES:
        if role in roles:
            expected[role] = "ok"
        elif role in hidden_from:
            expected[role] = 404
        elif role == "anonymous" or (leaders_unknown and role.endswith("leader")):
            expected[role] = 401
        else:
            expected[role] = 403
    return expected


PUBLIC: Expectation = dict.fromkeys(ROLES, "ok")
# The suppliers and fulfilment services know operators and suppliers; a leader's key is unknown there.
OPERATOR = allow("operator", leaders_unknown=True)
SUPPLIER = allow("supplier", "other_supplier", leaders_unknown=True)
SUPPLIER_OWN = allow("supplier", hidden_from=("other_supplier",), leaders_unknown=True)
OPERATOR_OR_OWN_SUPPLIER = allow("operator", "supplier", hidden_from=("other_supplier",), leaders_unknown=True)
ANY_CATALOGUE_CALLER = allow("operator", "supplier", "other_supplier", leaders_unknown=True)
MATCHING_OPERATOR = allow("operator")
LEADER = allow("leader", "other_leader")
OWN_COMMUNITY = allow("operator", "leader", hidden_from=("other_leader",))
ANY_LEADER_OR_OPERATOR = allow("operator", "leader", "other_leader")
# Suppliers on the matching service (their keys introspected): leaders are known there, so refused with 403.
MATCHING_SUPPLIER = allow("supplier", "other_supplier")
MATCHING_SUPPLIER_OWN = allow("supplier", hidden_from=("other_supplier",))

POLICY: dict[str, Expectation] = {
    # suppliers: catalogue
    "GET /api/v1/regions": ANY_CATALOGUE_CALLER,
    "PUT /api/v1/regions/{code}": OPERATOR,
    "POST /api/v1/suppliers": OPERATOR,
    "GET /api/v1/suppliers": OPERATOR,
    "GET /api/v1/suppliers/{supplier_id}": OPERATOR,
    "PATCH /api/v1/suppliers/{supplier_id}": OPERATOR,
    "GET /api/v1/suppliers/{supplier_id}/api-keys": OPERATOR,
    "POST /api/v1/suppliers/{supplier_id}/api-keys": OPERATOR,
    "DELETE /api/v1/suppliers/{supplier_id}/api-keys/{key_id}": OPERATOR,
    "POST /api/v1/suppliers/{supplier_id}/webhook-secret": OPERATOR,
    "GET /api/v1/suppliers/{supplier_id}/webhook-deliveries": OPERATOR,
    "GET /api/v1/webhook-deliveries": SUPPLIER,
    "POST /api/v1/webhook-deliveries/{delivery_id}/resend": OPERATOR_OR_OWN_SUPPLIER,
    "GET /api/v1/suppliers/{supplier_id}/scorecard": OPERATOR_OR_OWN_SUPPLIER,
    "POST /api/v1/api-keys/introspect": OPERATOR,
    "GET /api/v1/me": SUPPLIER,
    "POST /api/v1/offers": SUPPLIER,
    "GET /api/v1/offers": ANY_CATALOGUE_CALLER,
    "GET /api/v1/offers/{offer_id}": OPERATOR_OR_OWN_SUPPLIER,
    "PUT /api/v1/offers/{offer_id}": SUPPLIER_OWN,
    "DELETE /api/v1/offers/{offer_id}": SUPPLIER_OWN,
    "GET /api/v1/eligible-offers": OPERATOR,
    # suppliers: requests for quotation
    "GET /api/v1/rfqs": SUPPLIER,
    "GET /api/v1/rfqs/{rfq_id}": SUPPLIER_OWN,
    "POST /api/v1/rfqs/{rfq_id}/quotes": SUPPLIER_OWN,
    "POST /api/v1/rfqs/{rfq_id}/decline": SUPPLIER_OWN,
    "GET /api/v1/rfq-rounds/{round_id}": OPERATOR,
    "GET /api/v1/rfq-rounds/{round_id}/responses": OPERATOR,
    # matching: communities and leaders
    "POST /api/v1/communities": MATCHING_OPERATOR,
    "GET /api/v1/communities": MATCHING_OPERATOR,
    "GET /api/v1/communities/{community_id}": MATCHING_OPERATOR,
    "POST /api/v1/communities/{community_id}/leader-keys": MATCHING_OPERATOR,
    "GET /api/v1/leader/me": LEADER,
    "GET /api/v1/communities/{community_id}/payee": OWN_COMMUNITY,
    "PUT /api/v1/communities/{community_id}/payee": OWN_COMMUNITY,
    # matching: demand packages and the group's sign-up
    "POST /api/v1/packages": ANY_LEADER_OR_OPERATOR,
    "GET /api/v1/packages": ANY_LEADER_OR_OPERATOR,
    "GET /api/v1/packages/{package_id}": OWN_COMMUNITY,
    "PATCH /api/v1/packages/{package_id}": OWN_COMMUNITY,
    "POST /api/v1/packages/{package_id}/cancel": OWN_COMMUNITY,
    "GET /api/v1/packages/{package_id}/history": OWN_COMMUNITY,
    "POST /api/v1/packages/{package_id}/signup": OWN_COMMUNITY,
    "POST /api/v1/packages/{package_id}/photo": OWN_COMMUNITY,
    "GET /api/v1/packages/{package_id}/signup": OWN_COMMUNITY,
    "POST /api/v1/packages/{package_id}/signup/close": OWN_COMMUNITY,
    "POST /api/v1/packages/{package_id}/signup/adopt": OWN_COMMUNITY,
    "GET /api/v1/signups/{token}": PUBLIC,
    "POST /api/v1/signups/{token}/entries": PUBLIC,
    # matching: sourcing rounds and runs
    "POST /api/v1/sourcing-rounds": ANY_LEADER_OR_OPERATOR,
    "GET /api/v1/sourcing-rounds/{round_id}": OWN_COMMUNITY,
    "POST /api/v1/sourcing-rounds/{round_id}/match-runs": OWN_COMMUNITY,
    "GET /api/v1/sourcing-rounds/{round_id}/match-runs": OWN_COMMUNITY,
    "GET /api/v1/match-runs/{run_id}": OWN_COMMUNITY,
    "GET /api/v1/match-runs/{run_id}/problem": OWN_COMMUNITY,
    "GET /api/v1/packages/{package_id}/plan": OWN_COMMUNITY,
    # matching: awards
    "POST /api/v1/packages/{package_id}/firm-quantities": OWN_COMMUNITY,
    "POST /api/v1/packages/{package_id}/award": OWN_COMMUNITY,
    "GET /api/v1/packages/{package_id}/awards": OWN_COMMUNITY,
    "GET /api/v1/awards": MATCHING_SUPPLIER,
    "GET /api/v1/awards/{award_id}": MATCHING_SUPPLIER_OWN,
    "POST /api/v1/awards/{award_id}/accept": MATCHING_SUPPLIER_OWN,
    "POST /api/v1/awards/{award_id}/decline": MATCHING_SUPPLIER_OWN,
    "GET /api/v1/reservations": MATCHING_SUPPLIER,
    # matching: the flash sale (buyers have no account: the sale is public, an order's token is its key)
    "GET /api/v1/sales/{package_id}": PUBLIC,
    "GET /api/v1/sales/{package_id}/stock": PUBLIC,
    "GET /api/v1/sales/{package_id}/stock/events": PUBLIC,
    "POST /api/v1/sales/{package_id}/orders": PUBLIC,
    "GET /api/v1/orders/{order_token}": PUBLIC,
    "POST /api/v1/orders/{order_token}/cancel": PUBLIC,
    "POST /api/v1/orders/{order_token}/wechat-pay": PUBLIC,
    "GET /api/v1/packages/{package_id}/orders": OWN_COMMUNITY,
    "POST /api/v1/packages/{package_id}/sale/close": OWN_COMMUNITY,
    "POST /api/v1/packages/{package_id}/payment-statements": OWN_COMMUNITY,
    "GET /api/v1/packages/{package_id}/refunds": OWN_COMMUNITY,
    "POST /api/v1/markets": ANY_LEADER_OR_OPERATOR,
    "GET /api/v1/markets/{market_id}": PUBLIC,
    # A provider's signature is the credential: no role's token is.
    "POST /api/v1/payments/{provider}/callbacks": dict.fromkeys(ROLES, 401),
    # WeChat Pay is not configured in this world: no notification endpoint to find (configured, every role's
    # token is refused with 401 like the callbacks above: the platform's signature is the credential).
    "POST /api/v1/payments/wechatpay/notifications": dict.fromkeys(ROLES, 404),
    "GET /api/v1/refunds": MATCHING_OPERATOR,
    "GET /api/v1/refunds/{refund_id}": OWN_COMMUNITY,
    "POST /api/v1/refunds/{refund_id}/transfer": OWN_COMMUNITY,
    # fulfilment
    "GET /api/v1/awarded-packages": OPERATOR,
    # No package of this world has reached fulfilment: the operator gets as far as looking it up.
    "GET /api/v1/awarded-packages/{package_id}": OPERATOR | {"operator": 404},
    "GET /api/v1/awarded-packages/{package_id}/assignment": OPERATOR | {"operator": 404},
    "GET /api/v1/production-orders": ANY_CATALOGUE_CALLER,
    "GET /api/v1/production-orders/{production_order_id}": OPERATOR_OR_OWN_SUPPLIER,
    "POST /api/v1/production-orders/{production_order_id}/moves": SUPPLIER_OWN,
    "POST /api/v1/production-orders/{production_order_id}/batches": SUPPLIER_OWN,
    "POST /api/v1/production-orders/{production_order_id}/failure": OPERATOR_OR_OWN_SUPPLIER,
    "GET /api/v1/production-orders/{production_order_id}/shipments": OPERATOR_OR_OWN_SUPPLIER,
    "GET /api/v1/production-orders/{production_order_id}/manifest": OPERATOR_OR_OWN_SUPPLIER,
    "GET /api/v1/production-orders/{production_order_id}/manifest.csv": OPERATOR_OR_OWN_SUPPLIER,
    "POST /api/v1/shipments/moves": OPERATOR_OR_OWN_SUPPLIER,
    "POST /api/v1/shipments/{shipment_id}/moves": OPERATOR_OR_OWN_SUPPLIER,
    "GET /api/v1/failures": OPERATOR,
    "GET /api/v1/failures/{failure_id}": OPERATOR_OR_OWN_SUPPLIER,
    "POST /api/v1/failures/{failure_id}/retry": OPERATOR,
    "POST /api/v1/supplier-stops": OPERATOR,
    # A stop nobody previewed: the operator gets as far as looking it up.
    "GET /api/v1/supplier-stops/{stop_id}": OPERATOR | {"operator": 404},
    "POST /api/v1/supplier-stops/{stop_id}/apply": OPERATOR | {"operator": 404},
    "GET /api/v1/exceptions": OPERATOR,
    "POST /api/v1/exceptions/{exception_id}/handled": OPERATOR,
    "GET /api/v1/cases": OPERATOR,
    "POST /api/v1/cases/{case_id}/resolution": OPERATOR,
    # Buyers have no account: the token of their order's link is the key.
    "GET /api/v1/buyer-orders/{buyer_token}": PUBLIC,
    "POST /api/v1/buyer-orders/{buyer_token}/cases": PUBLIC,
}
# Bodies valid enough to reach the ownership check (an empty body is refused before it, revealing nothing).
BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    "PUT /api/v1/offers/{offer_id}": offer_body,
    "POST /api/v1/rfqs/{rfq_id}/quotes": quote_body,
    "POST /api/v1/rfqs/{rfq_id}/decline": lambda: {"reason": "fully booked that week"},
    "POST /api/v1/packages/{package_id}/cancel": lambda: {"reason": "the group changed its mind"},
    "POST /api/v1/packages/{package_id}/signup": lambda: {"per_person_max": 3},
    "POST /api/v1/packages/{package_id}/firm-quantities": lambda: {"quantities": {"ningbo": 1}},
    "POST /api/v1/awards/{award_id}/decline": lambda: {"reason": "the oven broke"},
    "POST /api/v1/packages/{package_id}/sale/close": lambda: {"reason": "sold out early"},
    "PUT /api/v1/communities/{community_id}/payee": lambda: {"payee_name": "王小明", "payee_account": "6214 0001"},
    "POST /api/v1/refunds/{refund_id}/transfer": lambda: {"reference": "ICBC 2026120800001"},
    "POST /api/v1/production-orders/{production_order_id}/moves": lambda: {"step": "accept"},
    "POST /api/v1/production-orders/{production_order_id}/batches": lambda: {
        "quantity": 1,
        "lot_number": "L1",
        "quality_passed": True,
    },
    "POST /api/v1/production-orders/{production_order_id}/failure": lambda: {"reason": "the kiln broke"},
    "POST /api/v1/shipments/{shipment_id}/moves": lambda: {"step": "deliver"},
    "POST /api/v1/cases/{case_id}/resolution": lambda: {"resolution": "reject"},
    "POST /api/v1/buyer-orders/{buyer_token}/cases": lambda: {"kind": "late", "description": "not here yet"},
}
# Uploads, sent as multipart forms.
FILES: dict[str, Callable[[], dict[str, Any]]] = {
    "POST /api/v1/packages/{package_id}/photo": lambda: {"photo": ("photo.png", b"\x89PNG\r\n\x1a\n", "image/png")},
    "POST /api/v1/packages/{package_id}/payment-statements": lambda: {
        "statement": ("statement.csv", b"Date,Memo,Amount\n2026-11-30,FS-00000000,1.00\n", "text/csv")
    },
}
# Streams: only their answer's status is read.
STREAMS = {"GET /api/v1/sales/{package_id}/stock/events"}


@dataclass
class World:
    """Two of each role; resources of each kind, owned by the first of each pair, made when a route needs them."""

    clients: dict[str, httpx.AsyncClient]
    values: dict[str, str]
    makers: dict[str, Callable[[], Awaitable[str]]]

    async def path(self, template: str) -> str:
        for name in re.findall(r"{(\w+)}", template):
            if name not in self.values:
                self.values[name] = await self.makers[name]()
        return template.format(**self.values)


@pytest.fixture
async def world(
    app: Any,
    operator: httpx.AsyncClient,
    as_key: Callable[[str], httpx.AsyncClient],
    database_urls: dict[str, str],
) -> World:
    supplier = await create_supplier(operator)
    other_supplier = await create_supplier(operator)
    supplier_client = as_key(supplier["api_key"]["api_key"])
    community, leader_key = await register_community(operator)
    _, other_leader_key = await register_community(operator)
    leader = as_key(leader_key)
    sku = f"matrix-{uuid4().hex[:8]}"

    async def offer_id() -> str:
        return (await supplier_client.post("/api/v1/offers", json=offer_body(sku=sku))).json()["id"]

    async def package_id() -> str:
        return (await create_package(leader, sku=sku))["id"]

    async def round_id() -> str:
        await world.path("/{offer_id}")  # the supplier can quote and plan it
        package = await create_package(leader, sku=sku, backups=0)
        started = await start_round(leader, package["id"])

        async def rfqs_sent() -> bool:
            return (await operator.get(f"/api/v1/rfq-rounds/{started['id']}")).status_code == 200

        await eventually(rfqs_sent)
        return started["id"]

    async def run_id() -> str:
        path = await world.path("/api/v1/sourcing-rounds/{round_id}/match-runs")
        response = await leader.post(path, json={"time_limit_seconds": 2})
        assert response.status_code == 202, response.text
        run_path = f"/api/v1/match-runs/{response.json()['id']}"

        async def finished() -> dict[str, Any] | None:
            run = (await leader.get(run_path)).json()
            return run if run["status"] in {"planned", "infeasible", "failed"} else None

        return (await eventually(finished))["id"]

    async def token() -> str:
        path = await world.path("/api/v1/packages/{package_id}/signup")
        response = await leader.post(path, json={"per_person_max": 3})
        assert response.status_code == 201, response.text
        return response.json()["token"]

    async def award_id() -> str:
        package = await planned_package(world)
        caps = (await leader.get(f"/api/v1/packages/{package}/plan")).json()["sale_caps"]
        firm = await leader.post(f"/api/v1/packages/{package}/firm-quantities", json={"quantities": caps})
        assert firm.status_code == 200, firm.text
        award = await leader.post(f"/api/v1/packages/{package}/award", json={"time_limit_seconds": 2})
        assert award.status_code == 202, award.text

        async def offered() -> str | None:
            awards = (await leader.get(f"/api/v1/packages/{package}/awards")).json()["awards"]
            return next((a["id"] for a in awards if a["status"] == "offered"), None)

        return await eventually(offered)

    async def order_token() -> str:
        sale = await planned_sale(operator, as_key, finished_run, opens_in_seconds=0)
        placed = await order(world.clients["anonymous"], sale.id)
        assert placed.status_code == 201, placed.text
        return placed.json()["token"]

    async def refund_id() -> str:
        """A refund owed by the leader's community: a buyer paid (by the test provider), then cancelled."""
        sale = await planned_sale(operator, as_key, finished_run, opens_in_seconds=0, leader=leader)
        placed = (await order(world.clients["anonymous"], sale.id)).json()
        body, headers = sign_test_payment(OPERATOR_TOKEN, placed["payment_reference"], placed["amount_cents"])
        paid = await world.clients["anonymous"].post("/api/v1/payments/test/callbacks", content=body, headers=headers)
        assert paid.status_code == 200, paid.text
        assert (await world.clients["anonymous"].post(f"/api/v1/orders/{placed['token']}/cancel")).status_code == 200
        return (await leader.get(f"/api/v1/packages/{sale.id}/refunds")).json()[0]["id"]

    async def market_id() -> str:
        package = (await leader.get(await world.path("/api/v1/packages/{package_id}"))).json()
        body = {
            "title": "Friday market",
            "starts_at": package["sale_opens_at"],
            "ends_at": package["sale_closes_at"],
            "package_ids": [package["id"]],
        }
        response = await leader.post("/api/v1/markets", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    # Fulfilment: a package awarded to the world's supplier (for ningbo), with buyers' orders and a reserve.
    async def awarded_id() -> str:
        setup = await awarded_package(operator, north=supplier)
        await announce(database_urls["matching"], setup.event)

        async def assigned() -> bool:
            path = f"/api/v1/awarded-packages/{setup.package_id}/assignment"
            answer = await operator.get(path)
            return answer.status_code == 200 and answer.json()["status"] == "done"

        await eventually(assigned)
        world.values["buyer_token"] = setup.tokens[0]
        return str(setup.package_id)

    async def production_order_id() -> str:
        package = await world.path("{awarded_id}")
        listed = await supplier_client.get("/api/v1/production-orders", params={"package_id": package})
        return listed.json()[0]["id"]

    async def shipment_id() -> str:
        path = await world.path("/api/v1/production-orders/{production_order_id}")
        for step in ("accept", "start"):
            assert (await supplier_client.post(f"{path}/moves", json={"step": step})).status_code == 200
        batch = {"quantity": 3, "lot_number": "L1", "quality_passed": True}
        assert (await supplier_client.post(f"{path}/batches", json=batch)).status_code == 201
        return (await supplier_client.get(f"{path}/shipments")).json()[0]["id"]

    async def failure_id() -> str:
        path = await world.path("/api/v1/production-orders/{production_order_id}/failure")
        failed = await operator.post(path, json={"reason": "the kiln broke"})
        assert failed.status_code == 202, failed.text
        return failed.json()["id"]

    async def exception_id() -> str:
        await world.path("{failure_id}")
        package = world.values["awarded_id"]
        return (await operator.get("/api/v1/exceptions", params={"package_id": package})).json()[0]["id"]

    async def buyer_token() -> str:
        await world.path("{awarded_id}")
        return world.values["buyer_token"]

    async def case_id() -> str:
        token = await world.path("{buyer_token}")
        opened = await operator.post(f"/api/v1/buyer-orders/{token}/cases", json={"kind": "late", "description": "x"})
        assert opened.status_code == 201, opened.text
        return opened.json()["cases"][0]["id"]

    async def delivery_id() -> str:
        database = Database(database_urls["suppliers"], pooled=False)
        try:
            async with database.transaction() as session:
                delivery = WebhookDelivery(supplier_id=UUID(supplier["supplier"]["id"]), event_type="t", payload={})
                session.add(delivery)
        finally:
            await database.dispose()
        return str(delivery.id)

    async def rfq_id() -> str:
        await world.path("/{round_id}")
        rfqs = (await supplier_client.get("/api/v1/rfqs")).json()
        return next(rfq["id"] for rfq in rfqs if rfq["round_id"] == world.values["round_id"])

    world = World(
        clients={
            "anonymous": as_key(""),
            "operator": as_key(OPERATOR_TOKEN),
            "supplier": supplier_client,
            "other_supplier": as_key(other_supplier["api_key"]["api_key"]),
            "leader": leader,
            "other_leader": as_key(other_leader_key),
        },
        values={
            "code": "ningbo",
            "supplier_id": supplier["supplier"]["id"],
            "key_id": supplier["api_key"]["id"],
            "community_id": community["id"],
            "provider": "test",
            "stop_id": str(uuid4()),
        },
        makers={
            "offer_id": offer_id,
            "package_id": package_id,
            "round_id": round_id,
            "run_id": run_id,
            "token": token,
            "rfq_id": rfq_id,
            "delivery_id": delivery_id,
            "award_id": award_id,
            "order_token": order_token,
            "market_id": market_id,
            "refund_id": refund_id,
            "awarded_id": awarded_id,
            "production_order_id": production_order_id,
            "shipment_id": shipment_id,
            "failure_id": failure_id,
            "exception_id": exception_id,
            "buyer_token": buyer_token,
            "case_id": case_id,
        },
    )
    return world


# Routes whose resource must be further along than a draft for the owner to get an answer.
PLANNED_PACKAGE_ROUTES = {"GET /api/v1/packages/{package_id}/plan"}
SIGNUP_ROUTES = {
    "GET /api/v1/packages/{package_id}/signup",
    "POST /api/v1/packages/{package_id}/signup/close",
    "POST /api/v1/packages/{package_id}/signup/adopt",
}


async def planned_package(world: World) -> str:
    """A package of the world's round, once a run has planned it."""
    run = (await world.clients["leader"].get(await world.path("/api/v1/match-runs/{run_id}"))).json()
    assert run["status"] == "planned", run
    return run["package_ids"][0]


def documented_operations(app: Any) -> set[str]:
    schema = app.openapi_schema.to_schema()
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"} and path.startswith("/api/")
    }


async def test_every_endpoint_has_a_policy(app: Any):
    missing = sorted(documented_operations(app) - POLICY.keys())
    assert not missing, f"add these endpoints to POLICY (who may call them?): {missing}"


@pytest.mark.parametrize("operation", sorted(POLICY), ids=str)
async def test_each_role_gets_what_it_may(operation: str, world: World):
    method, template = operation.split(" ", 1)
    if operation in PLANNED_PACKAGE_ROUTES:
        world.values["package_id"] = await planned_package(world)
    if operation in SIGNUP_ROUTES:
        await world.path("{token}")  # the package's sign-up is open
    if operation in STREAMS:  # a cancelled package's stream ends after its one event
        world.values["package_id"] = await world.makers["package_id"]()
        cancelled = await world.clients["leader"].post(
            await world.path("/api/v1/packages/{package_id}/cancel"), json={"reason": "stream test"}
        )
        assert cancelled.status_code == 200, cancelled.text
    path = await world.path(template)
    world_body = None
    if operation == "POST /api/v1/shipments/moves":  # the parcel is named in the body, not the path
        world_body = {"moves": [{"shipment_id": await world.path("{shipment_id}"), "step": "deliver"}]}
    answers = {}
    # Those refused first: an allowed call may change the resource (rotate a key, cancel a package).
    for role in sorted(ROLES, key=lambda role: POLICY[operation][role] == "ok"):
        client = world.clients[role]
        if role == "anonymous":
            client.headers.pop("authorization", None)
        body = BODIES[operation]() if operation in BODIES else {} if method in {"POST", "PUT", "PATCH"} else None
        body = world_body or body
        if operation in STREAMS:
            async with client.stream(method, path) as response:
                answers[role] = response.status_code
            continue
        if operation in FILES:
            response = await client.request(method, path, files=FILES[operation]())
        else:
            response = await client.request(method, path, json=body)
        answers[role] = response.status_code
        assert response.status_code < 500, f"{role}: {operation} -> {response.status_code} {response.text}"
    got = {role: "ok" if status not in (401, 403, 404) else status for role, status in answers.items()}
    assert got == POLICY[operation], f"{operation}: {answers}"
