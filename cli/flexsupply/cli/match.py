"""`flexsupply match PROBLEM.json`: solve a matching problem file and print the plan."""

import json
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from flexsupply.allocation import Plan, Problem, SolveParams
    from flexsupply.allocation.decisions import Decisions

EXIT_INVALID_PROBLEM = 2
EXIT_INFEASIBLE = 3
# Not in the contract, which has no plan for this: the time limit ran out before either a plan or a proof that
# none exists. Nothing goes to stdout, as for an invalid problem.
EXIT_NO_ANSWER = 4


def match(
    problem_file: Annotated[Path, typer.Argument(help="A matching problem in the contract's JSON.")],
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", min=0.1, help="Seconds the search may use; it stops sooner only with a proof."),
    ] = 30.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print only the plan's JSON.")] = False,
    work_limit: Annotated[
        float | None,
        typer.Option(
            "--work-limit",
            min=0.001,
            help="Reproducible: stop after this many units of the solver's deterministic work (one thread; about "
            "0.25-0.5 a second), so the same file gives the same plan. The time limit still holds.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=8,
            help="Search threads (default: one per core, at most 8). With 1, a plan proved optimal is the same "
            "on every run; with more, its cost is.",
        ),
    ] = None,
    decisions: Annotated[
        bool,
        typer.Option(
            "--decisions",
            help="Then price each promise (N backups against fewer, the quality floor, the deadline) or, without a "
            "plan, find the cheapest single relaxations, by solving again within one more time limit.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress lines on stderr.")] = False,
) -> None:
    """Find the least-cost plan for a matching problem; explain why when there is none.

    Exit 0 for a plan, 2 for an invalid problem file, 3 when no plan exists, 4 when the time limit ran out
    before any plan was found or disproved. A command-line usage error also exits 2, as in any Click command,
    and says so on stderr.
    """
    # Imported here, not at the top, so that every other command (and --help) starts without OR-Tools.
    from rich.console import Console

    import_solver_without_pandas()
    from flexsupply.allocation import InvalidProblem, NoPlanInTime, PlanStatus, SolveParams, load_problem, solve

    try:
        problem = load_problem(problem_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, InvalidProblem) as error:
        typer.echo(f"invalid problem {problem_file}: {error}", err=True)
        raise typer.Exit(EXIT_INVALID_PROBLEM) from error
    try:
        params = SolveParams(time_limit_seconds=time_limit, work_limit=work_limit)
        if workers is not None:
            params = params.model_copy(update={"num_workers": workers})
        with progress_lines(Console(stderr=True), quiet):
            plan = solve(problem, params)
    except NoPlanInTime as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_NO_ANSWER) from error
    found = plan_decisions(problem, plan, params) if decisions else None
    if json_output:
        document = plan.model_dump(mode="json")
        if found is not None:
            document["decisions"] = found.model_dump(mode="json")
        typer.echo(json.dumps(document, indent=2))
    else:
        print_plan(Console(), problem, plan)
        if found is not None:
            print_decisions(Console(), found)
    if plan.status == PlanStatus.INFEASIBLE:
        raise typer.Exit(EXIT_INFEASIBLE)


def import_solver_without_pandas() -> None:
    """Import OR-Tools' CP-SAT module without importing pandas, unless pandas is already loaded.

    cp_model imports pandas at its top only for its `*_series` helpers (pandas indexes of variables), which the
    engine never calls; it names nothing of pandas but `Index` and `Series`, and only in those helpers and their
    annotations. pandas took 0.2-0.3 s of this command's 0.5 s of imports (`python -X importtime`); without it
    `flexsupply match` on the contract's example takes 0.49 s instead of 0.81 (bench/cli, median of 7). Empty
    stand-ins for the two names are in sys.modules for the import only, so any later `import pandas` in the
    process gets the real one.
    """
    if "pandas" in sys.modules or "ortools.sat.python.cp_model" in sys.modules:
        return
    stand_in = types.ModuleType("pandas")
    stand_in.__dict__.update(Index=type("Index", (), {}), Series=type("Series", (), {}))
    sys.modules["pandas"] = stand_in
    try:
        import ortools.sat.python.cp_model  # noqa: F401
    finally:
        del sys.modules["pandas"]


PROGRESS_EVERY_SECONDS = 3.0


