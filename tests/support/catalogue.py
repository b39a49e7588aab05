"""Builders of valid catalogue requests, so each test states only what it varies."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

from flexsupply.contracts.events import RfqItem


def offer_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": "bread-gift-box",
        "moq": 100,
        "capacity": 600,
        "lead_time_days": 5,
        "quality": 92,
        "fixed_cents": 20000,
        "reserve_cents": 150,
        "price_tiers": [{"min_quantity": 0, "unit_cents": 3900}, {"min_quantity": 300, "unit_cents": 3500}],
        "shipping_cents": {"ningbo": 300, "shanghai": 600},
    }
    body.update(changes)
    return body


async def ensure_regions(operator: httpx.AsyncClient, *codes: str) -> None:
    for code in codes:
        response = await operator.put(f"/api/v1/regions/{code}", json={"name": code.title()})
        assert response.status_code == 200, response.text


def supplier_body(**changes: Any) -> dict[str, Any]:
    """A supplier serving ningbo and shanghai, with a name no other test uses."""
    body = {
        "name": f"Workshop {uuid4().hex[:8]}",
        "contact_name": "Li Wei",
        "contact_email": "li.wei@example.com",
        "regions": ["ningbo", "shanghai"],
    }
    return body | changes


async def supplier_names(operator: httpx.AsyncClient) -> list[str]:
    return [supplier["name"] for supplier in (await operator.get("/api/v1/suppliers", params={"limit": 500})).json()]


async def create_supplier(operator: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    """Register a supplier; returns the whole answer (supplier, api_key, webhook_secret)."""
    await ensure_regions(operator, "ningbo", "shanghai", "chengdu")
    response = await operator.post("/api/v1/suppliers", json=supplier_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def quote_body(**changes: Any) -> dict[str, Any]:
    """A valid quote: an offer's terms that hold for a week."""
    valid_until = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return offer_body(valid_until=valid_until) | changes


def rfq_item(sku: str, **changes: Any) -> RfqItem:
    """One package's need in a round: 200 units to ningbo in ten days, quality 80 or better."""
    values: dict[str, Any] = {
        "package_id": uuid4(),
        "sku": sku,
        "spec": "as the group asked",
        "quantities": {"ningbo": 200},
        "needed_by": datetime.now(UTC) + timedelta(days=10),
        "min_quality": 80,
    }
    return RfqItem(**(values | changes))
