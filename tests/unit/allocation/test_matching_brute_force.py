"""The engine's optimum agrees with exhaustive search on hundreds of tiny seeded instances.

The search is a second, deliberately naive reading of the contract. It uses two reductions that cannot
lose the optimum: packages with N = 0 hold no reserves (a reserve only adds cost and load), and no reserve
exceeds max(package quantity, moq) (capping reserves at the largest share P keeps the sum of the smallest
m - N + 1 of them at least P, and P <= package quantity).
"""

import itertools
import random
from collections import defaultdict

import pytest

from flexsupply.allocation import (
    Offer,
    Package,
    PackageLine,
    PlanStatus,
    PriceTier,
    Problem,
    SolveParams,
    Supplier,
    cost_cents,
    solve,
    violations,
)
from flexsupply.allocation.explain import necessary_conditions

SEEDS = range(300)


def tiny_problem(seed: int) -> Problem:
    rng = random.Random(seed)
    regions = ["north", "south"]
    suppliers = [Supplier(id=f"s-{i}", capacity=rng.choice([None, None, rng.randint(2, 8)])) for i in range(4)]
    offers = []
    for index in range(rng.randint(4, 5)):
        moq = rng.randint(0, 3)
        tiers = [PriceTier(min_quantity=rng.randint(0, moq), unit_cents=rng.randint(5, 12))]
        if rng.random() < 0.5:
            tiers.append(PriceTier(min_quantity=rng.randint(moq + 1, 4), unit_cents=rng.randint(2, 5)))
        offers.append(
            Offer(
                id=f"o-{index}",
                supplier=suppliers[index % len(suppliers)].id,
                sku=rng.choice(["tea", "tea", "tea", "cake"]),
                moq=moq,
                capacity=rng.randint(1, 8),
                lead_time_days=rng.choice([1, 1, 2, 3]),
                quality=rng.randint(1, 3),
                fixed_cents=rng.randint(0, 20),
                reserve_cents=rng.randint(0, 4),
                price_tiers=tiers,
                shipping_cents={
                    region: rng.randint(0, 4) for region in rng.sample(regions, rng.choice([1, 2, 2, 2, 2]))
                },
            )
        )
    packages = []
    line_budget = 3
    for index in range(rng.randint(1, 2)):
        lines = [
            PackageLine(region=region, quantity=rng.randint(1, 3))
            for region in rng.sample(regions, rng.randint(1, min(2, line_budget - (index == 0))))
        ]
        line_budget -= len(lines)
        packages.append(
            Package(
                id=f"dp-{index}",
                sku=rng.choice(["tea", "tea", "tea", "cake"]) if index else "tea",
                needed_by_days=rng.randint(2, 3),
                min_quality=rng.randint(0, 1),
                backups=seed % 3 if index == 0 else rng.randint(0, 2),
                lines=lines,
            )
        )
        if line_budget <= 0:
            break
    return Problem(currency="CNY", suppliers=suppliers, offers=offers, packages=packages)


