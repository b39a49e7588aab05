"""Background work of the matching service: events in, idempotent, settings and engines made on the worker's loop."""

from flexsupply.kit.events import Consumer

# A round's reply deadline (SourcingRoundDue) arrives here; matching runs will handle it.
event_queue = Consumer("matching.events", max_retries=10, min_backoff=1_000, max_backoff=300_000, time_limit=120_000)
