"""The one source of 'now' can be moved forward, for every thread of the process, and comes back after."""

import threading
from datetime import UTC, datetime, timedelta

from flexsupply.kit.clock import travel, utc_now


def test_travel_moves_now_ahead_in_every_thread_and_back_after() -> None:
    seen: list[datetime] = []
    with travel(timedelta(hours=2)):
        thread = threading.Thread(target=lambda: seen.append(utc_now()))
        thread.start()
        thread.join()
        assert utc_now() - datetime.now(UTC) > timedelta(hours=1, minutes=59)
        with travel(timedelta(hours=1)):
            assert utc_now() - datetime.now(UTC) > timedelta(hours=2, minutes=59)
    assert seen[0] - datetime.now(UTC) > timedelta(hours=1, minutes=59)
    assert abs(utc_now() - datetime.now(UTC)) < timedelta(seconds=1)
    assert utc_now().tzinfo is UTC
