"""Seeded generator of realistic matching problems: several SKUs, suppliers with one to three offers and
sometimes a supplier-wide capacity, one to three price tiers, MOQs, lead times, quality, shipping to a subset
of regions, and packages asking for 0-2 backups. `scarce` multiplies demand by 8, so that capacity runs short and
the instance is usually infeasible."""

import random

from flexsupply.allocation import Offer, Package, PackageLine, PriceTier, Problem, Supplier


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
