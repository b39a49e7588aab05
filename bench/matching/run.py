"""Benchmark the matching engine against HiGHS on the exact MILP of the contract (bench/matching/highs.py).

    uv run --frozen python -m bench.matching.run [--families regular,tight] [--sizes small,medium,large]
        [--instances N] [--time-limit S] [--highs-time-limit S] [--highs-threads T] [--quick] [--json]
    uv run --frozen python -m bench.matching.run --report results.json [more.json ...]

Every instance is generated, then solved by the engine (`flexsupply.allocation.solve`, its default params with
the size's time limit) and by HiGHS, one after the other, each in a fresh child process so that its peak resident
memory is its own (both are C++, invisible to tracemalloc); both plans are checked with the contract's checker.
On small instances the whole `flexsupply match FILE --json` command is timed as well (start-up included).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.matching.generate import generate, generate_tight, tight_shape
from flexsupply.allocation import NoPlanInTime, PlanStatus, Problem, SolveParams, solve, violations


@dataclass(frozen=True)
class Size:
    family: str
    name: str
    instances: int  # seeds 0..instances-1; the regular family adds seed 1000 with scarce capacity
    time_limit_seconds: float
    highs_time_limit_seconds: float


SIZES = [
    Size("regular", "small", 7, 10.0, 10.0),
    Size("regular", "medium", 3, 30.0, 120.0),
    Size("regular", "large", 3, 60.0, 120.0),
    Size("tight", "small", 5, 10.0, 10.0),
    Size("tight", "medium", 8, 30.0, 120.0),
    Size("tight", "large", 2, 60.0, 120.0),
]
REGULAR_SHAPES = {"small": (10, 80, 6), "medium": (50, 400, 12), "large": (200, 2000, 12)}  # packages, offers, regions
TIGHT_SHAPES = {"small": (10, 3, 30), "large": (200, 40, 2000)}  # packages, skus, offers; medium: tight_shape(seed)


def make_problem(family: str, size: str, seed: int) -> Problem:
    if family == "regular":
        packages, offers, regions = REGULAR_SHAPES[size]
        return generate(packages, offers, regions, seed, scarce=seed == 1000)
    packages, skus, offers = tight_shape(seed) if size == "medium" else TIGHT_SHAPES[size]
    return generate_tight(packages, skus, offers, seed)


@dataclass
class Side:
    """One solver's answer on one instance."""

    status: str  # optimal, feasible, infeasible, or "none" (neither a plan nor a proof in time)
    total_cents: int | None
    bound_cents: int | None
    seconds: float
    peak_mb: float
    violations: int = 0
    # CPU seconds of the child process: on a shared machine, how much of the wall time it actually ran.
    cpu_seconds: float | None = None

    @property
    def proved(self) -> bool:
        return self.status in (PlanStatus.OPTIMAL, PlanStatus.INFEASIBLE)


@dataclass
class Result:
    family: str
    size: str
    seed: int
    packages: int
    offers: int
    ours: Side
    highs: Side
    command_seconds: float | None  # the whole `flexsupply match` command, small sizes only

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Result":
        return cls(
            family=data["family"],
            size=data["size"],
            seed=data["seed"],
            packages=data["packages"],
            offers=data["offers"],
            ours=Side(**data["ours"]),
            highs=Side(**data["highs"]),
            command_seconds=data["command_seconds"],
        )

    @property
    def name(self) -> str:
        return f"{self.family} {self.size} {self.seed} ({self.packages} p, {self.offers} o)"

    @property
    def versus_highs(self) -> float | None:
        """Our cost above (+) or below (-) HiGHS's best plan, as a fraction of HiGHS's."""
        if self.ours.total_cents is None or self.highs.total_cents is None:
            return None
        return (self.ours.total_cents - self.highs.total_cents) / self.highs.total_cents


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_ours(family: str, size: str, seed: int, time_limit_seconds: float, workers: int | None) -> Side:
    problem = make_problem(family, size, seed)
    params = SolveParams(time_limit_seconds=time_limit_seconds)
    if workers is not None:
        params = params.model_copy(update={"num_workers": workers})
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    try:
        plan = solve(problem, params)
    except NoPlanInTime:
        return Side("none", None, None, time.perf_counter() - started, _peak_mb(), 0, _cpu_seconds() - cpu_started)
    return Side(
        status=str(plan.status),
        total_cents=plan.total_cents,
        bound_cents=plan.bound_cents,
        seconds=time.perf_counter() - started,
        peak_mb=_peak_mb(),
        violations=len(violations(problem, plan)) if plan.has_plan else 0,
        cpu_seconds=_cpu_seconds() - cpu_started,
    )


