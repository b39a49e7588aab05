"""Benchmark the fulfilment rules: assigning buyers' orders to production, and rendering a courier manifest.

    uv run --frozen python -m bench.fulfilment.assignment [--orders 500,10000] [--variants regular,tight,wide]
        [--runs 5] [--seed 0] [--json] [--record]

Each instance is seeded: 12 regions; 5 suppliers, each with one production order, a region served by 1-3 of them
whose shares split the region's units at random; orders 70% of 1 unit, 20% of 2, 10% of 3-5. The tight variant
makes a third of the regions (served by 2-3 suppliers) take only orders of 2 or 4 units while two of their shares
are odd, so no whole assignment exists there and CP-SAT has to find and prove the one split. The wide variant is a
stress beyond the issue: every order of 10-200 units, every region served by 3-5 suppliers. Each instance is
assigned `--runs` times (the median and the slowest are reported), then a manifest of as many lines is rendered as
CSV and as JSON (`json.dumps` of the rows) `--runs` times: only the rendering, not the database reads before it.
Progress goes to stderr; the table (or --json) to stdout; `--record` adds markdown rows for bench/README.md.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from uuid import UUID

from flexsupply.fulfilment.domain.assignment import OrderNeed, Share, solve_assignment
from flexsupply.fulfilment.domain.manifest import ManifestLine, to_csv, to_json_rows

REGIONS = [f"region-{number:02d}" for number in range(1, 13)]
SUPPLIERS = 5


@dataclass
class Instance:
    name: str
    orders: list[OrderNeed]
    shares: list[Share]


@dataclass
class Result:
    instance: str
    orders: int
    units: int
    shares: int
    regions_searched: int
    split_orders: int
    proved_minimal: bool
    median_seconds: float
    max_seconds: float
    target_seconds: float
    csv_median_seconds: float
    json_median_seconds: float

    @property
    def met(self) -> bool:
        return self.max_seconds < self.target_seconds


VARIANTS = ("regular", "tight", "wide")


def generate(order_count: int, seed: int, variant: str) -> Instance:
    generator = random.Random(f"{order_count}-{seed}-{variant}")
    tight, wide = variant == "tight", variant == "wide"
    production_orders = [UUID(int=generator.getrandbits(128), version=4) for _ in range(SUPPLIERS)]
    weights = [generator.uniform(0.5, 1.5) for _ in REGIONS]
    tight_regions = set(REGIONS[::3]) if tight else set()
    quantities_by_region: dict[str, list[int]] = {region: [] for region in REGIONS}
    for region in generator.choices(REGIONS, weights, k=order_count):
        if wide:
            quantity = generator.randint(10, 200)
        elif region in tight_regions:
            quantity = generator.choices((2, 4), (8, 2))[0]
        else:
            quantity = generator.choices((1, 2, generator.randint(3, 5)), (7, 2, 1))[0]
        quantities_by_region[region].append(quantity)
    orders: list[OrderNeed] = []
    shares: list[Share] = []
    for region, quantities in quantities_by_region.items():
        total = sum(quantities)
        if not total:
            continue
        if wide:
            suppliers = generator.randint(3, 5)
        elif region in tight_regions:
            suppliers = generator.randint(2, 3)
        else:
            suppliers = generator.randint(1, 3)
        suppliers = min(suppliers, total)
        chosen = generator.sample(production_orders, suppliers)
        if region in tight_regions:
            # Two odd shares of an even total: some order of 2 or 4 units has to be split.
            first = generator.randrange(1, total // 2, 2) if total > 3 else 1
            second = generator.randrange(1, total - first, 2) if suppliers == 3 else total - first
            cuts = [first, first + second][: suppliers - 1]
        else:
            cuts = sorted(generator.sample(range(1, total), suppliers - 1))
        bounds = [0, *cuts, total]
        shares.extend(
            Share(production_order, region, high - low)
            for production_order, low, high in zip(chosen, bounds, bounds[1:], strict=False)
            if high > low
        )
        orders.extend(OrderNeed(UUID(int=generator.getrandbits(128), version=4), region, q, 0) for q in quantities)
    generator.shuffle(orders)
    orders = [OrderNeed(order.order_id, order.region, order.quantity, rank) for rank, order in enumerate(orders)]
    name = f"{order_count:,} orders{'' if variant == 'regular' else ', ' + variant}"
    return Instance(name, orders, shares)


def manifest_lines(instance: Instance, seed: int) -> list[ManifestLine]:
    generator = random.Random(seed)
    shipment_ids = [UUID(int=generator.getrandbits(128), version=4) for _ in range(40)]
    return [
        ManifestLine(
            shipment_id=shipment_ids[number % len(shipment_ids)],
            order_id=order.order_id,
            recipient=f"Buyer {number}",
            phone=f"+86138{generator.randrange(10**8):08d}",
            address=f'{generator.randint(1, 300)} Garden Road, Block {generator.randint(1, 40)}, "East" gate',
            region=order.region,
            sku="rice-5kg",
            quantity=order.quantity,
            lot_number=f"LOT-{number % 7}",
        )
        for number, order in enumerate(instance.orders)
    ]


def timed(work: Callable[[], object], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(instance: Instance, runs: int, seed: int) -> Result:
    assignments = []
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        assignments.append(solve_assignment(instance.orders, instance.shares))
        seconds.append(time.perf_counter() - started)
    if any(assignment.pieces != assignments[0].pieces for assignment in assignments):
        raise SystemExit(f"{instance.name}: two runs gave different assignments")
    lines = manifest_lines(instance, seed)
    csv_seconds = timed(lambda: to_csv(lines), runs)
    json_seconds = timed(lambda: json.dumps(to_json_rows(lines)), runs)
    result = assignments[0]
    return Result(
        instance=instance.name,
        orders=len(instance.orders),
        units=sum(order.quantity for order in instance.orders),
        shares=len(instance.shares),
        regions_searched=result.regions_searched,
        split_orders=result.split_orders,
        proved_minimal=result.proved_minimal,
        median_seconds=statistics.median(seconds),
        max_seconds=max(seconds),
        target_seconds=1.0 if len(instance.orders) <= 500 else 10.0,
        csv_median_seconds=statistics.median(csv_seconds),
        json_median_seconds=statistics.median(json_seconds),
    )


def table(results: list[Result], date: str | None = None) -> str:
    header = [
        "orders (units, shares)",
        "regions to CP-SAT",
        "orders split",
        "proved fewest",
        "assign median / max s",
        "target",
        "manifest CSV / JSON median s",
    ]
    if date:
        header.insert(0, "date")
    rows = [header, ["---"] * len(header)]
    for result in results:
        row = [
            f"{result.instance} ({result.units:,}, {result.shares})",
            f"{result.regions_searched} of {len(REGIONS)}",
            str(result.split_orders),
            "yes" if result.proved_minimal else "no",
            f"{result.median_seconds:.3f} / {result.max_seconds:.3f}",
            f"< {result.target_seconds:g} s: {'met' if result.met else 'MISSED'}",
            f"{result.csv_median_seconds:.3f} / {result.json_median_seconds:.3f}",
        ]
        rows.append([date, *row] if date else row)
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=lambda text: [int(n) for n in text.split(",")], default=[500, 10_000])
    parser.add_argument("--variants", type=lambda text: text.split(","), default=list(VARIANTS))
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement; the median is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--record", action="store_true", help="print markdown rows for bench/README.md")
    options = parser.parse_args()

    results = []
    for order_count in options.orders:
        for variant in options.variants:
            instance = generate(order_count, options.seed, variant)
            result = measure(instance, options.runs, options.seed)
            log(
                f"{result.instance}: {result.split_orders} split ({'proved' if result.proved_minimal else 'not proved'}"
                f" fewest), {result.regions_searched} regions to CP-SAT, assign median {result.median_seconds:.3f} s"
                f" (max {result.max_seconds:.3f}), CSV {result.csv_median_seconds:.3f} s"
            )
            results.append(result)
    if options.json:
        machine = {"nproc": os.cpu_count(), "python": platform.python_version()}
        print(json.dumps({"machine": machine, "results": [asdict(result) for result in results]}, indent=2))
    else:
        print(table(results))
    if options.record:
        print(f"\n{table(results, date=datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))}")


if __name__ == "__main__":
    main()
