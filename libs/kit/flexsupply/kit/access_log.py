"""Logs without buyers' secrets: a buyer's order, sign-up and delivery links carry their token in the path, and a
token is the whole key to an order (its phone and address). uvicorn's access log and litestar's own log print
paths, so every path they log is redacted first.

A path segment that looks like a token (16 or more URL-safe characters with a digit or a capital, not a UUID) and
every query value become `[redacted]`; ids, route names and statuses stay readable.
"""

import logging
import re
from typing import Any, Final

REDACTED: Final = "[redacted]"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_\-]{16,}(?=[/?#\s\"']|$)")
_QUERY_VALUE = re.compile(r"(?<=[?&])([^=&#\s\"']+)=[^&#\s\"']*")


def _segment(match: re.Match[str]) -> str:
    text = match.group(0)
    if _UUID.fullmatch(text) or not any(c.isdigit() or c.isupper() for c in text):
        return text
    return REDACTED


def redact(text: str) -> str:
    """`text` with tokens in its paths and query values replaced."""
    return _QUERY_VALUE.sub(rf"\1={REDACTED}", _SEGMENT.sub(_segment, text))


class RedactTokens(logging.Filter):
    """Put on a handler (logging config: `{"()": "flexsupply.kit.access_log.RedactTokens"}`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_redacted(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with its access and error logs redacted."""
    from uvicorn.config import LOGGING_CONFIG

    handlers = {name: {**handler, "filters": ["redact"]} for name, handler in LOGGING_CONFIG["handlers"].items()}
    return {**LOGGING_CONFIG, "filters": {"redact": {"()": RedactTokens}}, "handlers": handlers}
