"""A call to an embedded service whose event loop stopped before running it: a timeout for the caller, and nothing
left behind that Python reports as never awaited (CI's embedded run failed an unrelated test on that warning)."""

import asyncio
import gc
import warnings

import httpx
import pytest
from litestar import Litestar

from flexsupply.kit.peers import _InProcessTransport  # pyright: ignore[reportPrivateUsage]


def test_a_call_the_stopped_app_never_ran_times_out_and_leaves_no_coroutine_unawaited() -> None:
    stopped = asyncio.new_event_loop()  # the app's loop, no longer running: the call is queued on it, never run
    transport = _InProcessTransport(Litestar(route_handlers=[]), stopped, timeout_seconds=0.2)

    async def call() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://matching.in-process") as client:
            with pytest.raises(httpx.ReadTimeout, match="did not answer in time"):
                await client.get("/health")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(call())
        stopped.close()  # drops the queued call, as the app's loop closing did on CI
        gc.collect()
    assert [str(warning.message) for warning in caught if "never awaited" in str(warning.message)] == []
