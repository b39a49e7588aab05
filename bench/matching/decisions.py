"""What pricing the decisions adds to a solve (issue 24): the plan's solve, then its promise prices (or, without a
plan, its relaxations), each timed on the same instance in the same run.

    uv run --frozen python -m bench.matching.decisions [--seeds 3] [--time-limit 10] [--json]

Instances: the contract's example and the repository's two infeasible ones, and the small regular and tight
families' first seeds (bench.matching.generate), one scarce (no plan). A line per instance goes to stderr; the
table (or JSON) to stdout.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.matching.run import make_problem
from flexsupply.allocation import Problem, SolveParams, load_problem, solve
from flexsupply.allocation.decisions import promise_prices, relaxations

INSTANCES = Path(__file__).resolve().parents[2] / "tests" / "instances"


def instances(seeds: int) -> list[tuple[str, Problem]]:
    found = [
        (name, load_problem((INSTANCES / f"{name}.json").read_text(encoding="utf-8")))
        for name in ("example-problem", "infeasible-backup-capacity", "infeasible-moq-and-capacity")
    ]
    for seed in range(seeds):
        found.append((f"regular small {seed}", make_problem("regular", "small", seed)))
        found.append((f"tight small {seed}", make_problem("tight", "small", seed)))
    found.append(("regular small scarce", make_problem("regular", "small", 1000)))
    return found


def measure(name: str, problem: Problem, params: SolveParams) -> dict[str, object]:
    began = time.perf_counter()
    plan = solve(problem, params)
    solve_seconds = time.perf_counter() - began
    began = time.perf_counter()
    if plan.has_plan:
        found, kind = len(promise_prices(problem, plan, params)), "promise prices"
    else:
        found, kind = len(relaxations(problem, params)), "relaxations"
    decisions_seconds = time.perf_counter() - began
    row = {
        "instance": name,
        "packages": len(problem.packages),
        "status": str(plan.status),
        "solve_seconds": round(solve_seconds, 2),
        "decisions": f"{found} {kind}",
        "decisions_seconds": round(decisions_seconds, 2),
        "ratio": round(decisions_seconds / max(solve_seconds, 1e-3), 1),
    }
    print(json.dumps(row), file=sys.stderr)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=10.0, help="The solve's, and again the decisions'.")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    params = SolveParams(time_limit_seconds=arguments.time_limit)
    rows = [measure(name, problem, params) for name, problem in instances(arguments.seeds)]
    if arguments.json:
        print(json.dumps(rows, indent=2))
        return
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[column]) for column in columns) + " |")
    seconds = [float(str(row["decisions_seconds"])) for row in rows]
    print(f"\nmedian decisions time {statistics.median(seconds):.2f} s, most {max(seconds):.2f} s")


if __name__ == "__main__":
    main()
