"""Sourcing's own cost: what a request to start sourcing takes, and what a matching run adds to its solver.

Runs the embedded stack in this process (every service, the in-process worker) on fresh databases: SQLite files,
or PostgreSQL when FLEXSUPPLY_TEST_POSTGRES_URL names a server (with FLEXSUPPLY_BROKER_URL for a real broker).
Requests go through httpx's ASGI transport, so the numbers are the services' own work, not a network's.

1. Starting sourcing: 200 suppliers each with an eligible offer for one sku; `POST /api/v1/sourcing-rounds` for a
   fresh draft package, repeated; the median and p95 answer time, beside `GET /live` measured in the same run.
   Then how long until the suppliers service has written all 200 RFQs (outbox relay, worker, one transaction).
2. A matching run of 50 packages over 400 offers (100 suppliers, 8 skus): the run's elapsed time minus the time in
   the solver (the round's solve and the standalone solves that show the federation saving) is what the service
   adds: reading quotes and offers over HTTP, building the problem, storing the plan.

    uv run --frozen python -m bench.sourcing.run [--rounds 30] [--time-limit 10] [--json]
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("FLEXSUPPLY_BROKER_URL", "stub://")
os.environ.setdefault("FLEXSUPPLY_OPERATOR_TOKEN", "bench-operator-token")
os.environ["FLEXSUPPLY_OUTBOX_POLL_SECONDS"] = "0.05"
os.environ["FLEXSUPPLY_LOG_LEVEL"] = "WARNING"

import httpx

REGIONS = ["ningbo", "shanghai", "hangzhou", "suzhou", "nanjing", "wuxi"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def register_suppliers(api: httpx.AsyncClient, token: str, count: int, offers: list[dict[str, Any]]) -> None:
    """`count` suppliers; supplier i publishes offers[i::count]."""
    operator = {"authorization": f"Bearer {token}"}
    for index in range(count):
        created = await api.post(
            "/api/v1/suppliers",
            headers=operator,
            json={
                "name": f"Workshop {index}",
                "contact_name": "Li",
                "contact_email": "li@example.com",
                "regions": REGIONS,
                "capacity": random.randint(800, 4000),
            },
        )
        key = created.json()["api_key"]["api_key"]
        for offer in offers[index::count]:
            response = await api.post("/api/v1/offers", headers={"authorization": f"Bearer {key}"}, json=offer)
            assert response.status_code == 201, response.text
        if (index + 1) % 50 == 0:
            log(f"  {index + 1}/{count} suppliers registered")


def offer(sku: str, rng: random.Random, regions: int | None = None) -> dict[str, Any]:
    capacity = rng.randint(300, 1500)
    moq = rng.randint(20, capacity // 4)
    price = rng.randint(1500, 4000)
    return {
        "sku": sku,
        "moq": moq,
        "capacity": capacity,
        "lead_time_days": rng.randint(3, 15),
        "quality": rng.randint(70, 99),
        "fixed_cents": rng.randint(0, 50_000),
        "reserve_cents": rng.randint(50, 300),
        "price_tiers": [
            {"min_quantity": 0, "unit_cents": price},
            {"min_quantity": moq * 3, "unit_cents": price * 9 // 10},
        ],
        "shipping_cents": {
            region: rng.randint(100, 900) for region in rng.sample(REGIONS, regions or rng.randint(3, 6))
        },
    }


def package(sku: str, community_id: str, quantities: dict[str, int], backups: int) -> dict[str, Any]:
    return {
        "community_id": community_id,
        "title": f"{sku} for the group",
        "sku": sku,
        "spec": "as usual",
        "quantities": quantities,
        "needed_by": at(days=30),
        "min_quality": 60,
        "backups": backups,
        "sale_opens_at": at(days=5),
        "sale_closes_at": at(days=6),
        "threshold_units": 1,
        "cap_units": 10_000,
        "per_buyer_limit": 10,
        "sale_price_cents": 5000,
    }


async def bench(urls: dict[str, str], data: str, rounds: int, time_limit: float) -> dict[str, Any]:
    from flexsupply.cli.stack import SERVICE_NAMES, embedded_app, load_service
    from flexsupply.kit.migrations import upgrade
    from flexsupply.kit.settings import KitSettings
    from tests.support.lifespan import running

    rng = random.Random(7)
    token = os.environ["FLEXSUPPLY_OPERATOR_TOKEN"]
    operator = {"authorization": f"Bearer {token}"}
    for service, url in urls.items():
        os.environ[f"FLEXSUPPLY_{service.upper()}_DATABASE_URL"] = url
    os.environ["FLEXSUPPLY_DATA_DIR"] = data
    for name in SERVICE_NAMES:
        loaded = load_service(name)
        await asyncio.to_thread(upgrade, loaded.migrations, loaded.database_url)
    app = embedded_app([load_service(name) for name in SERVICE_NAMES], KitSettings(), worker_threads=4)
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120) as api,  # pyright: ignore[reportArgumentType]
    ):
        for region in REGIONS:
            await api.put(f"/api/v1/regions/{region}", headers=operator, json={"name": region.title()})
        community = (
            await api.post(
                "/api/v1/communities",
                headers=operator,
                json={"name": "Bench bakers", "leader": {"name": "Zhang", "contact": "wechat:z"}},
            )
        ).json()["community"]["id"]

        # 1. Starting sourcing with 200 eligible suppliers.
        log("registering 200 suppliers with an eligible offer each")
        await register_suppliers(api, token, 200, [offer("wide-sku", rng, len(REGIONS)) for _ in range(200)])
        live, starts, rfq_seconds = [], [], []
        for index in range(rounds):
            draft = (
                await api.post(
                    "/api/v1/packages", headers=operator, json=package("wide-sku", community, {"ningbo": 100}, 1)
                )
            ).json()
            began = time.perf_counter()
            await api.get("/live")
            live.append(time.perf_counter() - began)
            began = time.perf_counter()
            started = await api.post(
                "/api/v1/sourcing-rounds",
                headers=operator,
                json={"package_ids": [draft["id"]], "reply_by": at(days=2)},
            )
            starts.append(time.perf_counter() - began)
            assert started.status_code == 201, started.text
            if index < 5:  # the RFQs' arrival, on a few rounds
                while True:
                    rfqs = await api.get(f"/api/v1/rfq-rounds/{started.json()['id']}", headers=operator)
                    if rfqs.status_code == 200 and len(rfqs.json()["rfqs"]) >= 200:
                        break
                    await asyncio.sleep(0.02)
                rfq_seconds.append(time.perf_counter() - began)
            if (index + 1) % 10 == 0:
                log(f"  {index + 1}/{rounds} rounds started")

        # 2. A run of 50 packages over 400 offers.
        log("registering 100 suppliers with 400 offers over 8 skus")
        skus = [f"sku-{index}" for index in range(8)]
        await register_suppliers(api, token, 100, [offer(skus[index % 8], rng) for index in range(400)])
        ids = []
        for index in range(50):
            regions = rng.sample(REGIONS, rng.randint(1, 3))
            body = package(skus[index % 8], community, {r: rng.randint(20, 120) for r in regions}, rng.randint(0, 1))
            ids.append((await api.post("/api/v1/packages", headers=operator, json=body)).json()["id"])
        federated = (
            await api.post(
                "/api/v1/sourcing-rounds", headers=operator, json={"package_ids": ids, "reply_by": at(days=2)}
            )
        ).json()
        await asyncio.sleep(1.0)  # the RFQs go out before the run reads the answers
        run = (
            await api.post(
                f"/api/v1/sourcing-rounds/{federated['id']}/match-runs",
                headers=operator,
                json={"time_limit_seconds": time_limit},
            )
        ).json()
        log(f"run {run['id']} queued; solving with a {time_limit:g} s limit")
        while run["status"] in {"queued", "running"}:
            await asyncio.sleep(0.2)
            run = (await api.get(f"/api/v1/match-runs/{run['id']}", headers=operator)).json()
        solver = (run["solve_seconds"] or 0) + (run["standalone_seconds"] or 0)
        queued_at = datetime.fromisoformat(run["created_at"])
        return {
            "database": "postgresql" if os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL") else "sqlite",
            "start_sourcing": {
                "suppliers": 200,
                "rounds": rounds,
                "median_ms": 1000 * statistics.median(starts),
                "p95_ms": 1000 * percentile(starts, 0.95),
                "live_median_ms": 1000 * statistics.median(live),
                "all_200_rfqs_written_median_s": statistics.median(rfq_seconds),
            },
            "match_run": {
                "packages": 50,
                "offers": 400,
                "status": run["status"],
                "time_limit_s": time_limit,
                "elapsed_s": run["elapsed_seconds"],
                "queued_to_started_s": (datetime.fromisoformat(run["started_at"]) - queued_at).total_seconds(),
                "solve_s": run["solve_seconds"],
                "standalone_solves_s": run["standalone_seconds"],
                "build_s": run["build_seconds"],
                "own_s": run["elapsed_seconds"] - solver,
                "gap": run["gap"],
                "saving_cents": run["saving_cents"],
            },
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from tests.support.databases import fresh_databases

    with (
        tempfile.TemporaryDirectory() as data,
        fresh_databases(os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL"), Path(data)) as urls,
    ):
        result = asyncio.run(bench(urls, data, args.rounds, args.time_limit))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    start, run = result["start_sourcing"], result["match_run"]
    rows = [
        (
            "start sourcing, 200 eligible suppliers: median / p95",
            f"{start['median_ms']:.1f} / {start['p95_ms']:.1f} ms",
        ),
        ("GET /live in the same run: median", f"{start['live_median_ms']:.2f} ms"),
        ("all 200 RFQs written after the answer: median", f"{start['all_200_rfqs_written_median_s']:.2f} s"),
        ("run of 50 packages, 400 offers: status, gap", f"{run['status']}, {run['gap']}"),
        (
            "run elapsed / solver (round + standalone)",
            f"{run['elapsed_s']:.2f} / {run['solve_s']:.2f} + {run['standalone_solves_s']:.2f} s",
        ),
        ("run's own time (elapsed - solver) / reading and building", f"{run['own_s']:.2f} / {run['build_s']:.2f} s"),
    ]
    print(f"database: {result['database']}")
    print("| measure | value |\n|---|---|")
    for measure, value in rows:
        print(f"| {measure} | {value} |")


if __name__ == "__main__":
    main()