@contextmanager
def progress_lines(console: "Console", quiet: bool) -> Iterator[None]:
    """A line on stderr every few seconds while a search has news: its incumbent, bound and gap."""
    if quiet:
        yield
        return
    from flexsupply.allocation.progress import SearchProgress, reporting

    latest: list[SearchProgress] = []
    stop = threading.Event()
    began = time.perf_counter()

    def report() -> None:
        shown = None
        while not stop.wait(PROGRESS_EVERY_SECONDS):
            if latest and latest[-1] is not shown:
                shown = latest[-1]
                gap = "-" if shown.gap is None else f"{100 * shown.gap:.2f}%"
                incumbent = "-" if shown.incumbent_cents is None else _money(shown.incumbent_cents)
                bound = "-" if shown.bound_cents is None else _money(shown.bound_cents)
                console.print(
                    f"{time.perf_counter() - began:.0f} s, search {shown.search}: incumbent {incumbent}, "
                    f"bound {bound}, gap {gap}",
                    highlight=False,
                )

    printer = threading.Thread(target=report, name="match-progress", daemon=True)
    printer.start()
    try:
        with reporting(latest.append):
            yield
    finally:
        stop.set()
        printer.join()


def plan_decisions(problem: "Problem", plan: "Plan", params: "SolveParams") -> "Decisions":
    from flexsupply.allocation.decisions import Decisions, promise_prices, relaxations

    if plan.has_plan:
        return Decisions(promise_prices=promise_prices(problem, plan, params))
    return Decisions(relaxations=relaxations(problem, params))


def print_decisions(console: "Console", decisions: "Decisions") -> None:
    from rich.table import Table

    if decisions.relaxations:
        table = Table(title="Cheapest single changes that give a plan", title_justify="left")
        for column in ("change", "plan cost", "status"):
            table.add_column(column)
        for relaxation in decisions.relaxations:
            cost = (
                "(another part still has no plan)" if relaxation.total_cents is None else _money(relaxation.total_cents)
            )
            table.add_row(relaxation.change, cost, str(relaxation.status))
        console.print(table)
    elif not decisions.promise_prices:
        console.print("No single change found that gives a plan within the time limit.")
    if decisions.promise_prices:
        table = Table(title="What each promise costs", title_justify="left")
        for column in ("package", "without it", "premium", "per unit", "status"):
            table.add_column(column)
        for price in decisions.promise_prices:
            table.add_row(
                price.package,
                price.alternative,
                _money(price.premium_cents),
                _money(price.premium_unit_cents),
                str(price.alternative_status),
            )
        console.print(table)


def print_plan(console: "Console", problem: "Problem", plan: "Plan") -> None:
    from rich.table import Table

    from flexsupply.allocation import PlanStatus, cost_breakdown, offer_shares

    currency = problem.currency
    if not plan.has_plan:
        console.print(f"[bold red]{plan.status}[/bold red]: no plan ({plan.solve_seconds:.2f} s)")
        for sentence in plan.explanation:
            console.print(f"- {sentence}", highlight=False, soft_wrap=True)
        return
    offers = {offer.id: offer for offer in problem.offers}
    shares = offer_shares(problem, plan)
    for package in problem.packages:
        table = Table(
            title=f"{package.id}: {package.quantity} x {package.sku} by day {package.needed_by_days}, "
            f"1+{package.backups}",
            title_justify="left",
        )
        table.add_column("supplier", no_wrap=True)
        table.add_column("offer", no_wrap=True)
        for column in (*package.regions, "reserved", "unit landed", "cost"):
            table.add_column(column, justify="right", no_wrap=True)
        for share in (share for share in shares if share.package == package.id):
            per_region = {
                a.region: a.quantity for a in plan.allocations if (a.package, a.offer) == (package.id, share.offer)
            }
            cells = [str(per_region.get(region, "")) for region in package.regions]
            landed, cost = _money(share.landed_unit_cents), _money(share.total_cents)
            table.add_row(offers[share.offer].supplier, share.offer, *cells, "", landed, cost)
        for reserve in (r for r in plan.reserves if r.package == package.id):
            offer = offers[reserve.offer]
            cells = [""] * len(package.regions)
            cost = offer.reserve_cents * reserve.quantity
            table.add_row(offer.supplier, offer.id, *cells, str(reserve.quantity), "", _money(cost))
        console.print(table)
    status = "[green]optimal[/green]" if plan.status == PlanStatus.OPTIMAL else f"[yellow]{plan.status}[/yellow]"
    console.print(
        f"{status}: total {_money(plan.total_cents or 0)} {currency}, lower bound {_money(plan.bound_cents or 0)} "
        f"(gap {100 * (plan.gap or 0):.2f}%), solved in {plan.solve_seconds:.2f} s"
    )
    parts = ", ".join(f"{kind} {_money(cents)}" for kind, cents in cost_breakdown(problem, plan).items())
    console.print(f"cost: {parts}")


def _money(cents: float) -> str:
    return f"{cents / 100:,.2f}"
