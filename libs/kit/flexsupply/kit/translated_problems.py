"""Problem details in the request's language, for the endpoints people reach from a form or a phone.

kit.errors writes every problem in English (API clients read `type` and the members, not the words). On a route
that people use, this middleware rewrites the answer's words with the service's `translate(problem) -> problem`,
which reads the request's language from kit.i18n; every other answer passes untouched.
"""

import json
from collections.abc import Callable
from typing import Any

from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send

from flexsupply.kit.errors import PROBLEM_MEDIA_TYPE

Translate = Callable[[dict[str, Any]], dict[str, Any]]


class TranslatedProblems:
    """Route middleware (`DefineMiddleware(TranslatedProblems, translate=...)`)."""

    def __init__(self, app: ASGIApp, translate: Translate) -> None:
        self.app = app
        self.translate = translate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        held: HTTPResponseStartEvent | None = None  # a problem's start, held until its body is whole
        body = bytearray()

        async def send_translated(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if dict(headers).get(b"content-type", b"").startswith(PROBLEM_MEDIA_TYPE.encode()):
                    held = {"type": "http.response.start", "status": message["status"], "headers": headers}
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                content = json.dumps(self.translate(json.loads(body)), ensure_ascii=False).encode()
                headers = [(key, value) for key, value in held["headers"] if key != b"content-length"]
                held["headers"] = [*headers, (b"content-length", str(len(content)).encode())]
                finished: HTTPResponseBodyEvent = {"type": "http.response.body", "body": content, "more_body": False}
                await send(held)
                await send(finished)
                return
            await send(message)

        await self.app(scope, receive, send_translated)
