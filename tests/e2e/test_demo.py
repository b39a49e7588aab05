"""`flexsupply demo` right after set-up: it starts the embedded stack, plays a scenario through the public API and
prints a summary read back from the services."""

import json
import os
import subprocess
from pathlib import Path

from tests.support.processes import FLEXSUPPLY

SMALL_EVENING = Path(__file__).resolve().parents[1] / "instances" / "scenarios" / "small-evening.json"


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")}


def test_the_demo_plays_an_evening_to_the_last_parcel_and_its_summary_adds_up(tmp_path: Path) -> None:
    done = subprocess.run(
        [FLEXSUPPLY, "demo", str(SMALL_EVENING), "--json", "--out", str(tmp_path)],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8")) == summary
    loaf, tea = summary["packages"]

    # The loaf sells out (41 attempts for 30 units), never beyond its cap, each retry counted once.
    assert loaf["ordered_units"] == loaf["cap_units"] == 30
    assert loaf["doubled"] == 0 and loaf["answers"]["sold-out"] > 0 and loaf["answers"]["replayed"] > 0
    assert loaf["answers"]["placed"] == 22  # the seed's buyers, as many orders as the services stored
    # Half paid through the provider, 40% by statement, the rest released at the close.
    assert (loaf["paid_by_provider"], loaf["paid_by_statement"], loaf["statement_unmatched"]) == (11, 9, 0)
    assert loaf["went_ahead"] and 0 < sum(loaf["sold"].values()) <= 30
    assert loaf["suppliers"] and loaf["backups"] == ["备用面包"]
    # The north bakery fails halfway; the backup takes over and every parcel arrives.
    assert loaf["takeover"] == "done"
    assert loaf["parcels"] >= loaf["paid_by_provider"] + loaf["paid_by_statement"]
    assert loaf["parcels_delivered"] == loaf["parcels"]
    assert loaf["status"] == "completed"  # fulfilment told matching the last parcel arrived

    # The tea misses its threshold (at most 20 units ordered, 35 needed): cancelled, every paid buyer owed back.
    assert not tea["went_ahead"] and tea["status"] == "cancelled"
    assert tea["refunds"] == tea["paid_by_provider"] + tea["paid_by_statement"] > 0
    assert tea["refund_cents"] == tea["refunds"] * 2900  # one unit each, at the price fixed at the opening
    assert tea["refunds_paid"] == tea["refunds"]  # the leader paid each back by transfer, and recorded it
    assert tea["parcels"] == 0
    assert set(summary["stage_seconds"]) >= {"flash sale", "payments", "production and delivery"}


def test_a_stack_that_is_not_there_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = _clean_env() | {"FLEXSUPPLY_OPERATOR_TOKEN": "t"}
    done = subprocess.run(
        [FLEXSUPPLY, "demo", "--url", "http://127.0.0.1:9", "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "cannot reach the stack" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
