"""A supplier's webhook endpoint: a real HTTP server on loopback that records what it receives."""

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
    # Status codes to answer, in order; 200 once they run out.
    answers: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def fake_supplier_server() -> Iterator[FakeSupplier]:
    fake: FakeSupplier | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert fake is not None
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with fake.lock:
                fake.received.append(ReceivedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = fake.answers.pop(0) if fake.answers else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

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
