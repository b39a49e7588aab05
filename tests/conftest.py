"""Test configuration shared by every level.

By default everything is embedded: SQLite files and the in-process broker. Point the same suite at real servers with
  FLEXSUPPLY_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
  FLEXSUPPLY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/   (or redis://127.0.0.1:6379/0)
"""

import os

# The broker is chosen when flexsupply.kit.broker is first imported: fix the default before any test imports it.
os.environ.setdefault("FLEXSUPPLY_BROKER_URL", "stub://")
os.environ.setdefault("FLEXSUPPLY_OPERATOR_TOKEN", "test-operator-token")
os.environ["FLEXSUPPLY_OUTBOX_POLL_SECONDS"] = "0.05"
os.environ.setdefault("FLEXSUPPLY_WEBHOOK_RETRY_SCHEDULE_SECONDS", "[0.5, 1, 2, 4]")
# Owed work is swept often, so tests of lost messages finish quickly (and every test tolerates duplicates).
os.environ.setdefault("FLEXSUPPLY_SWEEP_SECONDS", "0.5")
os.environ.setdefault("FLEXSUPPLY_SWEEP_GRACE_SECONDS", "3")
