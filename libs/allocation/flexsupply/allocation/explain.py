"""Why no plan exists, in sentences a group leader can act on.

Cheap necessary conditions first (per package: offers, regions, capacity, backup suppliers). When they all
hold, CP-SAT finds a set of constraint groups that cannot hold together (an infeasible core over assumption
literals), shrunk until dropping any one group would allow a plan.
"""

import time

from ortools.sat.python.cp_model import INFEASIBLE, CpModel, CpSolver, IntVar

from flexsupply.allocation.model import Group, GroupKind, build_model
from flexsupply.allocation.problem import Offer, Package, Problem, can_back_up, is_eligible


def necessary_conditions(problem: Problem) -> list[str]:
    """Sentences for each package that cannot be served whatever the other packages do, then for each SKU whose
    packages cannot all be served together; [] if none."""
    reasons: list[str] = []
    failing_skus = set()
    for package in problem.packages:
        package_reasons = _package_reasons(problem, package)
        if package_reasons:
            failing_skus.add(package.sku)
        reasons += package_reasons
    for sku in sorted({package.sku for package in problem.packages} - failing_skus):
        reasons += _sku_reasons(problem, sku)
    return reasons


def _sku_reasons(problem: Problem, sku: str) -> list[str]:
    """Packages that each fit alone may still need more of a SKU than all the offers they may use can make: on
    a 200-package bench instance this said at once what the core search could not find in 20 s."""
    packages = [package for package in problem.packages if package.sku == sku and package.quantity > 0]
    offers = [
        offer
        for offer in problem.offers
        if _can_make_moq(problem, offer) and any(is_eligible(offer, package) for package in packages)
    ]
    needed, made = sum(package.quantity for package in packages), _capacity(problem, offers)
    if len(packages) < 2 or needed <= made:
        return []
    return [
        f"Packages {', '.join(package.id for package in packages)} need {needed} units of {sku} in all; the offers "
        f"eligible for any of them can make {made} together."
    ]


def _package_reasons(problem: Problem, package: Package) -> list[str]:
    if package.quantity == 0:
        return []
    eligible = [offer for offer in problem.offers if is_eligible(offer, package) and _can_make_moq(problem, offer)]
    if not eligible:
        return [_no_eligible_offer(problem, package)]
    reasons = []
    for line in package.lines:
        serving = [offer for offer in eligible if line.region in offer.shipping_cents]
        if line.quantity > 0 and not serving:
            reasons.append(
                f"Package {package.id} needs {line.quantity} units in {line.region}, "
                f"but no eligible offer ships to {line.region}."
            )
        elif _capacity(problem, serving) < line.quantity:
            reasons.append(
                f"Package {package.id} needs {line.quantity} units in {line.region} by day {package.needed_by_days}; "
                f"eligible offers shipping there can make {_capacity(problem, serving)}."
            )
    shipping = [offer for offer in eligible if set(offer.shipping_cents) & set(package.regions)]
    if not reasons and _capacity(problem, shipping) < package.quantity:
        reasons.append(
            f"Package {package.id} needs {package.quantity} units by day {package.needed_by_days}; "
            f"eligible offers can make {_capacity(problem, shipping)}."
        )
    if package.backups > 0:
        suppliers = sorted({offer.supplier for offer in eligible})
        backing = sorted({offer.supplier for offer in eligible if can_back_up(offer, package)})
        regions = ", ".join(package.regions)
        if len(backing) < package.backups:
            reasons.append(
                f"Package {package.id} asks for {package.backups} backup suppliers, each shipping to all of "
                f"its regions ({regions}), but only {len(backing)} can: {', '.join(backing) or 'none'}."
            )
        elif len(suppliers) < package.backups + 1:
            reasons.append(
                f"Package {package.id} needs {package.backups + 1} distinct suppliers (at least one to make it "
                f"and {package.backups} as backups, never both), but only {len(suppliers)} have eligible "
                f"offers: {', '.join(suppliers)}."
            )
    return reasons


def _no_eligible_offer(problem: Problem, package: Package) -> str:
    same_sku = [offer for offer in problem.offers if offer.sku == package.sku]
    if not same_sku:
        return f"Package {package.id} needs {package.sku}, but no offer makes it."
    late = [offer.id for offer in same_sku if offer.lead_time_days > package.needed_by_days]
    poor = [offer.id for offer in same_sku if offer.quality < package.min_quality]
    unable = [offer.id for offer in same_sku if not _can_make_moq(problem, offer)]
    causes = []
    if late:
        causes.append(f"{', '.join(late)} cannot deliver by day {package.needed_by_days}")
    if poor:
        causes.append(f"{', '.join(poor)} fall below quality {package.min_quality}")
    if unable:
        causes.append(f"{', '.join(unable)} have a moq above what they can make")
    return f"Package {package.id} has no eligible offer of {package.sku}: {'; '.join(causes)}."


