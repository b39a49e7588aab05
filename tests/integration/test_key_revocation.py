"""A revoked supplier key stops working on the services that do not keep keys within the documented window."""

import asyncio
import time
from collections.abc import Callable

import httpx

from flexsupply.kit.auth import KEY_CACHE_SECONDS
from tests.support.catalogue import create_supplier

KeyClient = Callable[[str], httpx.AsyncClient]
# Where a supplier's key is checked by asking the suppliers service: matching's awards, fulfilment's production.
ELSEWHERE = ("/api/v1/awards", "/api/v1/production-orders")


async def test_a_revoked_key_is_refused_everywhere_within_the_window(operator: httpx.AsyncClient, as_key: KeyClient):
    created = await create_supplier(operator)
    supplier = as_key(created["api_key"]["api_key"])
    for path in ELSEWHERE:  # each service now remembers the key as good
        assert (await supplier.get(path)).status_code == 200, path

    revoked_at = time.monotonic()
    revoked = await operator.delete(
        f"/api/v1/suppliers/{created['supplier']['id']}/api-keys/{created['api_key']['id']}"
    )
    assert revoked.status_code == 200
    assert (await supplier.get("/api/v1/me")).status_code == 401  # the keeper refuses it at once

    refused_after: dict[str, float] = {}
    while len(refused_after) < len(ELSEWHERE) and time.monotonic() - revoked_at < KEY_CACHE_SECONDS + 2:
        for path in ELSEWHERE:
            if path not in refused_after and (await supplier.get(path)).status_code == 401:
                refused_after[path] = time.monotonic() - revoked_at
        await asyncio.sleep(0.1)
    assert set(refused_after) == set(ELSEWHERE), f"still accepted after {KEY_CACHE_SECONDS + 2}s: {refused_after}"
    assert max(refused_after.values()) <= KEY_CACHE_SECONDS + 0.5, refused_after
    assert KEY_CACHE_SECONDS <= 5
