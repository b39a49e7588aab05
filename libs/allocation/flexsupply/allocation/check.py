"""Check a plan against the contract's rules and recompute its cost, independently of the solver's model."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

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
    shares = offer_shares(problem, plan)
    return {
        "goods": sum(share.goods_cents for share in shares),
        "shipping": sum(share.shipping_cents for share in shares),
        "fixed": sum(share.fixed_cents for share in shares),
        "reserve": sum(offers[r.offer].reserve_cents * r.quantity for r in plan.reserves),
    }


@dataclass(frozen=True)
class OfferShare:
    """One package's part of one offer in a plan, and what it costs by the contract's formula."""

    package: str
    offer: str
    units: int
    goods_cents: int  # the units at the tier price that the offer's total over every package reaches
    shipping_cents: int
    fixed_cents: int  # the package's part of the offer's fixed cost, in proportion to its units

    @property
    def total_cents(self) -> int:
        return self.goods_cents + self.shipping_cents + self.fixed_cents

    @property
    def landed_unit_cents(self) -> int:
        """What a unit costs delivered, in whole cents rounded half up."""
        return landed_unit_cents(self.total_cents, self.units)


def landed_unit_cents(total_cents: int, units: int) -> int:
    """Cents per unit of `total_cents` over `units`, rounded half up to a whole cent."""
    return (2 * total_cents + units) // (2 * units)


def offer_shares(problem: Problem, plan: Plan) -> list[OfferShare]:
    """Each package's part of each offer it gets units from, in the order the plan first names them. Their
    totals and the reserve fees add up exactly to the plan's cost: a fixed cost is split in whole cents by
    `share_in_proportion`."""
    offers = {offer.id: offer for offer in problem.offers}
    units: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # offer -> package -> units
    shipping: dict[tuple[str, str], int] = defaultdict(int)
    for allocation in plan.allocations:
        units[allocation.offer][allocation.package] += allocation.quantity
        shipping[allocation.package, allocation.offer] += (
            offers[allocation.offer].shipping_cents[allocation.region] * allocation.quantity
        )
    fixed = {
        offer_id: share_in_proportion(offers[offer_id].fixed_cents, by_package)
        for offer_id, by_package in units.items()
    }
    shares = []
    for package_id, offer_id in shipping:  # dicts keep the plan's order
        offer, package_units = offers[offer_id], units[offer_id][package_id]
        shares.append(
            OfferShare(
                package=package_id,
                offer=offer_id,
                units=package_units,
                goods_cents=offer.unit_cents(sum(units[offer_id].values())) * package_units,
                shipping_cents=shipping[package_id, offer_id],
                fixed_cents=fixed[offer_id][package_id],
            )
        )
    return shares


def share_in_proportion(amount_cents: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Whole cents split in proportion to positive weights, adding up to `amount_cents` exactly: each key
    gets the whole cents of its exact share, and the cents left over go one each to the largest remainders
    (equal remainders: the smaller key first)."""
    total_weight = sum(weights.values())
    shares = {key: amount_cents * weight // total_weight for key, weight in weights.items()}
    left = amount_cents - sum(shares.values())
    by_remainder = sorted(weights, key=lambda key: (-(amount_cents * weights[key] % total_weight), key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


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
