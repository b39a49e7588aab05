"""Which failed calls to retry, and after how long: transient server trouble only, honouring Retry-After.

A peer that stays down becomes PeerUnavailable (503 naming it), never a hang: every attempt has the http client's
timeouts, and the attempts are bounded.
"""

from collections.abc import Awaitable, Callable

import httpx
import stamina

from flexsupply.contracts.errors import PeerUnavailable

RETRY_AFTER_CAP_SECONDS = 30.0
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})


class TransientResponse(Exception):
    """An answer worth asking again for (overloaded, or a gateway without its upstream)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url} answered {response.status_code}")
        self.response = response


def raise_for_transient(response: httpx.Response) -> httpx.Response:
    if response.status_code in TRANSIENT_STATUS:
        raise TransientResponse(response)
    return response


def retry_decision(exc: Exception) -> bool | float:
    """stamina's backoff hook: False = give up, True = back off as usual, a float = wait that many seconds."""
    if isinstance(exc, TransientResponse):
        retry_after = exc.response.headers.get("retry-after", "")
        if retry_after.isdigit():
            return min(float(retry_after), RETRY_AFTER_CAP_SECONDS)
        return True
    return isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)


async def call_peer(
    service: str,
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    attempts: int,
    wait_initial_seconds: float,
) -> httpx.Response:
    """Send, retrying transient failures; a 4xx is raised as httpx.HTTPStatusError (the caller's mistake)."""
    try:
        async for attempt in stamina.retry_context(
            on=retry_decision, attempts=attempts, wait_initial=wait_initial_seconds, wait_max=5.0
        ):
            with attempt:
                response = raise_for_transient(await send())
                return response.raise_for_status()
    except TransientResponse as exc:
        raise PeerUnavailable(service, f"it answered {exc.response.status_code}") from exc
    except httpx.TransportError as exc:
        raise PeerUnavailable(service, f"{type(exc).__name__}: {exc}"[:300]) from exc
    raise AssertionError("stamina re-raises the last failure once attempts run out")