def least_cost(problem: Problem) -> int | None:
    """Try every allocation and every reserve; None when nothing satisfies the contract."""
    offers = {offer.id: offer for offer in problem.offers}
    capacity = {supplier.id: supplier.capacity for supplier in problem.suppliers}

    def eligible(offer: Offer, package: Package) -> bool:
        return (
            offer.sku == package.sku
            and offer.lead_time_days <= package.needed_by_days
            and offer.quality >= package.min_quality
        )

    lines = [(package, line) for package in problem.packages for line in package.lines]
    line_choices = []
    for package, line in lines:
        serving = [o.id for o in problem.offers if eligible(o, package) and line.region in o.shipping_cents]
        line_choices.append([list(zip(serving, split, strict=True)) for split in _splits(line.quantity, len(serving))])

    best: int | None = None
    for choice in itertools.product(*line_choices):
        primary: dict[str, int] = defaultdict(int)
        shares: dict[tuple[str, str], int] = defaultdict(int)
        cost = 0
        for (package, line), parts in zip(lines, choice, strict=True):
            for offer_id, quantity in parts:
                primary[offer_id] += quantity
                shares[package.id, offers[offer_id].supplier] += quantity
                cost += offers[offer_id].shipping_cents[line.region] * quantity
        if any(0 < quantity < offers[offer_id].moq for offer_id, quantity in primary.items()):
            continue
        for offer_id, quantity in primary.items():
            if quantity:
                cost += offers[offer_id].unit_cents(quantity) * quantity + offers[offer_id].fixed_cents
        if best is not None and cost >= best:
            continue
        reserve_slots, reserve_values = [], []
        for package in problem.packages:
            if package.backups == 0:
                continue
            for offer in problem.offers:
                ships_everywhere = all(region in offer.shipping_cents for region in package.regions)
                if eligible(offer, package) and ships_everywhere and shares[package.id, offer.supplier] == 0:
                    reserve_slots.append((package, offer))
                    top = min(offer.capacity, max(package.quantity, offer.moq))
                    reserve_values.append([0, *range(max(offer.moq, 1), top + 1)])
        for reserved in itertools.product(*reserve_values):
            total = cost + sum(offer.reserve_cents * q for (_, offer), q in zip(reserve_slots, reserved, strict=True))
            if best is not None and total >= best:
                continue
            load = dict(primary)
            for (_, offer), quantity in zip(reserve_slots, reserved, strict=True):
                load[offer.id] = load.get(offer.id, 0) + quantity
            if any(load[offer_id] > offers[offer_id].capacity for offer_id in load):
                continue
            supplier_load: dict[str, int] = defaultdict(int)
            for offer_id, quantity in load.items():
                supplier_load[offers[offer_id].supplier] += quantity
            if any(capacity[s] is not None and used > (capacity[s] or 0) for s, used in supplier_load.items()):
                continue
            if all(_resilient(package, shares, reserve_slots, reserved) for package in problem.packages):
                best = total
    return best


def _resilient(package: Package, shares: dict, slots: list, reserved: tuple) -> bool:
    if package.backups == 0:
        return True
    largest = max((q for (p, _), q in shares.items() if p == package.id), default=0)
    backing: dict[str, int] = defaultdict(int)
    for (slot_package, offer), quantity in zip(slots, reserved, strict=True):
        if slot_package.id == package.id and quantity:
            backing[offer.supplier] += quantity
    every_loss = itertools.combinations(backing.values(), package.backups - 1)
    # Losing any N - 1 backups, including the largest ones, leaves at least the largest share.
    remaining = [sum(backing.values()) - sum(lost) for lost in every_loss] if len(backing) >= package.backups else [0]
    return min(remaining) >= largest


def _splits(total: int, parts: int) -> list[tuple[int, ...]]:
    if parts == 0:  # no offer serves the line: only an empty line is met
        return [()] if total == 0 else []
    return [split for split in itertools.product(range(total + 1), repeat=parts) if sum(split) == total]


@pytest.mark.parametrize("seed", SEEDS)
def test_engine_matches_exhaustive_search(seed: int) -> None:
    problem = tiny_problem(seed)
    plan = solve(problem, SolveParams(time_limit_seconds=10, num_workers=1))
    expected = least_cost(problem)
    if expected is None:
        assert plan.status == PlanStatus.INFEASIBLE
        assert plan.explanation
    else:
        assert plan.status == PlanStatus.OPTIMAL
        assert violations(problem, plan) == []
        assert cost_cents(problem, plan) == plan.total_cents == expected


def test_the_instances_cover_plans_and_both_kinds_of_infeasibility() -> None:
    problems = [tiny_problem(seed) for seed in SEEDS]
    infeasible = [problem for problem in problems if least_cost(problem) is None]
    assert len(problems) - len(infeasible) >= 100
    # Beyond what the necessary conditions see, so the solver's explanation pass runs too.
    assert sum(not necessary_conditions(problem) for problem in infeasible) >= 30
    assert {problem.packages[0].backups for problem in problems} == {0, 1, 2}
