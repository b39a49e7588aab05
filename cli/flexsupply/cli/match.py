"""`flexsupply match PROBLEM.json`: solve a matching problem file (placeholder until the engine lands)."""

from pathlib import Path

import typer


def match(problem_file: Path) -> None:
    """Solve a matching problem file and print the plan."""
    raise typer.Exit(code=1)
