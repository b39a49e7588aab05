"""`flexsupply demo`: play a market evening through the public API, from the catalogue to the last parcel.

Everything goes through HTTP as the people would send it (operator, leader, suppliers, buyers), against the embedded
stack the command starts or a running one (`--url`). The summary is read back from the services, not counted on the
way: what it shows is what they stored.
"""

from __future__ import annotations  # `flexsupply --help` must not import httpx or the services

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import httpx

    from flexsupply.cli.scenario import Attempt, Scenario

POLL_SECONDS = 0.25
WAIT_SECONDS = 180.0
CONCURRENT_ORDERS = 64
PAGE = 500  # the APIs' largest page
COMPLETION_SECONDS = 30.0


class DemoFailed(RuntimeError):
    """The evening could not go on: the stage and what the service answered."""


@dataclass
class PackageSummary:
    key: str
    title: str
    package_id: str = ""
    plan_status: str = ""
    plan_total_cents: int | None = None
    landed_unit_cents: int | None = None
    greedy_total_cents: int | None = None
    federation_saving_cents: int | None = None
    sale_caps: dict[str, int] = field(default_factory=dict)
    cap_units: int = 0
    attempts: int = 0
    answers: dict[str, int] = field(default_factory=dict)  # placed, replayed, sold-out, buyer-limit-reached, ...
    doubled: int = 0  # a retry answered with another order: must stay 0
    ordered_units: int = 0
    paid_by_provider: int = 0
    paid_by_statement: int = 0
    statement_unmatched: int = 0
    outcome: str = ""
    went_ahead: bool = False
    sold: dict[str, int] = field(default_factory=dict)
    suppliers: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    parcels: int = 0
    parcels_delivered: int = 0
    takeover: str = ""
    refunds: int = 0
    refund_cents: int = 0
    refunds_paid: int = 0  # the leader's transfers recorded, or back through the provider
    status: str = ""

    @property
    def saving_vs_greedy_cents(self) -> int | None:
        if self.plan_total_cents is None or self.greedy_total_cents is None:
            return None
        return self.greedy_total_cents - self.plan_total_cents


@dataclass
class Summary:
    scenario: str
    url: str
    packages: list[PackageSummary]
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "url": self.url,
            "stage_seconds": {stage: round(seconds, 2) for stage, seconds in self.stage_seconds.items()},
            "packages": [asdict(p) | {"saving_vs_greedy_cents": p.saving_vs_greedy_cents} for p in self.packages],
        }


def ok(response: httpx.Response, stage: str, *expected: int) -> Any:
    if response.status_code not in (expected or (200, 201, 202)):
        raise DemoFailed(
            f"{stage}: {response.request.method} {response.request.url.path} -> {response.status_code} "
            f"{response.text[:500]}"
        )
    return response.json() if response.content else None


