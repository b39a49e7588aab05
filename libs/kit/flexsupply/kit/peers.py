"""How a service reaches another: by URL when distributed, in process when the stack is embedded.

The typed clients in libs/clients take the httpx client made here, so the same code runs both ways. Embedded, the
peer's routes live in this very app; its database engines belong to the app's event loop, so a call made from
another loop (a worker thread's) is carried over to the app's loop.
"""

import asyncio
import inspect
from collections.abc import AsyncIterator, Coroutine, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar.types import ASGIApp

from flexsupply.contracts.errors import PeerUnavailable
from flexsupply.kit.http import create_http_client
from flexsupply.kit.settings import KitSettings

_in_process: dict[str, tuple[ASGIApp, asyncio.AbstractEventLoop]] = {}
# Calls running on the app's loop for callers on other loops: finished, or cancelled, before the app stops.
_in_flight: set[asyncio.Task[httpx.Response]] = set()


@asynccontextmanager
async def serving_in_process(services: Iterable[str], app: ASGIApp) -> AsyncIterator[None]:
    """While the embedded app runs, calls to these services go to it (from any event loop of this process)."""
    names = list(services)
    loop = asyncio.get_running_loop()
    for name in names:
        _in_process[name] = (app, loop)
    try:
        yield
    finally:
        for name in names:
            _in_process.pop(name, None)
        calls = [task for task in _in_flight if task.get_loop() is loop]
        for task in calls:
            task.cancel()
        await asyncio.gather(*calls, return_exceptions=True)


class _InProcessTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop, timeout_seconds: float) -> None:
        self.asgi = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.loop = loop
        self.timeout_seconds = timeout_seconds

    async def _call(self, request: httpx.Request) -> httpx.Response:
        response = await self.asgi.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

    async def _tracked_call(self, request: httpx.Request) -> httpx.Response:
        task = asyncio.current_task()
        assert task is not None
        _in_flight.add(task)
        try:
            return await self._call(request)
        finally:
            _in_flight.discard(task)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if asyncio.get_running_loop() is self.loop:
            return await self._call(request)
        call = self._tracked_call(request)
        try:
            future = asyncio.run_coroutine_threadsafe(call, self.loop)
        except RuntimeError as exc:  # the app's loop has closed: the service is gone
            call.close()
            raise httpx.ConnectError(f"the in-process app has stopped: {exc}", request=request) from exc
        try:
            # Bounded like a network call: a call handed to the app's loop just as it stopped running would
            # otherwise wait forever (and hold its worker thread, seen on CI as a worker that never stopped).
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_seconds)
        except TimeoutError:
            future.cancel()
            _close_if_never_started(call)
            raise httpx.ReadTimeout("the in-process app did not answer in time", request=request) from None
        except asyncio.CancelledError:
            _close_if_never_started(call)
            caller = asyncio.current_task()
            if caller is not None and caller.cancelling():
                raise  # this caller is being cancelled
            raise httpx.ConnectError("the in-process app stopped during the call", request=request) from None


def _close_if_never_started(call: Coroutine[Any, Any, Any]) -> None:
    """A call the app's loop never ran (it stopped first) is closed, or Python reports it as never awaited when it
    is collected: a warning that CI's embedded run turned into a failure of whichever test was running then."""
    if inspect.getcoroutinestate(call) == inspect.CORO_CREATED:
        call.close()


def peer_client(settings: KitSettings, service: str) -> httpx.AsyncClient:
    """An httpx client for `service`'s API carrying the operator token (services call each other as operators).

    Close it when done (`async with`). Raises PeerUnavailable when the service cannot be reached from here."""
    token = settings.require_operator_token()
    url = settings.peer_url(service)
    if url:
        return create_http_client(settings, base_url=url, token=token)
    if service in _in_process:
        app, loop = _in_process[service]
        return httpx.AsyncClient(
            transport=_InProcessTransport(app, loop, settings.http_timeout_seconds),
            base_url=f"http://{service}.in-process",
            headers={"authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(settings.http_timeout_seconds, connect=3.0),
        )
    raise PeerUnavailable(service, f"no URL is set (FLEXSUPPLY_{service.upper()}_URL) and it does not run here")
