"""Seeded generators of matching problems.

`generate`: realistic problems: several SKUs, suppliers with one to three offers and sometimes a supplier-wide
capacity, one to three price tiers, MOQs, lead times, quality, shipping to a subset of regions, and packages asking
for 0-2 backups. `scarce` multiplies demand by 8, so that capacity runs short and the instance is usually infeasible.

`generate_tight`: the tight family (issue 11): per SKU, the offers' total capacity is about three times the demand
and MOQs are 20-40% of an offer's capacity, so packages of a SKU must share offers and the MOQs bind; most packages
ask for 1-2 backups; a third of the suppliers have a supplier-wide capacity; 12 regions.
"""

import random

from flexsupply.allocation import Offer, Package, PackageLine, PriceTier, Problem, Supplier
from flexsupply.allocation.explain import necessary_conditions


def generate(packages: int, offers: int, regions: int, seed: int, scarce: bool = False) -> Problem:
    rng = random.Random(seed)
    region_names = [f"region-{index}" for index in range(regions)]
    sku_count = max(2, packages // 4)
    skus = [f"sku-{index}" for index in range(sku_count)]
    base_cents = {sku: rng.randrange(800, 9000, 50) for sku in skus}

    made_offers: list[Offer] = []
    suppliers: list[Supplier] = []
    while len(made_offers) < offers:
        supplier_id = f"s-{len(suppliers)}"
        offered = []
        for sku in rng.sample(skus, min(len(skus), rng.randint(1, 3), offers - len(made_offers))):
            offered.append(
                _offer(rng, f"o-{len(made_offers) + len(offered)}", supplier_id, sku, base_cents[sku], region_names)
            )
        made_offers += offered
        limited = rng.random() < 0.4
        capacity = int(sum(offer.capacity for offer in offered) * rng.uniform(0.5, 0.9)) if limited else None
        suppliers.append(Supplier(id=supplier_id, capacity=capacity))

    made_packages = []
    for index in range(packages):
        lines = [
            PackageLine(region=region, quantity=rng.randrange(40, 600, 5) * (8 if scarce else 1))
            for region in rng.sample(region_names, rng.randint(1, min(3, regions)))
        ]
        made_packages.append(
            Package(
                id=f"dp-{index}",
                sku=rng.choice(skus),
                needed_by_days=rng.randint(6, 14),
                min_quality=rng.choice([0, 70, 80]),
                backups=rng.choices([0, 1, 2], weights=[3, 5, 2])[0],
                lines=lines,
            )
        )
    return Problem(currency="CNY", suppliers=suppliers, offers=made_offers, packages=made_packages)


def _offer(rng: random.Random, offer_id: str, supplier_id: str, sku: str, base: int, regions: list[str]) -> Offer:
    moq = rng.randrange(20, 300, 10)
    unit = int(base * rng.uniform(0.85, 1.2))
    tiers = [PriceTier(min_quantity=0, unit_cents=unit)]
    for _ in range(rng.randint(0, 2)):
        tiers.append(
            PriceTier(
                min_quantity=max(moq, tiers[-1].min_quantity) + rng.randrange(100, 800, 50),
                unit_cents=int(tiers[-1].unit_cents * rng.uniform(0.88, 0.97)),
            )
        )
    shipped = rng.sample(regions, max(1, round(len(regions) * rng.uniform(0.6, 1.0))))
    return Offer(
        id=offer_id,
        supplier=supplier_id,
        sku=sku,
        moq=moq,
        capacity=rng.randrange(300, 2500, 50),
        lead_time_days=rng.randint(2, 12),
        quality=rng.randint(72, 99),
        fixed_cents=rng.randrange(0, 60000, 500),
        reserve_cents=rng.randrange(20, 400, 5),
        price_tiers=tiers,
        shipping_cents={region: rng.randrange(100, 1200, 10) for region in shipped},
    )


def tight_shape(seed: int) -> tuple[int, int, int]:
    """A medium tight instance's (packages, skus, offers): 20-50 packages over 5-12 SKUs, about 2.8 offers per
    package (as on the instance the issue measured: 49 packages, 137 offers, 8 SKUs)."""
    rng = random.Random(f"tight-shape-{seed}")
    packages = rng.randint(20, 50)
    return packages, rng.randint(5, 12), round(packages * 2.8)


def generate_tight(packages: int, skus: int, offers: int, seed: int, regions: int = 12) -> Problem:
    """A tight problem that passes the engine's necessary conditions (a package no offer set could serve is
    redrawn, from the next of the seed's own sub-seeds, so the family stays reproducible)."""
    for attempt in range(100):
        problem = _tight(packages, skus, offers, random.Random(f"tight-{seed}-{attempt}"), regions)
        if not necessary_conditions(problem):
            return problem
    raise ValueError(f"no tight instance passes the necessary conditions for seed {seed}")


def _tight(packages: int, skus: int, offers: int, rng: random.Random, regions: int) -> Problem:
    region_names = [f"region-{index}" for index in range(regions)]
    sku_names = [f"sku-{index}" for index in range(skus)]
    made_packages = []
    for index in range(packages):
        made_packages.append(
            Package(
                id=f"dp-{index}",
                sku=sku_names[index] if index < skus else rng.choice(sku_names),  # every SKU has demand
                needed_by_days=rng.randint(7, 14),
                min_quality=rng.choice([0, 70, 80]),
                backups=rng.choices([0, 1, 2], weights=[2, 5, 3])[0],
                lines=[
                    PackageLine(region=region, quantity=rng.randrange(40, 600, 5))
                    for region in rng.sample(region_names, rng.randint(1, 3))
                ],
            )
        )
    demand = {sku: sum(p.quantity for p in made_packages if p.sku == sku) for sku in sku_names}
    total_demand = sum(demand.values())

    made_offers: list[Offer] = []
    for sku in sku_names:
        count = max(6, round(offers * demand[sku] / total_demand))
        weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
        base = rng.randrange(800, 9000, 50)
        for weight in weights:
            capacity = max(50, int(round(3 * demand[sku] * weight / sum(weights), -1)))
            made_offers.append(_tight_offer(rng, f"o-{len(made_offers)}", sku, base, capacity, region_names))
    rng.shuffle(made_offers)

    suppliers: list[Supplier] = []
    grouped: list[Offer] = []
    while len(grouped) < len(made_offers):
        supplier_id = f"s-{len(suppliers)}"
        taken = made_offers[len(grouped) : len(grouped) + rng.choices([1, 2, 3], weights=[5, 3, 2])[0]]
        grouped += [offer.model_copy(update={"supplier": supplier_id}) for offer in taken]
        limited = rng.random() < 1 / 3
        capacity = int(sum(offer.capacity for offer in taken) * rng.uniform(0.5, 0.9)) if limited else None
        suppliers.append(Supplier(id=supplier_id, capacity=capacity))
    return Problem(currency="CNY", suppliers=suppliers, offers=grouped, packages=made_packages)


def _tight_offer(rng: random.Random, offer_id: str, sku: str, base: int, capacity: int, regions: list[str]) -> Offer:
    moq = max(1, round(capacity * rng.uniform(0.2, 0.4)))
    tiers = [PriceTier(min_quantity=0, unit_cents=int(base * rng.uniform(0.85, 1.2)))]
    # Discounts that a shared offer can reach: tier starts between the moq and the capacity.
    for fraction in sorted(rng.uniform(0.2, 0.9) for _ in range(rng.randint(0, 2))):
        start = moq + max(1, round((capacity - moq) * fraction))
        if start > tiers[-1].min_quantity and start <= capacity:
            tiers.append(PriceTier(min_quantity=start, unit_cents=int(tiers[-1].unit_cents * rng.uniform(0.88, 0.97))))
    shipped = rng.sample(regions, max(1, round(len(regions) * rng.uniform(0.75, 1.0))))
    return Offer(
        id=offer_id,
        supplier="",  # set when the offers are grouped into suppliers
        sku=sku,
        moq=moq,
        capacity=capacity,
        lead_time_days=rng.randint(2, 7),
        quality=rng.randint(75, 99),
        fixed_cents=rng.randrange(0, 60000, 500),
        reserve_cents=rng.randrange(20, 400, 5),
        price_tiers=tiers,
        shipping_cents={region: rng.randrange(100, 1200, 10) for region in shipped},
    )
