"""The one place httpx is configured: timeouts, pool limits and connection retries."""

import httpx

from flexsupply.kit.settings import KitSettings


def create_http_client(settings: KitSettings, *, base_url: str = "", token: str | None = None) -> httpx.AsyncClient:
    """One client per process and event loop, made in a lifespan and closed with it."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(settings.http_timeout_seconds, connect=3.0),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
        # Retries here cover only failed connects; 5xx and timeouts are retried by the caller where it is safe.
        transport=httpx.AsyncHTTPTransport(retries=2),
    )
