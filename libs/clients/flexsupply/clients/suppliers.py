"""The suppliers service's API, as the other services call it."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from flexsupply.clients.retrying import call_peer
from flexsupply.contracts.offers import EligibleOffers
from flexsupply.contracts.sourcing import RoundResponses, RoundRfqs

SERVICE = "suppliers"


class SuppliersClient:
    """Reads are retried on transient failures; the httpx client brings base URL, token and timeouts."""

    def __init__(self, http: httpx.AsyncClient, *, attempts: int = 4, wait_initial_seconds: float = 0.2) -> None:
        self.http = http
        self.attempts = attempts
        self.wait_initial_seconds = wait_initial_seconds

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await call_peer(
            SERVICE,
            lambda: self.http.request(method, path, **kwargs),
            attempts=self.attempts,
            wait_initial_seconds=self.wait_initial_seconds,
        )

    async def eligible_offers(
        self, *, sku: str, needed_by: datetime, min_quality: int = 0, regions: Iterable[str] = ()
    ) -> EligibleOffers:
        """Offers able to serve a need, with their suppliers' capacities."""
        params: dict[str, str | int | list[str]] = {
            "sku": sku,
            "needed_by": needed_by.isoformat(),
            "min_quality": min_quality,
            "regions": list(regions),
        }
        response = await self._send("GET", "/api/v1/eligible-offers", params=params)
        return EligibleOffers.model_validate_json(response.content)

    async def regions(self) -> dict[str, str]:
        """The delivery regions the catalogue knows: code -> name."""
        response = await self._send("GET", "/api/v1/regions")
        return {region["code"]: region["name"] for region in response.json()}

    async def supplier_name(self, supplier_id: UUID) -> str:
        """The supplier's name, as people read it (pages name suppliers, the API ids; 404 as httpx.HTTPStatusError)."""
        response = await self._send("GET", f"/api/v1/suppliers/{supplier_id}")
        return response.json()["name"]

    async def round_rfqs(self, round_id: UUID) -> RoundRfqs:
        """The RFQs a sourcing round sent: supplier, status, when answered. A round whose opening event the
        suppliers service has not handled yet is a 404 (httpx.HTTPStatusError)."""
        response = await self._send("GET", f"/api/v1/rfq-rounds/{round_id}")
        return RoundRfqs.model_validate_json(response.content)

    async def round_responses(self, round_id: UUID) -> RoundResponses:
        """A round's current, still valid quotes, its declines and the asked suppliers' capacities (404 as in
        `round_rfqs`)."""
        response = await self._send("GET", f"/api/v1/rfq-rounds/{round_id}/responses")
        return RoundResponses.model_validate_json(response.content)

    async def supplier_for_api_key(self, api_key: str) -> UUID | None:
        """Whose key this is, or None for an unknown or revoked key (asked of the service that keeps the keys)."""
        response = await self._send("POST", "/api/v1/api-keys/introspect", json={"api_key": api_key})
        supplier_id = response.json().get("supplier_id")
        return UUID(supplier_id) if supplier_id else None


async def supplier_for_api_key(http: httpx.AsyncClient, api_key: str) -> UUID | None:
    """Whose key this is, for authenticating a request on a service that does not keep suppliers' keys
    (kit.auth.SupplierKeyIntrospection): the request waits, so it is tried twice, not four times."""
    return await SuppliersClient(http, attempts=2).supplier_for_api_key(api_key)
