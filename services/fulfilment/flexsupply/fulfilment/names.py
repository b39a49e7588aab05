"""The names people read on the board and the delivery page: suppliers' (the suppliers service keeps them) and the
packages' items (matching keeps them). Fulfilment stores ids; the pages ask for names outside any transaction, keep
them a while, and show the id or the sku when the other service cannot answer (a page never fails for a name).
"""

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar
from uuid import UUID

import httpx

from flexsupply.clients.matching import package_name
from flexsupply.clients.suppliers import SuppliersClient
from flexsupply.contracts.errors import PeerUnavailable
from flexsupply.kit.peers import peer_client
from flexsupply.kit.settings import KitSettings

Key = TypeVar("Key")
Value = TypeVar("Value")
RETRY_SECONDS = 30.0  # a name the other service could not give is asked again this soon


class DisplayNames:
    def __init__(self, settings: KitSettings, ttl_seconds: float = 600.0) -> None:
        self.settings = settings
        self.ttl_seconds = ttl_seconds
        self._suppliers: dict[UUID, tuple[float, str | None]] = {}
        self._packages: dict[UUID, tuple[float, str | None]] = {}
        self._regions: dict[str, tuple[float, dict[str, str] | None]] = {}

    async def suppliers(self, supplier_ids: Iterable[UUID]) -> dict[UUID, str]:
        """Each known supplier's name (one the suppliers service could not give is left out)."""

        async def ask(supplier_id: UUID) -> str:
            async with peer_client(self.settings, "suppliers") as http:
                return await SuppliersClient(http, attempts=1).supplier_name(supplier_id)

        names = {
            supplier_id: await self._cached(self._suppliers, supplier_id, ask) for supplier_id in set(supplier_ids)
        }
        return {supplier_id: name for supplier_id, name in names.items() if name is not None}

    async def package(self, package_id: UUID) -> str | None:
        """The package's item as buyers know it, or None when matching cannot say."""

        async def ask(key: UUID) -> str:
            async with peer_client(self.settings, "matching") as http:
                return await package_name(http, key)

        return await self._cached(self._packages, package_id, ask)

    async def regions(self) -> dict[str, str]:
        """Region code -> name, as the catalogue has them (empty when it cannot say)."""

        async def ask(_: str) -> dict[str, str]:
            async with peer_client(self.settings, "suppliers") as http:
                return await SuppliersClient(http, attempts=1).regions()

        return await self._cached(self._regions, "all", ask) or {}

    async def _cached(
        self, cache: dict[Key, tuple[float, Value | None]], key: Key, ask: Callable[[Key], Awaitable[Value]]
    ) -> Value | None:
        now = time.monotonic()
        if (kept := cache.get(key)) is not None and kept[0] > now:
            return kept[1]
        try:
            name: Value | None = await ask(key)
            until = now + self.ttl_seconds
        except (PeerUnavailable, httpx.HTTPError):
            name, until = (kept[1] if kept else None), now + RETRY_SECONDS
        cache[key] = (until, name)
        return name
