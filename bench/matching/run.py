"""Benchmark the matching engine against the greedy baseline on generated instances.

    uv run --frozen python -m bench.matching.run [--sizes small,medium,large] [--instances 3] [--json]

Each instance is generated, solved and checked in a fresh child process, so that its peak resident memory
(CP-SAT is C++, invisible to tracemalloc) is its own. One extra instance per size has scarce capacity.
"""

import argparse
import json
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context

from bench.matching.generate import generate
from flexsupply.allocation import PlanStatus, SolveParams, greedy_plan, solve, violations
from flexsupply.allocation.solve import split_components


@dataclass(frozen=True)
class Size:
    name: str
    packages: int
    offers: int
    regions: int
    time_limit_seconds: float


SIZES = {
    size.name: size
    for size in (
        Size("small", 10, 80, 6, 10.0),
        Size("medium", 50, 400, 12, 30.0),
        Size("large", 200, 2000, 12, 60.0),
    )
}


@dataclass
class Result:
    size: str
    seed: int
    scarce: bool
    components: int
    status: str
    total_cents: int | None
    bound_cents: int | None
    gap: float | None
    seconds: float
    greedy_cents: int | None
    greedy_seconds: float
    peak_mb: float
    violations: int

    @property
    def saving(self) -> float | None:
        """How much cheaper than the greedy plan, as a fraction of the greedy cost."""
        if self.greedy_cents is None or self.total_cents is None:
            return None
        return (self.greedy_cents - self.total_cents) / self.greedy_cents


def run_instance(size: Size, seed: int, scarce: bool, parallel: bool) -> Result:
    problem = generate(size.packages, size.offers, size.regions, seed, scarce=scarce)
    started = time.perf_counter()
    greedy = greedy_plan(problem)
    greedy_seconds = time.perf_counter() - started
    # The engine's defaults (what `flexsupply match` uses) unless --parallel asks for the clock-limited portfolio.
    params = SolveParams(time_limit_seconds=size.time_limit_seconds, deterministic=not parallel, num_workers=2)
    plan = solve(problem, params)
    return Result(
        size=size.name,
        seed=seed,
        scarce=scarce,
        components=len(split_components(problem)),
        status=str(plan.status),
        total_cents=plan.total_cents,
        bound_cents=plan.bound_cents,
        gap=plan.gap,
        seconds=plan.solve_seconds,
        greedy_cents=None if greedy is None else greedy.total_cents,
        greedy_seconds=greedy_seconds,
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux reports KiB
        violations=len(violations(problem, plan)) if plan.has_plan else 0,
    )


def summary_rows(results: list[Result]) -> list[dict[str, str]]:
    rows = []
    for name in dict.fromkeys(result.size for result in results):
        group = [result for result in results if result.size == name]
        solved = [result for result in group if result.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)]
        optimal = [result for result in group if result.status == PlanStatus.OPTIMAL]
        savings = [result.saving for result in solved if result.saving is not None]
        size = SIZES[name]
        rows.append(
            {
                "size": f"{name} ({size.packages} packages, {size.offers} offers, {size.regions} regions)",
                "limit": f"{size.time_limit_seconds:g} s",
                "statuses": ", ".join(
                    f"{sum(r.status == status for r in group)} {status}"
                    for status in PlanStatus
                    if any(r.status == status for r in group)
                ),
                "median s to optimum": f"{statistics.median(r.seconds for r in optimal):.2f}" if optimal else "-",
                "max s to optimum": f"{max(r.seconds for r in optimal):.2f}" if optimal else "-",
                "worst gap": f"{100 * max(r.gap or 0 for r in solved):.2f}%" if solved else "-",
                "peak MB": f"{max(r.peak_mb for r in group):.0f}",
                "saving vs greedy": (
                    f"{100 * statistics.mean(savings):.1f}% (min {100 * min(savings):.1f}%)" if savings else "-"
                ),
                "greedy found no plan": f"{sum(r.greedy_cents is None for r in solved)} of {len(solved)}",
                "checker violations": str(sum(r.violations for r in group)),
            }
        )
    return rows


def print_table(rows: list[dict[str, str]]) -> None:
    columns = list(rows[0])
    widths = {column: max(len(column), *(len(row[column]) for row in rows)) for column in columns}
    print("| " + " | ".join(column.ljust(widths[column]) for column in columns) + " |")
    print("|" + "|".join("-" * (widths[column] + 2) for column in columns) + "|")
    for row in rows:
        print("| " + " | ".join(row[column].ljust(widths[column]) for column in columns) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="small,medium,large", help="comma-separated: " + ", ".join(SIZES))
    parser.add_argument("--instances", type=int, default=3, help="regular instances per size (plus one scarce)")
    parser.add_argument(
        "--parallel",
        action="store_true",
        help="2-worker portfolio stopped by the clock (not reproducible) instead of the default deterministic search",
    )
    parser.add_argument("--json", action="store_true", help="print the per-instance results as JSON")
    args = parser.parse_args()

    jobs = [
        (SIZES[name], seed, scarce)
        for name in args.sizes.split(",")
        for seed, scarce in [*((seed, False) for seed in range(args.instances)), (1000, True)]
    ]
    results = []
    # One fresh process per instance: its peak memory is then its own.
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), max_tasks_per_child=1) as pool:
        for size, seed, scarce in jobs:
            result = pool.submit(run_instance, size, seed, scarce, args.parallel).result()
            results.append(result)
            print(
                f"{size.name} seed {seed}{' scarce' if scarce else ''}: {result.status} in {result.seconds:.1f} s, "
                f"gap {'-' if result.gap is None else f'{100 * result.gap:.2f}%'}, {result.peak_mb:.0f} MB, "
                f"saving vs greedy {'-' if result.saving is None else f'{100 * result.saving:.1f}%'}",
                file=sys.stderr,
                flush=True,
            )
    if args.json:
        print(json.dumps([asdict(result) | {"saving": result.saving} for result in results], indent=2))
    else:
        print_table(summary_rows(results))


if __name__ == "__main__":
    main()
