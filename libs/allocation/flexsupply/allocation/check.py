"""Check a plan against the contract's rules and recompute its cost, independently of the solver's model."""

from collections import defaultdict

from flexsupply.allocation.plan import Plan
from flexsupply.allocation.problem import Problem, can_back_up, is_eligible


def violations(problem: Problem, plan: Plan) -> list[str]:
    """Every way the plan breaks the contract's feasibility rules, one sentence each; [] for a valid plan."""
    offers = {offer.id: offer for offer in problem.offers}
    packages = {package.id: package for package in problem.packages}
    found: list[str] = []

    for item in [*plan.allocations, *plan.reserves]:  # rule 1 (and rule 3 for reserves): whole, positive
        if not isinstance(item.quantity, int) or item.quantity <= 0:
            found.append(f"rule 1: {item} is not a positive whole quantity")
    for allocation in plan.allocations:  # rule 1
        offer, package = offers.get(allocation.offer), packages.get(allocation.package)
        if offer is None or package is None:
            found.append(f"rule 1: {allocation} names an unknown offer or package")
        elif not is_eligible(offer, package):
            found.append(f"rule 1: {offer.id} is not eligible for {package.id}")
        elif allocation.region not in package.regions or allocation.region not in offer.shipping_cents:
            found.append(f"rule 1: {offer.id} cannot serve {package.id} in {allocation.region}")
    for package in problem.packages:  # rule 2
        for line in package.lines:
            allocated = plan.allocated(package.id, line.region)
            if allocated != line.quantity:
                found.append(f"rule 2: {package.id} {line.region} gets {allocated} of {line.quantity}")

    primary = _primary_quantities(plan)
    reserved: dict[tuple[str, str], int] = defaultdict(int)
    for reserve in plan.reserves:
        reserved[reserve.package, reserve.offer] += reserve.quantity
    for offer in problem.offers:  # rule 3
        if 0 < primary[offer.id] < offer.moq:
            found.append(f"rule 3: {offer.id} makes {primary[offer.id]}, below its moq {offer.moq}")
    for (package_id, offer_id), quantity in reserved.items():
        if offer_id in offers and 0 < quantity < offers[offer_id].moq:
            found.append(f"rule 3: reserve of {offer_id} for {package_id} is {quantity}, below the moq")

    load: dict[str, int] = defaultdict(int)  # rule 4
    for offer in problem.offers:
        load[offer.id] = primary[offer.id] + sum(q for (_, o), q in reserved.items() if o == offer.id)
        if load[offer.id] > offer.capacity:
            found.append(f"rule 4: {offer.id} is loaded with {load[offer.id]} of capacity {offer.capacity}")
    for supplier in problem.suppliers:
        supplier_load = sum(load[offer.id] for offer in problem.offers if offer.supplier == supplier.id)
        if supplier.capacity is not None and supplier_load > supplier.capacity:
            found.append(f"rule 4: {supplier.id} is loaded with {supplier_load} of capacity {supplier.capacity}")

    share = _supplier_shares(problem, plan)
    for package_id, offer_id in reserved:  # rule 5
        offer, package = offers.get(offer_id), packages.get(package_id)
        if offer is None or package is None:
            found.append(f"rule 5: reserve of {offer_id} for {package_id} names an unknown offer or package")
        elif not can_back_up(offer, package):
            found.append(f"rule 5: {offer_id} cannot back up {package_id} (eligibility or regions)")
        elif share[package_id].get(offer.supplier, 0) > 0:
            found.append(f"rule 5: {offer.supplier} backs up {package_id} while also allocated to it")

    for package in problem.packages:  # rule 6
        if package.backups == 0:
            continue
        largest_share = max(share[package.id].values(), default=0)
        backing: dict[str, int] = defaultdict(int)
        for (package_id, offer_id), quantity in reserved.items():
            if package_id == package.id and offer_id in offers:
                backing[offers[offer_id].supplier] += quantity
        surviving = sorted(backing.values(), reverse=True)[package.backups - 1 :]
        if sum(surviving) < largest_share:
            found.append(
                f"rule 6: {package.id} keeps {sum(surviving)} reserved units after losing its "
                f"{package.backups - 1} largest backups, less than its largest share {largest_share}"
            )
    return found


def cost_cents(problem: Problem, plan: Plan) -> int:
    """The contract's cost formula: tiered price on each offer's total, shipping, fixed and reserve fees."""
    return sum(cost_breakdown(problem, plan).values())


def cost_breakdown(problem: Problem, plan: Plan) -> dict[str, int]:
    """The plan's cost in cents by kind: goods (tiered prices), shipping, fixed and reserve."""
    offers = {offer.id: offer for offer in problem.offers}
    primary = _primary_quantities(plan)
    used = [offer for offer in problem.offers if primary[offer.id] > 0]
    return {
        "goods": sum(offer.unit_cents(primary[offer.id]) * primary[offer.id] for offer in used),
        "shipping": sum(offers[a.offer].shipping_cents[a.region] * a.quantity for a in plan.allocations),
        "fixed": sum(offer.fixed_cents for offer in used),
        "reserve": sum(offers[r.offer].reserve_cents * r.quantity for r in plan.reserves),
    }


def _primary_quantities(plan: Plan) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for allocation in plan.allocations:
        totals[allocation.offer] += allocation.quantity
    return totals


def _supplier_shares(problem: Problem, plan: Plan) -> dict[str, dict[str, int]]:
    """package -> supplier -> units that supplier is allocated for the package, over all its offers and regions."""
    supplier_of = {offer.id: offer.supplier for offer in problem.offers}
    shares: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for allocation in plan.allocations:
        if allocation.offer in supplier_of:
            shares[allocation.package][supplier_of[allocation.offer]] += allocation.quantity
    return shares
