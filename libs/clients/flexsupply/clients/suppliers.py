"""The suppliers service's API, as the other services call it."""

from collections.abc import Iterable
from datetime import datetime

import httpx
import stamina

from flexsupply.clients.retrying import raise_for_transient, retry_decision
from flexsupply.contracts.offers import EligibleOffers


class SuppliersClient:
    """Reads are retried on transient failures; the httpx client brings base URL, token and timeouts."""

    def __init__(self, http: httpx.AsyncClient, *, attempts: int = 4, wait_initial_seconds: float = 0.2) -> None:
        self.http = http
        self.attempts = attempts
        self.wait_initial_seconds = wait_initial_seconds

    async def _get(self, path: str, params: dict[str, str | int | list[str]]) -> httpx.Response:
        async for attempt in stamina.retry_context(
            on=retry_decision, attempts=self.attempts, wait_initial=self.wait_initial_seconds, wait_max=5.0
        ):
            with attempt:
                response = raise_for_transient(await self.http.get(path, params=params))
                return response.raise_for_status()  # a 4xx is the caller's mistake: retry_decision says stop
        raise AssertionError("stamina re-raises the last failure once attempts run out")

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
        response = await self._get("/api/v1/eligible-offers", params)
        return EligibleOffers.model_validate_json(response.content)
