"""A greedy plan: the baseline the benchmark compares against, and the solver's starting point.

One package at a time, largest first, with capacity carried forward: each line takes the cheapest landed
unit cost first (tier price at the resulting total, shipping, and the fixed cost spread over the units when
the offer is new), then the package takes the cheapest backups that survive losing N - 1 of them.
"""

from collections import defaultdict
from collections.abc import Callable

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
        supplier_capacity = supplier_left[offer.supplier]
        if supplier_capacity is not None:
            supplier_left[offer.supplier] = supplier_capacity - quantity

    # Largest first: a small package can then join an offer that a large one opened, whose moq it could not
    # reach alone.
    for package in sorted(problem.packages, key=lambda package: -package.quantity):
        eligible = [offer for offer in problem.offers if is_eligible(offer, package)]
        shares: dict[str, int] = defaultdict(int)
        for line in sorted(package.lines, key=lambda line: -line.quantity):
            missing = line.quantity
            while missing > 0:
                choices = []
                for offer in eligible:
                    quantity = min(missing, available(offer))
                    before, after = primary[offer.id], primary[offer.id] + quantity
                    if quantity <= 0 or line.region not in offer.shipping_cents:
                        continue
                    added = _goods_cents(offer, after) - _goods_cents(offer, before)
                    added += offer.shipping_cents[line.region] * quantity + (offer.fixed_cents if before == 0 else 0)
                    # Reaching the moq comes first, then covering the rest of the line (a small remainder may fit
                    # no offer's moq), then the landed cost.
                    choices.append((after < offer.moq, quantity < missing, added / quantity, offer.id, offer, quantity))
                if not choices:
                    return None
                *_, offer, quantity = min(choices)
                allocations.append(
                    Allocation(package=package.id, offer=offer.id, region=line.region, quantity=quantity)
                )
                primary[offer.id] += quantity
                shares[offer.supplier] += quantity
                take(offer, quantity)
                missing -= quantity
        if package.backups == 0 or package.quantity == 0:
            continue
        candidates = [offer for offer in eligible if can_back_up(offer, package) and shares[offer.supplier] == 0]
        chosen = _cheapest_backups(package.backups, max(shares.values()), candidates, available)
        if chosen is None:
            return None
        for offer, quantity in chosen:
            reserves.append(Reserve(package=package.id, offer=offer.id, quantity=quantity))
            take(offer, quantity)
    if any(0 < primary[offer.id] < offer.moq for offer in problem.offers):
        return None
    plan = Plan(status=PlanStatus.FEASIBLE, allocations=_merged(allocations), reserves=reserves)
    plan.total_cents = cost_cents(problem, plan)
    return plan


def _goods_cents(offer: Offer, quantity: int) -> int:
    """The tiered price of the offer's total, so a tier reached for everything counts as a saving. Below the
    moq it is the moq's price: later packages may fill the offer up, or the plan fails at the end."""
    charged = max(quantity, offer.moq) if quantity else 0
    return offer.unit_cents(charged) * charged


def _cheapest_backups(
    backups: int, largest_share: int, candidates: list[Offer], available: Callable[[Offer], int]
) -> list[tuple[Offer, int]] | None:
    """The cheapest set of m >= N backup suppliers each reserving ceil(P / (m - N + 1)): losing the N - 1
    largest of them still leaves m - N + 1 shares of P. None when no m works."""
    best: tuple[int, list[tuple[Offer, int]]] | None = None
    suppliers = len({offer.supplier for offer in candidates})
    for count in range(backups, suppliers + 1):
        each = -(-largest_share // (count - backups + 1))
        picked: list[tuple[Offer, int]] = []
        by_cost = sorted(candidates, key=lambda offer: (offer.reserve_cents * max(each, offer.moq), offer.id))
        for offer in by_cost:
            quantity = max(each, offer.moq)
            if available(offer) >= quantity and offer.supplier not in {o.supplier for o, _ in picked}:
                picked.append((offer, quantity))
            if len(picked) == count:
                cost = sum(offer.reserve_cents * quantity for offer, quantity in picked)
                if best is None or cost < best[0]:
                    best = (cost, picked)
                break
    return None if best is None else best[1]


def _merged(allocations: list[Allocation]) -> list[Allocation]:
    """One allocation per (package, offer, region), in first-taken order."""
    merged: dict[tuple[str, str, str], int] = defaultdict(int)
    for allocation in allocations:
        merged[allocation.package, allocation.offer, allocation.region] += allocation.quantity
    return [
        Allocation(package=package, offer=offer, region=region, quantity=quantity)
        for (package, offer, region), quantity in merged.items()
    ]
