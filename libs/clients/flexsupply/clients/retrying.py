"""Which failed calls to retry, and after how long: transient server trouble only, honouring Retry-After."""

import httpx

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