def _can_make_moq(problem: Problem, offer: Offer) -> bool:
    supplier_capacity = problem.supplier(offer.supplier).capacity
    return offer.moq <= min(offer.capacity, offer.capacity if supplier_capacity is None else supplier_capacity)


def _capacity(problem: Problem, offers: list[Offer]) -> int:
    """The most the offers can make together: offer capacities, capped per supplier."""
    per_supplier: dict[str, int] = {}
    for offer in offers:
        per_supplier[offer.supplier] = per_supplier.get(offer.supplier, 0) + offer.capacity
    total = 0
    for supplier_id, made in per_supplier.items():
        capacity = problem.supplier(supplier_id).capacity
        total += made if capacity is None else min(made, capacity)
    return total


def explain(problem: Problem, time_limit_seconds: float = 20.0) -> list[str]:
    """Why the problem has no plan: the necessary conditions that fail, else a minimal conflicting set."""
    reasons = necessary_conditions(problem)
    if reasons:
        return reasons
    model, variables = build_model(problem, explaining=True)
    deadline = time.perf_counter() + time_limit_seconds
    core = _infeasible_core(model, variables.guards, list(variables.guards), deadline)
    if core is None:
        return ["No plan was found, and no conflicting set of requirements could be isolated in time."]
    minimal = True
    for group in list(core):
        if group not in core:
            continue
        rest = [other for other in core if other != group]
        smaller = _infeasible_core(model, variables.guards, rest, deadline)
        if smaller is None:
            minimal = minimal and time.perf_counter() < deadline
        else:
            core = smaller
    sentences = [describe(problem, group) for group in core]
    packages = sorted({group.item_id for group in core if group.kind in (GroupKind.DEMAND, GroupKind.BACKUPS)})
    lead = (
        f"Package{'s' if len(packages) > 1 else ''} {', '.join(packages)} cannot be planned: "
        "these requirements cannot all hold together: "
    )
    advice = (
        "Relaxing any one of them (more capacity, a lower moq, fewer backups, less demand) makes room for a plan."
        if minimal
        else "Relaxing one of them may make room for a plan."
    )
    return [lead + "; ".join(sentences) + ".", advice]


def _infeasible_core(
    model: CpModel, guards: dict[Group, IntVar], assumed: list[Group], deadline: float
) -> list[Group] | None:
    """The groups of an infeasible core among `assumed`, or None when holding them all is feasible (or time ran
    out)."""
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return None
    model.clear_assumptions()
    model.add_assumptions([guards[group] for group in assumed])
    solver = CpSolver()
    # Presolve can report a literal that is not an assumption in 9.15 (google/or-tools#5141), hence off.
    solver.parameters.cp_model_presolve = False
    solver.parameters.num_workers = 1
    solver.parameters.catch_sigint_signal = False
    solver.parameters.max_time_in_seconds = remaining
    if solver.solve(model) != INFEASIBLE:
        return None
    by_index = {guards[group].index: group for group in assumed}
    return [by_index[index] for index in solver.sufficient_assumptions_for_infeasibility() if index in by_index]


def describe(problem: Problem, group: Group) -> str:
    """The group's requirement as a clause of the explanation."""
    item_id = group.item_id
    match group.kind:
        case GroupKind.DEMAND:
            package = problem.package(item_id)
            line = next(line for line in package.lines if line.region == group.region)
            return f"package {item_id} needs {line.quantity} units in {line.region} by day {package.needed_by_days}"
        case GroupKind.BACKUPS:
            package = problem.package(item_id)
            backups = (
                "backup suppliers whose reserves together cover"
                if package.backups == 1
                else f"{package.backups} backup suppliers whose reserves, even if any {package.backups - 1} fall "
                "through, cover"
            )
            return (
                f"package {item_id} needs {backups} its largest supplier's share, from suppliers that do not make "
                f"it and ship to {', '.join(package.regions)}"
            )
        case GroupKind.MOQ:
            offer = problem.offer(item_id)
            return f"offer {item_id} of {offer.supplier} makes or reserves at least {offer.moq} units, or none"
        case GroupKind.OFFER_CAPACITY:
            offer = problem.offer(item_id)
            return f"offer {item_id} of {offer.supplier} can make and reserve at most {offer.capacity} units"
        case GroupKind.SUPPLIER_CAPACITY:
            return f"supplier {item_id} can make and reserve at most {problem.supplier(item_id).capacity} units in all"