def run_highs(family: str, size: str, seed: int, time_limit_seconds: float, threads: int) -> Side:
    os.dup2(2, 1)  # HiGHS prints its banner on stdout, which is the table's or the JSON's
    from bench.matching.highs import solve_highs

    problem = make_problem(family, size, seed)
    cpu_started = _cpu_seconds()
    result = solve_highs(problem, time_limit_seconds, threads)  # raises if its plan breaks the contract
    return Side(
        status=str(result.status) if result.status else "none",
        total_cents=result.total_cents,
        bound_cents=result.bound_cents,
        seconds=result.seconds,
        peak_mb=_peak_mb(),
        cpu_seconds=_cpu_seconds() - cpu_started,
    )


COMMAND = str(Path(sys.executable).parent / "flexsupply")
# The timed commands run with bytecode, as after an install (the Dockerfile compiles it): this machine sets
# PYTHONDONTWRITEBYTECODE and `uv sync` writes none, so without it every command compiles the workspace from source.
# A private cache directory, warmed once by warm_command_bytecode, keeps the checkout free of .pyc files.
BYTECODE = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"} | {
    "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "flexsupply-bench-matching-pycache")
}


def warm_command_bytecode() -> None:
    """One untimed match of the contract's example, which imports everything a timed command does."""
    example = Path(__file__).resolve().parents[2] / "tests" / "instances" / "example-problem.json"
    subprocess.run([COMMAND, "match", str(example), "--json"], stdout=subprocess.DEVNULL, env=BYTECODE, check=True)


