"""The matching service's API, as the other services call it."""

from uuid import UUID

import httpx

from flexsupply.clients.retrying import call_peer

SERVICE = "matching"


class MatchingClient:
    """Reads are retried on transient failures; the httpx client brings base URL, token and timeouts."""

    def __init__(self, http: httpx.AsyncClient, *, attempts: int = 4, wait_initial_seconds: float = 0.2) -> None:
        self.http = http
        self.attempts = attempts
        self.wait_initial_seconds = wait_initial_seconds

    async def package_name(self, package_id: UUID) -> str:
        """What buyers call the package's item: its display name, else its title (from its public sale page)."""
        response = await call_peer(
            SERVICE,
            lambda: self.http.get(f"/api/v1/sales/{package_id}"),
            attempts=self.attempts,
            wait_initial_seconds=self.wait_initial_seconds,
        )
        sale = response.json()
        return sale.get("display_name") or sale["title"]
