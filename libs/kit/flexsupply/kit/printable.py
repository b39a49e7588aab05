"""No control character reaches a handler through the URL: a NUL in a path or query string is a 400 naming where.

Bodies are held to contracts.text by their schemas; path and query parameters (tokens in links, a sku to search,
the people's pages) are checked here once, for every route, as PostgreSQL refuses a NUL even in a lookup.
"""

import re
from urllib.parse import parse_qsl

from litestar.exceptions import ValidationException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from flexsupply.contracts.text import SINGLE_LINE

_PRINTABLE = re.compile(SINGLE_LINE)


def _refuse(field: str, source: str) -> ValidationException:
    message = "must not contain control characters"
    return ValidationException(detail=message, extra=[{"key": field, "message": message, "source": source}])


class PrintableUrls(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if not _PRINTABLE.match(scope["path"]):
            raise _refuse("path", "path")
        query = scope.get("query_string", b"").decode("utf-8", "surrogateescape")
        for name, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
            if not (_PRINTABLE.match(name) and _PRINTABLE.match(value)):
                raise _refuse(name if _PRINTABLE.match(name) else "query", "query")
        await next_app(scope, receive, send)