def time_command(problem: Problem, time_limit_seconds: float, workers: int | None) -> float:
    """Wall seconds of `flexsupply match FILE --json`, from process start to exit."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        file.write(problem.model_dump_json())
        file.flush()
        started = time.perf_counter()
        subprocess.run(
            [COMMAND, "match", file.name, "--json", "--time-limit", str(time_limit_seconds)]
            + ([] if workers is None else ["--workers", str(workers)]),
            stdout=subprocess.DEVNULL,
            env=BYTECODE,
            check=False,
        )
        return time.perf_counter() - started


def run_instance(pool: ProcessPoolExecutor, size: Size, seed: int, highs_threads: int, workers: int | None) -> Result:
    problem = make_problem(size.family, size.name, seed)
    ours = pool.submit(run_ours, size.family, size.name, seed, size.time_limit_seconds, workers).result()
    highs = pool.submit(run_highs, size.family, size.name, seed, size.highs_time_limit_seconds, highs_threads).result()
    command = time_command(problem, size.time_limit_seconds, workers) if size.name == "small" else None
    return Result(size.family, size.name, seed, len(problem.packages), len(problem.offers), ours, highs, command)


def _cents(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _seconds(side: Side) -> str:
    return f"{side.seconds:.1f}" + ("" if side.cpu_seconds is None else f" ({side.cpu_seconds:.1f})")


def table_rows(results: list[Result]) -> list[dict[str, str]]:
    return [
        {
            "instance": result.name,
            "our cost": _cents(result.ours.total_cents),
            "our bound": _cents(result.ours.bound_cents),
            "our s (CPU)": _seconds(result.ours),
            "proved": "yes" if result.ours.proved else "no",
            "HiGHS cost": _cents(result.highs.total_cents),
            "HiGHS bound": _cents(result.highs.bound_cents),
            "HiGHS s (CPU)": _seconds(result.highs),
            "HiGHS proved": "yes" if result.highs.proved else "no",
            "ours vs HiGHS": "-" if result.versus_highs is None else f"{100 * result.versus_highs:+.2f}%",
            "our MB": f"{result.ours.peak_mb:.0f}",
            "command s": "-" if result.command_seconds is None else f"{result.command_seconds:.2f}",
        }
        for result in results
    ]


def print_table(rows: list[dict[str, str]]) -> None:
    columns = list(rows[0])
    widths = {column: max(len(column), *(len(row[column]) for row in rows)) for column in columns}
    print("| " + " | ".join(column.ljust(widths[column]) for column in columns) + " |")
    print("|" + "|".join("-" * (widths[column] + 2) for column in columns) + "|")
    for row in rows:
        print("| " + " | ".join(row[column].ljust(widths[column]) for column in columns) + " |")


def targets(results: list[Result]) -> list[str]:
    """Issue 11's targets, met or missed, on the results at hand."""
    lines = []
    medium = [r for r in results if r.family == "tight" and r.size == "medium"]
    for result in medium:
        if result.highs.proved:
            met = result.ours.proved
            lines.append(
                f"{result.name}: HiGHS proved it in {result.highs.seconds:.1f} s; ours "
                + (f"proved in {result.ours.seconds:.1f} s" if result.ours.proved else "not proved")
                + f": {'met' if met else 'MISSED'}"
            )
        elif result.versus_highs is not None:
            met = result.versus_highs <= 0.001
            lines.append(
                f"{result.name}: not proved by HiGHS; ours {100 * result.versus_highs:+.2f}% against its best "
                f"(target +0.10%): {'met' if met else 'MISSED'}"
            )
    for result in (r for r in results if r.size == "large"):
        versus = result.versus_highs
        if versus is None:
            continue
        met = versus <= 0 and result.ours.peak_mb < 2048
        lines.append(
            f"{result.name}: ours {100 * versus:+.2f}% against HiGHS's answer, "
            f"{result.ours.seconds:.1f} s, {result.ours.peak_mb:.0f} MB: {'met' if met else 'MISSED'}"
        )
    small = [r for r in results if r.size == "small" and r.command_seconds is not None]
    if small:
        median = statistics.median(r.command_seconds or 0.0 for r in small)
        proved = sum(r.ours.proved for r in small)
        met = median < 1.5 and proved == len(small)
        lines.append(
            f"small: {proved} of {len(small)} proved, median whole command {median:.2f} s (target 1.5 s): "
            f"{'met' if met else 'MISSED'}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", default="regular,tight", help="comma-separated: regular, tight")
    parser.add_argument("--sizes", default="small,medium,large", help="comma-separated: small, medium, large")
    parser.add_argument("--instances", type=int, help="instances per size (default: the size's own)")
    parser.add_argument("--time-limit", type=float, help="the engine's seconds (default: the size's own)")
    parser.add_argument("--highs-time-limit", type=float, help="HiGHS's seconds (default: the size's own)")
    parser.add_argument("--highs-threads", type=int, default=1, help="HiGHS threads (default 1)")
    parser.add_argument("--workers", type=int, help="the engine's search workers (default: its own, one per core)")
    parser.add_argument("--quick", action="store_true", help="smoke run: one instance per size, 5 s limits")
    parser.add_argument("--json", action="store_true", help="print the per-instance results as JSON")
    parser.add_argument("--report", nargs="+", type=Path, help="print the table of earlier --json outputs; no run")
    args = parser.parse_args()
    if args.report:
        report([Result.from_json(item) for path in args.report for item in json.loads(path.read_text())])
        return

    sizes = [s for s in SIZES if s.family in args.families.split(",") and s.name in args.sizes.split(",")]
    if args.quick:
        sizes = [replace(s, instances=1, time_limit_seconds=5.0, highs_time_limit_seconds=5.0) for s in sizes]
    sizes = [
        replace(
            size,
            instances=args.instances or size.instances,
            time_limit_seconds=args.time_limit or size.time_limit_seconds,
            highs_time_limit_seconds=args.highs_time_limit or size.highs_time_limit_seconds,
        )
        for size in sizes
    ]
    if any(size.name == "small" for size in sizes):
        warm_command_bytecode()
    results = []
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), max_tasks_per_child=1) as pool:
        for size in sizes:
            seeds = list(range(size.instances)) + ([1000] if size.family == "regular" and not args.quick else [])
            for seed in seeds:
                result = run_instance(pool, size, seed, args.highs_threads, args.workers)
                results.append(result)
                versus = "-" if result.versus_highs is None else f"{100 * result.versus_highs:+.2f}%"
                print(
                    f"{result.name}: ours {result.ours.status} {_cents(result.ours.total_cents)} "
                    f"(bound {_cents(result.ours.bound_cents)}) in {result.ours.seconds:.1f} s, "
                    f"{result.ours.peak_mb:.0f} MB; HiGHS {result.highs.status} {_cents(result.highs.total_cents)} "
                    f"(bound {_cents(result.highs.bound_cents)}) in {result.highs.seconds:.1f} s; "
                    f"ours vs HiGHS {versus}"
                    + ("" if result.command_seconds is None else f"; command {result.command_seconds:.2f} s")
                    + (f"; {result.ours.violations} CHECKER VIOLATIONS" if result.ours.violations else ""),
                    file=sys.stderr,
                    flush=True,
                )
    if args.json:
        print(json.dumps([asdict(r) | {"versus_highs": r.versus_highs} for r in results], indent=2))
        return
    report(results)


def report(results: list[Result]) -> None:
    print_table(table_rows(results))
    print()
    for line in targets(results):
        print(f"- {line}")


if __name__ == "__main__":
    main()
