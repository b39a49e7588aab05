"""When a failed webhook is tried again: a fixed schedule spanning more than a day, as Standard Webhooks senders do.

A supplier's endpoint may be down for a night (a workshop's router, a deploy gone wrong); a schedule that gives up
within minutes loses its RFQs and awards for good. Attempts are at-least-once: the same `webhook-id` may arrive
twice (a worker killed after the call, before recording it), and receivers dedupe on it.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

# Waits after each failed attempt: the first is immediate, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.
STANDARD_SCHEDULE_SECONDS: Final = (5.0, 300.0, 1_800.0, 7_200.0, 18_000.0, 36_000.0, 36_000.0)
# Beyond the call's own deadline, for the result to be written: a lease that lasts longer only delays recovery
# from a killed worker.
LEASE_MARGIN_SECONDS: Final = 5.0


class NoWebhookUrl(Exception):
    """The supplier has no webhook URL to send to."""


@dataclass(frozen=True)
class RetryPolicy:
    schedule_seconds: tuple[float, ...]
    call_timeout_seconds: float

    @property
    def max_attempts(self) -> int:
        return len(self.schedule_seconds) + 1

    def wait_after(self, attempt_number: int) -> timedelta | None:
        """How long after failed attempt `attempt_number` (from 1) the next is due; None once the schedule ends."""
        if attempt_number > len(self.schedule_seconds):
            return None
        return timedelta(seconds=self.schedule_seconds[attempt_number - 1])

    @property
    def lease(self) -> timedelta:
        """How long an attempt in flight holds its delivery: the call is cut at its timeout, so once this has passed
        the worker making it is gone and the attempt may be made again."""
        return timedelta(seconds=self.call_timeout_seconds + LEASE_MARGIN_SECONDS)
