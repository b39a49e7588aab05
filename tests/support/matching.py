"""Builders of valid matching requests (communities, demand packages, sourcing rounds), so each test states only
what it varies."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

from tests.support.catalogue import ensure_regions

REGIONS = ("ningbo", "shanghai", "chengdu")


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def register_community(operator: httpx.AsyncClient, **changes: Any) -> tuple[dict[str, Any], str]:
    """Register a community with a name no other test uses (and the catalogue's regions packages use); returns the
    community and its leader's API key."""
    await ensure_regions(operator, *REGIONS)
    body = {"name": f"Bakers {uuid4().hex[:8]}", "leader": {"name": "Zhang Min", "contact": "wechat:zhangmin"}}
    response = await operator.post("/api/v1/communities", json=body | changes)
    assert response.status_code == 201, response.text
    created = response.json()
    return created["community"], created["leader_key"]["api_key"]


def package_body(**changes: Any) -> dict[str, Any]:
    """A draft for 300 loaves: sale in 5 days for a day, needed in 20 days."""
    body: dict[str, Any] = {
        "title": "Sourdough gift box",
        "sku": "bread-gift-box",
        "spec": "Two 500 g loaves, boxed",
        "quantities": {"ningbo": 120, "shanghai": 180},
        "needed_by": _at(days=20),
        "min_quality": 80,
        "backups": 1,
        "target_unit_cents": 4200,
        "sale_opens_at": _at(days=5),
        "sale_closes_at": _at(days=6),
        "threshold_units": 100,
        "cap_units": 400,
        "per_buyer_limit": 5,
        "sale_price_cents": 5900,
    }
    return body | changes


async def create_package(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    """Draft a package as `client` (a leader, or an operator naming `community_id`)."""
    response = await client.post("/api/v1/packages", json=package_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def round_body(*package_ids: str, **changes: Any) -> dict[str, Any]:
    """Replies due in two days."""
    return {"package_ids": list(package_ids), "reply_by": _at(days=2)} | changes


async def start_round(client: httpx.AsyncClient, *package_ids: str, **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/sourcing-rounds", json=round_body(*package_ids, **changes))
    assert response.status_code == 201, response.text
    return response.json()


async def set_firm_quantities(client: httpx.AsyncClient, package_id: str, **quantities: int) -> httpx.Response:
    """What was sold per region (leader or operator); the answer, to check a 200 or a 4xx."""
    return await client.post(f"/api/v1/packages/{package_id}/firm-quantities", json={"quantities": quantities})


async def request_award(client: httpx.AsyncClient, package_id: str, **changes: Any) -> dict[str, Any]:
    """Award the package's firm quantities: a small solver time limit, suppliers answering within a day."""
    body = {"time_limit_seconds": 5, "answer_within_hours": 24} | changes
    response = await client.post(f"/api/v1/packages/{package_id}/award", json=body)
    assert response.status_code == 202, response.text
    return response.json()
