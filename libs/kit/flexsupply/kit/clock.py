"""The one source of 'now': timezone-aware UTC.

Tests move it forward (`travel`) rather than wait on the real clock for a sale's window or a deadline: everything
that asks the time (use cases, actors, the outbox relays' due messages) asks here, so the embedded app, its worker
threads and its relays all see the same moved clock.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_ahead = timedelta()


def utc_now() -> datetime:
    return datetime.now(UTC) + _ahead


@contextmanager
def travel(ahead: timedelta) -> Iterator[None]:
    """Within the block, 'now' is `ahead` later, in every thread of this process; after it, as it was."""
    global _ahead
    before = _ahead
    _ahead = before + ahead
    try:
        yield
    finally:
        _ahead = before
