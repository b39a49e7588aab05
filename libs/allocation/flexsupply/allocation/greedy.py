"""A greedy plan: the baseline the benchmark compares against, and the solver's starting point.

One package at a time with capacity carried forward: each line takes the cheapest landed unit cost first
(tier price at the resulting total, shipping, and the fixed cost spread over the units when the offer is
new), then the package takes its N cheapest backups, each reserving the largest primary share.
"""

from collections import defaultdict

from flexsupply.allocation.check import cost_cents
from flexsupply.allocation.plan import Allocation, Plan, PlanStatus, Reserve
from flexsupply.allocation.problem import Offer, Problem, can_back_up, is_eligible


def greedy_plan(problem: Problem) -> Plan | None:
    """A feasible plan, or None when the greedy gets stuck (which does not mean that none exists)."""
    supplier_left = {s.id: s.capacity for s in problem.suppliers}
    offer_left = {o.id: o.capacity for o in problem.offers}
    primary: dict[str, int] = defaultdict(int)
    allocations: list[Allocation] = []
    reserves: list[Reserve] = []

    def available(offer: Offer) -> int:
        supplier_capacity = supplier_left[offer.supplier]
        return offer_left[offer.id] if supplier_capacity is None else min(offer_left[offer.id], supplier_capacity)

    def take(offer: Offer, quantity: int) -> None:
        offer_left[offer.id] -= quantity
        if supplier_left[offer.supplier] is not None:
            supplier_left[offer.supplier] -= quantity

    for package in problem.packages:
        eligible = [offer for offer in problem.offers if is_eligible(offer, package)]
        shares: dict[str, int] = defaultdict(int)
        for line in sorted(package.lines, key=lambda line: -line.quantity):
            missing = line.quantity
            while missing > 0:
                choices = []
                for offer in eligible:
                    quantity = min(missing, available(offer))
                    before, after = primary[offer.id], primary[offer.id] + quantity
                    if quantity <= 0 or line.region not in offer.shipping_cents or after < offer.moq:
                        continue
                    # What the offer's cost grows by, so a tier reached for everything counts as a saving.
                    added = offer.unit_cents(after) * after - offer.unit_cents(before) * before
                    added += offer.shipping_cents[line.region] * quantity + (offer.fixed_cents if before == 0 else 0)
                    choices.append((added / quantity, offer.id, offer, quantity))
                if not choices:
                    return None
                _, _, offer, quantity = min(choices)
                allocations.append(
                    Allocation(package=package.id, offer=offer.id, region=line.region, quantity=quantity)
                )
                primary[offer.id] += quantity
                shares[offer.supplier] += quantity
                take(offer, quantity)
                missing -= quantity
        if package.backups == 0 or package.quantity == 0:
            continue
        largest_share = max(shares.values())
        backups = []
        for offer in eligible:
            quantity = max(largest_share, offer.moq)
            if can_back_up(offer, package) and shares[offer.supplier] == 0 and available(offer) >= quantity:
                backups.append((offer.reserve_cents * quantity, offer.id, offer, quantity))
        chosen_suppliers: set[str] = set()
        for _, _, offer, quantity in sorted(backups):
            if len(chosen_suppliers) < package.backups and offer.supplier not in chosen_suppliers:
                if available(offer) < quantity:
                    continue
                chosen_suppliers.add(offer.supplier)
                reserves.append(Reserve(package=package.id, offer=offer.id, quantity=quantity))
                take(offer, quantity)
        if len(chosen_suppliers) < package.backups:
            return None
    plan = Plan(status=PlanStatus.FEASIBLE, allocations=_merged(allocations), reserves=reserves)
    plan.total_cents = cost_cents(problem, plan)
    return plan


def _merged(allocations: list[Allocation]) -> list[Allocation]:
    """One allocation per (package, offer, region), in first-taken order."""
    merged: dict[tuple[str, str, str], int] = defaultdict(int)
    for allocation in allocations:
        merged[allocation.package, allocation.offer, allocation.region] += allocation.quantity
    return [
        Allocation(package=package, offer=offer, region=region, quantity=quantity)
        for (package, offer, region), quantity in merged.items()
    ]
