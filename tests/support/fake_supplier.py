"""A real HTTP server on loopback that records what it receives and answers as scripted.

It plays a supplier's webhook endpoint, or a flaky upstream for the clients' retries.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeSupplier:
    url: str
    received: list[ReceivedRequest] = field(default_factory=list)
    # Answers (status, headers) in order; then 200 with `body`.
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    body: bytes = b""
    lock: threading.Lock = field(default_factory=threading.Lock)
    # While cleared, requests are held before they are answered (a slow endpoint; a caller killed mid-call).
    open_gate: threading.Event = field(default_factory=lambda: _opened())
    held: int = 0


def _opened() -> threading.Event:
    gate = threading.Event()
    gate.set()
    return gate


@contextmanager
def fake_supplier_server() -> Iterator[FakeSupplier]:
    fake: FakeSupplier | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert fake is not None
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with fake.lock:
                fake.received.append(ReceivedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, headers = fake.answers.pop(0) if fake.answers else (200, {})
                fake.held += not fake.open_gate.is_set()
            fake.open_gate.wait(timeout=60)
            content = fake.body if status == 200 else b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeSupplier(url=f"http://127.0.0.1:{server.server_address[1]}/webhooks")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
