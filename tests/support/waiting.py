"""Waiting for background work, which is asynchronous by design: a worker, a relay, a running stack."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], timeout_seconds: float = 15.0, *, what: str | None = None
) -> T:
    """Poll until `probe` returns something truthy, and return it; fail naming `what` (else the probe) and the
    last answer if it has not within `timeout_seconds`."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            waited_for = what or getattr(probe, "__qualname__", repr(probe))
            raise AssertionError(f"not within {timeout_seconds}s: {waited_for} (last: {result!r})")
        await asyncio.sleep(0.05)
