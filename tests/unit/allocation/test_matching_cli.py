"""`flexsupply match`: exit 0 with a plan, 2 for a bad problem file, 3 when no plan exists."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flexsupply.cli.main import app

INSTANCES = Path(__file__).parents[2] / "instances"
EXAMPLE = INSTANCES / "example-problem.json"
runner = CliRunner()


def test_json_output_is_the_plan_and_nothing_else() -> None:
    result = runner.invoke(app, ["match", str(EXAMPLE), "--json", "--time-limit", "10"])
    assert result.exit_code == 0
    plan = json.loads(result.stdout)
    assert (plan["status"], plan["total_cents"], plan["bound_cents"]) == ("optimal", 3_538_250, 3_538_250)


@pytest.mark.parametrize("workers", ["1", "2", "3"])
def test_any_number_of_workers_finds_the_same_optimum(workers: str) -> None:
    result = runner.invoke(app, ["match", str(EXAMPLE), "--json", "--workers", workers, "--time-limit", "10"])
    assert result.exit_code == 0
    plan = json.loads(result.stdout)
    assert (plan["status"], plan["total_cents"]) == ("optimal", 3_538_250)


def test_more_workers_than_the_solver_takes_is_a_usage_error() -> None:
    result = runner.invoke(app, ["match", str(EXAMPLE), "--workers", "9"])
    assert result.exit_code == 2
    assert "--workers" in result.output


def test_tables_show_each_package_and_the_total() -> None:
    result = runner.invoke(app, ["match", str(EXAMPLE)], env={"COLUMNS": "160"})
    assert result.exit_code == 0
    # 23,540.00 for o-hakko-box's 600 units of dp-bread: 39.23 a unit landed (check.offer_shares).
    for text in ("dp-bread", "dp-candle", "o-hakko-box", "39.23", "23,540.00", "35,382.50 CNY", "reserve 844.50"):
        assert text in result.stdout


def test_an_infeasible_problem_exits_3_with_its_explanation() -> None:
    problem = INSTANCES / "infeasible-moq-and-capacity.json"
    readable = runner.invoke(app, ["match", str(problem)])
    assert readable.exit_code == 3
    assert "offer o-big of s-big makes or reserves at least 500 units, or none" in readable.stdout
    as_json = runner.invoke(app, ["match", str(problem), "--json"])
    assert as_json.exit_code == 3
    plan = json.loads(as_json.stdout)
    assert (plan["status"], plan["total_cents"], plan["allocations"]) == ("infeasible", None, [])
    assert plan["explanation"]


def test_no_plan_within_the_time_limit_exits_4_with_nothing_on_stdout() -> None:
    # A work limit, not the clock, so that a faster or idler machine cannot find a plan in time.
    problem = INSTANCES / "timed" / "scarce-10-packages.json"
    result = runner.invoke(app, ["match", str(problem), "--work-limit", "0.02", "--time-limit", "60"])
    assert result.exit_code == 4
    assert result.stdout == ""
    assert "no plan was found within the work limit of 0.02 units (or the 60 s time limit)" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("{not json", "not JSON"),
        ('{"version": 1, "currency": "CNY", "suppliers": [], "offers": [], "packages": [{"id": "dp-1"}]}', "sku"),
    ],
    ids=["missing", "not-json", "schema"],
)
def test_a_bad_problem_file_exits_2_naming_the_problem(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "problem.json"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(app, ["match", str(path), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


# The console script the project installs beside this interpreter, whether uv is on PATH or not.
INSTALLED = Path(sys.executable).parent / "flexsupply"


def run_installed(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(INSTALLED), *args], capture_output=True, text=True, check=False, timeout=120)


def test_the_installed_command_runs() -> None:
    done = run_installed("match", str(EXAMPLE), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_cents"] == 3_538_250
