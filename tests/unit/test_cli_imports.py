"""`flexsupply --help` answers at once: the command line imports the heavy libraries only in the command that needs
them. Checked by what a fresh interpreter has imported, not by a clock (the timings are in bench/cli)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = {"ortools", "pandas", "numpy", "sqlalchemy", "sqlmodel", "litestar", "dramatiq", "uvicorn", "httpx"}
EXAMPLE = Path(__file__).parents[1] / "instances" / "example-problem.json"

# Runs the command as the console script does, then reports its exit code and the top-level packages imported.
PROBE = """
import json, sys
from flexsupply.cli.main import app
try:
    app(sys.argv[1:], prog_name="flexsupply")
    code = 0
except SystemExit as stop:
    code = stop.code
print(json.dumps([code, sorted({name.split(".")[0] for name in sys.modules})]), file=sys.stderr)
"""


def run(*args: str) -> tuple[int, set[str]]:
    """The command's exit code and the heavy packages it imported, in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    return code, HEAVY & set(modules)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["match", "--help"],
        ["up", "--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["migrate", "--help"],
        ["staff", "add", "--help"],
        ["test-payment", "--help"],
    ],
    ids=" ".join,
)
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    assert run(*args) == (0, set())


def test_solving_imports_the_solver_but_not_pandas() -> None:
    # The probe sees a heavy import when there is one: match needs OR-Tools (and its numpy).
    code, heavy = run("match", str(EXAMPLE), "--json", "--time-limit", "10")
    assert code == 0
    assert "ortools" in heavy
    # OR-Tools imports pandas only for helpers the engine never calls (match.import_solver_without_pandas).
    assert "pandas" not in heavy
    # ...and nothing of the services: the engine's contract types carry no ORM (contracts.rules).
    assert not heavy & {"sqlalchemy", "sqlmodel", "litestar", "dramatiq", "uvicorn", "httpx"}


def test_pandas_imported_after_the_solver_is_the_real_one() -> None:
    probe = """
import sys
from flexsupply.cli.match import import_solver_without_pandas
import_solver_without_pandas()
assert "pandas" not in sys.modules
import pandas
from ortools.sat.python import cp_model
print(len(pandas.DataFrame({"a": [1, 2]})), cp_model.pd is pandas)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["2", "False"]


def test_the_solver_keeps_pandas_when_it_is_already_loaded() -> None:
    probe = """
import pandas
from flexsupply.cli.match import import_solver_without_pandas
import_solver_without_pandas()
from ortools.sat.python import cp_model
print(cp_model.pd is pandas)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["True"]
