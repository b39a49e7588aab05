"""A supplier with an RFQ in its inbox, through the public APIs alone: the supplier's offer (and a backup's), a
leader's package for it and the sourcing round that asks them. Works against any running stack (an in-process app
or `flexsupply up`); the desk's tests carry on from here by clicking."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx

from tests.support.catalogue import create_supplier, offer_body
from tests.support.fulfilment import ok
from tests.support.matching import create_package, register_community, start_round
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class AskedSupplier:
    sku: str
    package_id: str
    round_id: str
    leader: httpx.AsyncClient
    key: str  # the maker's API key, as it types it on the desk
    supplier: dict[str, Any]  # the maker, as registered
    maker: httpx.AsyncClient  # the maker's own API client
    rfq_id: str


async def asked_supplier(
    operator: httpx.AsyncClient,
    as_key: KeyClient,
    *,
    units: int = 6,
    region: str = "ningbo",
    backup: bool = True,
    **package_terms: Any,
) -> AskedSupplier:
    """A maker (and, with `backup`, a dearer supplier whose reserve backs it) asked to quote for `units` of a
    package's new sku in `region` (with `package_terms`, such as its sale window); the maker's RFQ is in its
    inbox."""
    sku = f"desk-{uuid4().hex[:8]}"
    roles: dict[str, dict[str, Any]] = {"maker": {"price_tiers": [{"min_quantity": 0, "unit_cents": 3000}]}}
    if backup:
        roles["backup"] = {"price_tiers": [{"min_quantity": 0, "unit_cents": 9000}], "reserve_cents": 50}
    made: dict[str, tuple[str, dict[str, Any], httpx.AsyncClient]] = {}
    for role, terms in roles.items():
        created = await create_supplier(operator, regions=[region], name=f"{role.title()} 作坊 {uuid4().hex[:4]}")
        key = created["api_key"]["api_key"]
        client = as_key(key)
        body = offer_body(sku=sku, moq=1, capacity=10 * units, shipping_cents={region: 300}, **terms)
        ok(await client.post("/api/v1/offers", json=body), 201)
        made[role] = (key, created["supplier"], client)
    _, leader_key = await register_community(operator)
    leader = as_key(leader_key)
    package = await create_package(
        leader,
        sku=sku,
        quantities={region: units},
        backups=1 if backup else 0,
        threshold_units=1,
        cap_units=units,
        **package_terms,
    )
    sourcing = await start_round(leader, package["id"])
    key, supplier, maker = made["maker"]

    async def in_inbox() -> str | None:
        rfqs = ok(await maker.get("/api/v1/rfqs"))
        return rfqs[0]["id"] if rfqs else None

    rfq_id = await eventually(in_inbox, what="the maker's RFQ reaches its inbox")
    return AskedSupplier(sku, package["id"], sourcing["id"], leader, key, supplier, maker, rfq_id)


def csrf_token(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)
