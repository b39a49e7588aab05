"""The matching service's API for suppliers: their awards and reservations, asked with the supplier's own key.

The shapes are the API's answers as a supplier's client reads them (fields it does not use are ignored): the
matching service owns them and decides what a key may see, so a client never widens what the supplier is allowed.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict

from flexsupply.clients.retrying import call_peer

SERVICE = "matching"


class AwardLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    offer_id: UUID
    quantities: dict[str, int]  # units per region
    unit_cents: int
    shipping_unit_cents: dict[str, int]
    fixed_cents: int
    total_cents: int


class Award(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    package_id: UUID
    supplier_id: UUID
    lines: list[AwardLine]
    total_cents: int
    currency: str
    due_by: datetime
    answer_by: datetime
    status: str  # offered, accepted, declined, expired, withdrawn
    reason: str | None
    answered_at: datetime | None
    created_at: datetime

    @property
    def units(self) -> int:
        return sum(sum(line.quantities.values()) for line in self.lines)


class ReservationLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    offer_id: UUID
    quantity: int
    reserve_unit_cents: int
    total_cents: int


class Reservation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    package_id: UUID
    lines: list[ReservationLine]
    total_cents: int
    status: str  # held, released
    created_at: datetime

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


class MatchingClient:
    """Reads are retried on transient failures; answers are sent once (a second accept would be a 409)."""

    def __init__(
        self, http: httpx.AsyncClient, *, api_key: str, attempts: int = 3, wait_initial_seconds: float = 0.2
    ) -> None:
        self.http = http
        self.headers = {"authorization": f"Bearer {api_key}"}
        self.attempts = attempts
        self.wait_initial_seconds = wait_initial_seconds

    async def _send(self, method: str, path: str, *, attempts: int | None = None, **kwargs: Any) -> httpx.Response:
        return await call_peer(
            SERVICE,
            lambda: self.http.request(method, path, headers=self.headers, **kwargs),
            attempts=attempts or self.attempts,
            wait_initial_seconds=self.wait_initial_seconds,
        )

    async def awards(self, *, limit: int = 100) -> list[Award]:
        """The supplier's awards, newest first."""
        response = await self._send("GET", "/api/v1/awards", params={"limit": limit})
        return [Award.model_validate(award) for award in response.json()]

    async def accept_award(self, award_id: UUID) -> Award:
        response = await self._send("POST", f"/api/v1/awards/{award_id}/accept", attempts=1)
        return Award.model_validate_json(response.content)

    async def decline_award(self, award_id: UUID, reason: str) -> Award:
        response = await self._send("POST", f"/api/v1/awards/{award_id}/decline", attempts=1, json={"reason": reason})
        return Award.model_validate_json(response.content)

    async def reservations(self, *, limit: int = 100) -> list[Reservation]:
        """The backup capacity the supplier holds, newest first."""
        response = await self._send("GET", "/api/v1/reservations", params={"limit": limit})
        return [Reservation.model_validate(reservation) for reservation in response.json()]
