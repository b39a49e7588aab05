"""The fulfilment service's API for suppliers: their production orders, batches, parcels and manifests, asked with
the supplier's own key (fulfilment answers a supplier only about its own production orders; another's is a 404).

The shapes are the API's answers as a supplier's client reads them (fields it does not use are ignored).
"""

from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict

from flexsupply.clients.retrying import call_peer

SERVICE = "fulfilment"


class ProductionOrder(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    package_id: UUID
    sku: str
    region: str
    quantity: int
    unit_cents: int
    shipping_cents: int
    currency: str
    due_by: datetime
    status: str  # issued, accepted, in_production, shipped, failed
    failed_units: int
    created_at: datetime


class Batch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    quantity: int
    lot_number: str
    quality_passed: bool
    status: str  # ready, rejected, shipped
    reported_at: datetime
    shipment_count: int = 0


class ProductionOrderDetail(ProductionOrder):
    made_units: int
    shipped_units: int
    order_count: int
    batches: list[Batch]


class Shipment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    batch_id: UUID | None
    order_id: UUID
    quantity: int
    status: str  # planned, shipped, delivered, exception, cancelled
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None


class ParcelShipped(BaseModel):
    """One parcel handed to a carrier."""

    shipment_id: UUID
    carrier: str
    tracking_number: str


class FulfilmentClient:
    """Reads are retried on transient failures; a move is sent once, a batch with its idempotency key may be
    sent again."""

    def __init__(
        self, http: httpx.AsyncClient, *, api_key: str, attempts: int = 3, wait_initial_seconds: float = 0.2
    ) -> None:
        self.http = http
        self.headers = {"authorization": f"Bearer {api_key}"}
        self.attempts = attempts
        self.wait_initial_seconds = wait_initial_seconds

    async def _send(
        self,
        method: str,
        path: str,
        *,
        attempts: int | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return await call_peer(
            SERVICE,
            lambda: self.http.request(method, path, headers=self.headers | (headers or {}), **kwargs),
            attempts=attempts or self.attempts,
            wait_initial_seconds=self.wait_initial_seconds,
        )

    async def production_orders(self, *, limit: int = 100) -> list[ProductionOrder]:
        """The supplier's production orders, newest first."""
        response = await self._send("GET", "/api/v1/production-orders", params={"limit": limit})
        return [ProductionOrder.model_validate(order) for order in response.json()]

    async def production_order(self, production_order_id: UUID) -> ProductionOrderDetail:
        response = await self._send("GET", f"/api/v1/production-orders/{production_order_id}")
        return ProductionOrderDetail.model_validate_json(response.content)

    async def move_production_order(self, production_order_id: UUID, step: str) -> ProductionOrder:
        """`accept`, then `start`."""
        response = await self._send(
            "POST", f"/api/v1/production-orders/{production_order_id}/moves", attempts=1, json={"step": step}
        )
        return ProductionOrder.model_validate_json(response.content)

    async def report_batch(
        self, production_order_id: UUID, *, quantity: int, lot_number: str, quality_passed: bool, idempotency_key: str
    ) -> Batch:
        """A batch is ready; sent again with the same key, the first answer comes back and nothing is added."""
        response = await self._send(
            "POST",
            f"/api/v1/production-orders/{production_order_id}/batches",
            headers={"idempotency-key": idempotency_key},
            json={"quantity": quantity, "lot_number": lot_number, "quality_passed": quality_passed},
        )
        return Batch.model_validate_json(response.content)

    async def shipments(self, production_order_id: UUID, *, limit: int = 500) -> list[Shipment]:
        """The production order's parcels, in manifest order."""
        response = await self._send(
            "GET", f"/api/v1/production-orders/{production_order_id}/shipments", params={"limit": limit}
        )
        return [Shipment.model_validate(shipment) for shipment in response.json()]

    async def ship(self, parcels: list[ParcelShipped]) -> list[Shipment]:
        """Hand parcels to carriers, all or none."""
        moves = [{"step": "ship", **parcel.model_dump(mode="json")} for parcel in parcels]
        response = await self._send("POST", "/api/v1/shipments/moves", attempts=1, json={"moves": moves})
        return [Shipment.model_validate(shipment) for shipment in response.json()]

    async def manifest_csv(self, production_order_id: UUID, batch_id: UUID | None = None) -> str:
        """The courier's manifest as CSV text."""
        params = {"batch_id": str(batch_id)} if batch_id else {}
        response = await self._send(
            "GET", f"/api/v1/production-orders/{production_order_id}/manifest.csv", params=params
        )
        return response.text

    async def manifest_json(self, production_order_id: UUID, batch_id: UUID | None = None) -> list[dict[str, Any]]:
        """The courier's manifest as JSON rows, values unchanged."""
        params = {"batch_id": str(batch_id)} if batch_id else {}
        response = await self._send("GET", f"/api/v1/production-orders/{production_order_id}/manifest", params=params)
        return response.json()