async def until(stage: str, probe: Callable[[], Awaitable[Any]], timeout_seconds: float = WAIT_SECONDS) -> Any:
    """Poll `probe` until it returns something truthy."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(POLL_SECONDS)
    raise DemoFailed(f"{stage}: not done within {timeout_seconds:.0f} s")


class Evening:
    """One play of a scenario: the people's clients and what the services answered them."""

    def __init__(
        self,
        scenario: Scenario,
        client: httpx.AsyncClient,
        operator_token: str,
        log: Callable[[str], None],
        unique_suffix: str,
    ) -> None:
        self.scenario = scenario
        self.client = client
        self.operator_token = operator_token
        self.log = log
        self.suffix = unique_suffix  # a running stack keeps earlier evenings: names and skus made unique
        self.operator = {"Authorization": f"Bearer {operator_token}"}
        self.supplier_keys: dict[str, str] = {}  # scenario key -> API key
        self.supplier_names: dict[str, str] = {}  # supplier id -> name
        self.supplier_key_by_id: dict[str, str] = {}
        self.leader_keys: dict[str, str] = {}
        self.packages = {
            p.key: PackageSummary(key=p.key, title=p.title, cap_units=p.cap_units) for p in scenario.packages
        }
        self.orders: dict[str, list[dict[str, Any]]] = {p.key: [] for p in scenario.packages}
        self.run = secrets.token_hex(4)

    def bearer(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def sku(self, sku: str) -> str:
        return f"{sku}-{self.suffix}" if self.suffix else sku

    def leader_of(self, package_key: str) -> dict[str, str]:
        return self.bearer(self.leader_keys[self.scenario.package(package_key).community])

    async def catalogue(self) -> None:
        for code, name in self.scenario.regions.items():
            ok(await self.client.put(f"/api/v1/regions/{code}", json={"name": name}, headers=self.operator), "regions")
        for supplier in self.scenario.suppliers:
            name = f"{supplier.name} {self.suffix}".strip()
            body: dict[str, Any] = {
                "name": name,
                "contact_name": "演示",
                "contact_email": f"{supplier.key}@example.com",
                "regions": supplier.regions,
            }
            if supplier.capacity is not None:
                body["capacity"] = supplier.capacity
            headers = self.operator | {"Idempotency-Key": f"demo-{self.run}-supplier-{supplier.key}"}
            created = ok(await self.client.post("/api/v1/suppliers", json=body, headers=headers), "suppliers", 200, 201)
            key, supplier_id = created["api_key"]["api_key"], created["supplier"]["id"]
            self.supplier_keys[supplier.key], self.supplier_names[supplier_id] = key, supplier.name
            self.supplier_key_by_id[supplier_id] = key
            for offer in supplier.offers:
                terms = offer.model_dump() | {"sku": self.sku(offer.sku)}
                ok(await self.client.post("/api/v1/offers", json=terms, headers=self.bearer(key)), "offers", 201)
        for community in self.scenario.communities:
            body = {
                "name": f"{community.name} {self.suffix}".strip(),
                "leader": {"name": community.leader, "contact": community.contact},
            }
            created = ok(await self.client.post("/api/v1/communities", json=body, headers=self.operator), "communities")
            self.leader_keys[community.key] = created["leader_key"]["api_key"]
        self.log(
            f"catalogue: {len(self.scenario.regions)} regions, {len(self.scenario.suppliers)} suppliers, "
            f"{len(self.scenario.communities)} communities"
        )

    async def draft(self, opens_at: datetime) -> None:
        closes_at = opens_at + timedelta(seconds=self.scenario.sale.open_seconds)
        for package in self.scenario.packages:
            terms = package.model_dump(exclude={"key", "community", "needed_by_days"}) | {
                "sku": self.sku(package.sku),
                "needed_by": (datetime.now(UTC) + timedelta(days=package.needed_by_days)).isoformat(),
                "sale_opens_at": opens_at.isoformat(),
                "sale_closes_at": closes_at.isoformat(),
            }
            headers = self.leader_of(package.key) | {"Idempotency-Key": f"demo-{self.run}-package-{package.key}"}
            created = ok(await self.client.post("/api/v1/packages", json=terms, headers=headers), "packages", 200, 201)
            self.packages[package.key].package_id = created["id"]

    async def source(self) -> None:
        """Each round sourced and matched; the plan read back, and the greedy rule's cost for the same problem."""
        from flexsupply.allocation import Problem, cost_cents, greedy_plan

        reply_by = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        for round_ in self.scenario.round_list():
            ids = [self.packages[key].package_id for key in round_.packages]
            created = ok(
                await self.client.post(
                    "/api/v1/sourcing-rounds", json={"package_ids": ids, "reply_by": reply_by}, headers=self.operator
                ),
                "sourcing",
                201,
            )
            run = ok(
                await self.client.post(
                    f"/api/v1/sourcing-rounds/{created['id']}/match-runs",
                    json={"time_limit_seconds": 10},
                    headers=self.operator,
                ),
                "matching",
                202,
            )

            async def finished(run_id: str = run["id"]) -> dict[str, Any] | None:
                seen = ok(await self.client.get(f"/api/v1/match-runs/{run_id}", headers=self.operator), "matching")
                return seen if seen["status"] in ("planned", "infeasible", "failed") else None

            done = await until("matching", finished)
            problem = Problem.model_validate(
                ok(await self.client.get(f"/api/v1/match-runs/{done['id']}/problem", headers=self.operator), "matching")
            )
            greedy = greedy_plan(problem)
            shares = {plan["package_id"]: plan for plan in done["packages"]}
            for key in round_.packages:
                summary = self.packages[key]
                summary.plan_status = done["status"]
                summary.federation_saving_cents = done["saving_cents"] if len(round_.packages) > 1 else None
                if share := shares.get(summary.package_id):
                    summary.landed_unit_cents = share["landed_unit_cents"]
                    summary.sale_caps = share["sale_caps"]
                    summary.suppliers = sorted({self.supplier_names[a["supplier_id"]] for a in share["allocations"]})
                    summary.backups = sorted({self.supplier_names[r["supplier_id"]] for r in share["reserves"]})
                    summary.plan_total_cents = sum(share["cost"].values())
                if greedy is not None and len(round_.packages) == 1:
                    summary.greedy_total_cents = cost_cents(problem, greedy)
            self.log(
                f"matching {round_.key}: {done['status']}, total {done['total_cents']}, "
                f"greedy {cost_cents(problem, greedy) if greedy else 'stuck'}"
            )

    async def sell(self, attempts: list[Attempt], opens_at: datetime, progress: Callable[[int], None]) -> None:
        """Every attempt sent at its moment after the opening (retries with the same key)."""
        from flexsupply.cli.scenario import buyers

        people = buyers(self.scenario)
        limit = asyncio.Semaphore(CONCURRENT_ORDERS)
        ids_by_key: dict[str, str] = {}
        answers: dict[str, Counter[str]] = {key: Counter() for key in self.packages}
        await asyncio.sleep(max(0.0, (opens_at - datetime.now(UTC)).total_seconds()))
        started = time.monotonic()

        async def attempt(index: int, item: Attempt) -> None:
            await asyncio.sleep(max(0.0, item.at_ms / 1000 - (time.monotonic() - started)))
            buyer = people[item.buyer]
            body = {
                "quantity": item.quantity,
                "region": item.region,
                "name": buyer.name,
                "phone": buyer.phone,
                "address": buyer.address(self.scenario.regions[item.region]),
            }
            key = f"demo-{self.run}-order-{index}"
            package = self.packages[item.package]
            for _ in range(1 + item.retries):
                async with limit:
                    response = await self.client.post(
                        f"/api/v1/sales/{package.package_id}/orders", json=body, headers={"Idempotency-Key": key}
                    )
                if response.status_code in (200, 201):
                    order = response.json()
                    if key in ids_by_key and ids_by_key[key] != order["id"]:
                        package.doubled += 1
                    if key not in ids_by_key:
                        ids_by_key[key] = order["id"]
                        self.orders[item.package].append(order)
                    answers[item.package]["placed" if response.status_code == 201 else "replayed"] += 1
                elif response.status_code == 409:
                    answers[item.package][response.json().get("type", "conflict").rsplit("/", 1)[-1]] += 1
                else:
                    answers[item.package][f"http-{response.status_code}"] += 1
            progress(1)

        await asyncio.gather(*(attempt(index, item) for index, item in enumerate(attempts)))
        for key, package in self.packages.items():
            package.attempts = sum(1 for item in attempts if item.package == key)
            package.answers = dict(answers[key])
            package.ordered_units = sum(order["quantity"] for order in self.orders[key])

    async def pay(self) -> None:
        from flexsupply.cli.scenario import payment_split, statement_csv
        from flexsupply.matching.payments import sign_test_payment

        for key, package in self.packages.items():
            orders = sorted(self.orders[key], key=lambda order: order["placed_at"])
            by_provider, by_statement = payment_split(len(orders), self.scenario.payments)
            for order in orders[:by_provider]:
                body, headers = sign_test_payment(
                    self.operator_token, order["payment_reference"], order["amount_cents"]
                )
                ok(await self.client.post("/api/v1/payments/test/callbacks", content=body, headers=headers), "payments")
            package.paid_by_provider = by_provider
            statement = [
                (o["payment_reference"], o["amount_cents"]) for o in orders[by_provider : by_provider + by_statement]
            ]
            if statement:
                files = {"statement": ("statement.csv", statement_csv(statement).encode(), "text/csv")}
                report = ok(
                    await self.client.post(
                        f"/api/v1/packages/{package.package_id}/payment-statements",
                        files=files,
                        headers=self.leader_of(key),
                    ),
                    "statement",
                    200,
                    201,
                )
                package.paid_by_statement = len(report["matched"])
                package.statement_unmatched = len(report["unmatched"]) + len(report["mismatched"])

    async def close(self) -> None:
        for key, package in self.packages.items():
            closed = ok(
                await self.client.post(
                    f"/api/v1/packages/{package.package_id}/sale/close",
                    json={"reason": "演示：今晚的市集结束"},
                    headers=self.leader_of(key),
                ),
                "close",
            )
            package.outcome, package.sold, package.went_ahead = closed["outcome"], closed["sold"], closed["went_ahead"]
            if not closed["went_ahead"]:
                await self.pay_back(key)

    async def pay_back(self, key: str) -> None:
        """The leader pays every refund owed by transfer and records it with the transfer's reference."""
        package, leader = self.packages[key], self.leader_of(key)
        url = f"/api/v1/packages/{package.package_id}/refunds"
        refunds = ok(await self.client.get(url, headers=leader), "refunds")
        package.refunds = len(refunds)
        package.refund_cents = sum(refund["amount_cents"] for refund in refunds)
        for number, refund in enumerate(refunds):
            if refund["method"] == "transfer" and refund["status"] in ("owed", "failed"):
                body = {"reference": f"WX{self.run}{number:05d}"}
                paid = await self.client.post(f"/api/v1/refunds/{refund['id']}/transfer", json=body, headers=leader)
                ok(paid, "refund transfer")
        after = ok(await self.client.get(url, headers=leader), "refunds")
        package.refunds_paid = sum(1 for refund in after if refund["status"] == "succeeded")

    async def award(self, key: str) -> None:
        """The suppliers accept what they are offered until the package is awarded."""
        package = self.packages[key]
        url = f"/api/v1/packages/{package.package_id}/awards"

        async def awarded() -> dict[str, Any] | None:
            seen = ok(await self.client.get(url, headers=self.leader_of(key)), "award")
            for award in seen["awards"]:
                if award["status"] == "offered":
                    maker = self.bearer(self.supplier_key_by_id[award["supplier_id"]])
                    ok(
                        await self.client.post(f"/api/v1/awards/{award['id']}/accept", headers=maker),
                        "accept",
                        200,
                        409,
                    )
            return seen if seen["status"] != "closed" else None

        seen = await until("award", awarded)
        package.suppliers = sorted(
            {self.supplier_names[a["supplier_id"]] for a in seen["awards"] if a["status"] == "accepted"}
        )
        package.backups = sorted({self.supplier_names[r["supplier_id"]] for r in seen["reservations"]})

    async def fulfil(self, key: str) -> None:
        """Every production order made, batched, shipped and delivered; a failing supplier stops halfway."""
        package = self.packages[key]
        query = {"package_id": package.package_id}

        async def production_orders() -> list[dict[str, Any]]:
            return ok(
                await self.client.get("/api/v1/production-orders", params=query, headers=self.operator), "production"
            )

        async def all_orders_issued() -> list[dict[str, Any]] | None:
            found = await production_orders()
            return found if sum(p["quantity"] for p in found) >= sum(package.sold.values()) > 0 else None

        async def assigned() -> bool:
            job = await self.client.get(
                f"/api/v1/awarded-packages/{package.package_id}/assignment", headers=self.operator
            )
            return job.status_code == 200 and job.json()["status"] == "done"

        first = await until("production", all_orders_issued)
        await until("assignment", assigned)
        faults = {self.supplier_keys[f.supplier]: f for f in self.scenario.faults if f.package == key}
        for production in first:
            maker_key = self.supplier_key_by_id[production["supplier_id"]]
            fault = faults.get(maker_key)
            shipped = int(production["quantity"] * fault.shipped_share) if fault else production["quantity"]
            await self.make(production, maker_key, shipped)
            if fault:
                url = f"/api/v1/production-orders/{production['id']}/failure"
                failure = ok(
                    await self.client.post(url, json={"reason": "演示：烤箱坏了"}, headers=self.operator), "failure"
                )

                async def handled(failure_id: str = failure["id"]) -> dict[str, Any] | None:
                    seen = ok(await self.client.get(f"/api/v1/failures/{failure_id}", headers=self.operator), "failure")
                    return seen if seen["status"] != "queued" else None

                package.takeover = (await until("takeover", handled))["status"]
        for production in await production_orders():
            if production["failure_id"] and production["status"] == "issued":
                await self.make(production, self.supplier_key_by_id[production["supplier_id"]], production["quantity"])
        parcels = [s for p in await production_orders() for s in await self.shipments(p["id"], self.operator)]
        package.parcels = len([s for s in parcels if s["status"] != "cancelled"])
        package.parcels_delivered = len([s for s in parcels if s["status"] == "delivered"])

    async def shipments(self, production_id: str, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
        """Every parcel of the production order (or of one batch), page by page."""
        url, found = f"/api/v1/production-orders/{production_id}/shipments", []
        while True:
            page_params = params | {"limit": str(PAGE), "offset": str(len(found))}
            page = ok(await self.client.get(url, params=page_params, headers=headers), "shipments")
            found += page
            if len(page) < PAGE:
                return found

    async def make(self, production: dict[str, Any], maker_key: str, units: int) -> None:
        maker = self.bearer(maker_key)
        url = f"/api/v1/production-orders/{production['id']}"
        for step in ("accept", "start"):
            ok(await self.client.post(f"{url}/moves", json={"step": step}, headers=maker), "production", 200)
        if units == 0:
            return
        body = {"quantity": units, "lot_number": f"L{self.run}{production['id'][:4]}", "quality_passed": True}
        headers = maker | {"Idempotency-Key": f"demo-{self.run}-batch-{production['id']}"}
        batch = ok(await self.client.post(f"{url}/batches", json=body, headers=headers), "batch", 200, 201)
        parcels = await self.shipments(production["id"], maker, batch_id=batch["id"])
        for step, extra in (("ship", {"carrier": "SF"}), ("deliver", {})):
            for start in range(0, len(parcels), 1000):
                moves = [
                    {
                        "shipment_id": s["id"],
                        "step": step,
                        **extra,
                        **({"tracking_number": f"SF{self.run}{n:06d}"} if step == "ship" else {}),
                    }
                    for n, s in enumerate(parcels[start : start + 1000], start=start)
                ]
                ok(await self.client.post("/api/v1/shipments/moves", json={"moves": moves}, headers=maker), step, 200)

    async def final_status(self) -> None:
        """Where each package ended; one whose parcels all arrived is given the moment fulfilment takes to say so."""
        for key, package in self.packages.items():
            url = f"/api/v1/packages/{package.package_id}"

            async def settled(url: str = url, key: str = key) -> str | None:
                status = ok(await self.client.get(url, headers=self.leader_of(key)), "status")["status"]
                return status if status in ("completed", "cancelled") else None

            if package.went_ahead and package.parcels and package.parcels_delivered == package.parcels:
                try:
                    package.status = await until("completion", settled, COMPLETION_SECONDS)
                    continue
                except DemoFailed:
                    pass  # reported as it stands
            package.status = ok(await self.client.get(url, headers=self.leader_of(key)), "status")["status"]


async def play(
    scenario: Scenario,
    url: str,
    operator_token: str,
    unique_suffix: str,
    log: Callable[[str], None],
    progress: Callable[[str, int], Callable[[int], None]],
) -> Summary:
    import httpx

    from flexsupply.cli.scenario import order_attempts

    stages: dict[str, float] = {}

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        stages[name] = time.monotonic() - started
        log(f"{name}: {stages[name]:.1f} s")

    limits = httpx.Limits(max_connections=CONCURRENT_ORDERS, max_keepalive_connections=CONCURRENT_ORDERS)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(60, connect=5), limits=limits) as client:
        evening = Evening(scenario, client, operator_token, log, unique_suffix)
        opens_at = datetime.now(UTC) + timedelta(seconds=scenario.sale.opens_after_seconds)
        with stage("catalogue"):
            await evening.catalogue()
            await evening.draft(opens_at)
        with stage("sourcing and matching"):
            await evening.source()
        attempts = order_attempts(scenario)
        with stage("flash sale"):
            await evening.sell(attempts, opens_at, progress("orders", len(attempts)))
        with stage("payments"):
            await evening.pay()
        with stage("close"):
            await evening.close()
        went_ahead = [key for key, package in evening.packages.items() if package.went_ahead]
        with stage("awards"):
            for key in went_ahead:
                await evening.award(key)
        with stage("production and delivery"):
            for key in went_ahead:
                await evening.fulfil(key)
        await evening.final_status()
    return Summary(scenario.name, url, list(evening.packages.values()), stages)


@contextmanager
def embedded_stack(out: Path) -> Iterator[tuple[str, str]]:
    """`flexsupply up` on a free loopback port with its own data folder; stopped with Ctrl-C at the end."""
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "FLEXSUPPLY_DATA_DIR": str(out / "data"),
        "FLEXSUPPLY_OPERATOR_TOKEN": token,
        "FLEXSUPPLY_BROKER_URL": "stub://",
        "FLEXSUPPLY_PORT": str(port),
        "FLEXSUPPLY_HOST": "127.0.0.1",
        # Every buyer of the evening comes from this one loopback address: the per-address limits, set for a
        # real group's many phones and networks, would refuse most of them (the per-phone limit still holds).
        "FLEXSUPPLY_RATE_LIMIT_ORDERS_PER_ADDRESS": "100000/minute",
        "FLEXSUPPLY_RATE_LIMIT_PAYMENT_CALLBACKS_PER_ADDRESS": "100000/minute",
    }
    for name in ("SUPPLIERS", "MATCHING", "FULFILMENT"):
        env.pop(f"FLEXSUPPLY_{name}_DATABASE_URL", None)
        env.pop(f"FLEXSUPPLY_{name}_URL", None)
    command = [str(Path(sys.executable).parent / "flexsupply"), "up"]
    with (out / "stack.log").open("wb") as stack_log:
        process = subprocess.Popen(command, env=env, stdout=stack_log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DemoFailed(f"the embedded stack stopped (exit {process.returncode}): see {out / 'stack.log'}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise DemoFailed(f"the embedded stack did not become healthy: see {out / 'stack.log'}")
        yield url, token
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _money(cents: int | None) -> str:
    from flexsupply.kit.i18n import format_money

    return "-" if cents is None else format_money(cents)


def print_summary(summary: Summary) -> None:
    """One column per package, one row per thing a leader asks about the evening."""
    from rich.console import Console
    from rich.table import Table

    def names(values: list[str]) -> str:
        return ", ".join(values) or "-"

    rows: list[tuple[str, Callable[[PackageSummary], str]]] = [
        ("status", lambda p: p.status),
        ("plan", lambda p: f"{p.plan_status} {_money(p.plan_total_cents)}"),
        ("landed cost / unit", lambda p: _money(p.landed_unit_cents)),
        ("saving vs greedy", lambda p: _money(p.saving_vs_greedy_cents)),
        ("sold / cap", lambda p: f"{sum(p.sold.values())} / {p.cap_units}"),
        ("went ahead", lambda p: "yes" if p.went_ahead else "no (cancelled)"),
        ("order attempts", lambda p: str(p.attempts)),
        ("answers", lambda p: ", ".join(f"{word} {count}" for word, count in sorted(p.answers.items()))),
        ("doubled orders", lambda p: str(p.doubled)),
        ("paid: provider / statement", lambda p: f"{p.paid_by_provider} / {p.paid_by_statement}"),
        ("statement lines unmatched", lambda p: str(p.statement_unmatched)),
        ("suppliers", lambda p: names(p.suppliers)),
        ("backups", lambda p: names(p.backups)),
        ("take-over", lambda p: p.takeover or "-"),
        ("parcels delivered", lambda p: f"{p.parcels_delivered} / {p.parcels}"),
        ("refunds owed / paid", lambda p: f"{p.refunds} ({_money(p.refund_cents)}) / {p.refunds_paid}"),
    ]
    table = Table(title=summary.scenario, show_lines=False)
    table.add_column("")
    for package in summary.packages:
        table.add_column(package.title, overflow="fold")
    for label, value in rows:
        table.add_row(label, *(value(package) for package in summary.packages))
    console = Console()
    console.print(table)
    console.print(
        "stages: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in summary.stage_seconds.items())
    )


def demo(
    scenario_file: Annotated[
        Path | None,
        typer.Argument(help="A scenario file (docs/demo.md); default: the real case.", exists=True, dir_okay=False),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Play against a running stack (needs FLEXSUPPLY_OPERATOR_TOKEN).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")] = False,
    out: Annotated[Path | None, typer.Option(help="Keep the stack's data, its log and summary.json here.")] = None,
) -> None:
    """Play a market evening through the public API: catalogue, sourcing, the flash sale, payments, the close,
    awards, production, delivery and a supplier failing; then a summary per package."""
    import httpx
    from rich.console import Console
    from rich.progress import Progress

    from flexsupply.cli.scenario import load

    console = Console(stderr=True)
    try:
        scenario = load(scenario_file)
    except (ValueError, OSError) as error:
        console.print(f"[red]the scenario cannot be played: {error}[/red]")
        raise typer.Exit(code=2) from None
    folder = out or Path(tempfile.mkdtemp(prefix="flexsupply-demo-"))
    folder.mkdir(parents=True, exist_ok=True)

    def progress(label: str, total: int) -> Callable[[int], None]:
        bar = Progress(console=console, transient=True)
        task = bar.add_task(label, total=total)
        bar.start()

        def advance(step: int) -> None:
            bar.advance(task, step)
            if bar.finished:
                bar.stop()

        return advance

    def log(line: str) -> None:
        console.print(f"[dim]{datetime.now(UTC):%H:%M:%S}[/dim] {line}")

    try:
        if url is None:
            with embedded_stack(folder) as (stack_url, token):
                log(f"embedded stack at {stack_url} (log: {folder / 'stack.log'})")
                summary = asyncio.run(play(scenario, stack_url, token, "", log, progress))
        else:
            token = os.environ.get("FLEXSUPPLY_OPERATOR_TOKEN") or _token_from_data_dir()
            summary = asyncio.run(play(scenario, url.rstrip("/"), token, secrets.token_hex(2), log, progress))
    except DemoFailed as error:
        console.print(f"[red]demo stopped: {error}[/red]")
        raise typer.Exit(code=1) from None
    except httpx.TransportError as error:  # a refused connection is one line, not a traceback
        console.print(f"[red]cannot reach the stack: {error}[/red]")
        raise typer.Exit(code=1) from None
    (folder / "summary.json").write_text(json.dumps(summary.as_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        print_summary(summary)


def _token_from_data_dir() -> str:
    from flexsupply.kit.settings import KitSettings

    path = KitSettings().data_dir / "operator-token"
    if not path.exists():
        raise DemoFailed("set FLEXSUPPLY_OPERATOR_TOKEN (or run where `flexsupply up` keeps its data folder)")
    return path.read_text().strip()
