"""Flash sale under load: a 20:00:00 burst of orders against the stack as it is deployed, measured with wrk.

Starts the stack itself on free loopback ports (never anything but 127.0.0.1):
- distributed (default): fresh PostgreSQL databases on FLEXSUPPLY_TEST_POSTGRES_URL (default the local server,
  trust auth), `flexsupply migrate`, then compose.yaml's commands as separate processes: `flexsupply serve` for each
  service and the dramatiq workers, on RabbitMQ (FLEXSUPPLY_BROKER_URL, default amqp://guest:guest@127.0.0.1:5672/);
- embedded (`--embedded`): `flexsupply up`, one process on SQLite in a temporary data folder.

Then, through the public API only: regions, a supplier with a standing offer, a community and its leader; for each
connection count a package of `--cap` units over three regions (a sourcing round, the supplier's quote, a match run,
the package planned, its sale opening `--lead` seconds after its creation), and:
1. `GET /live` of the service taking the orders, with wrk at that many connections (the trivial endpoint);
2. at the opening (all connections start at once), `POST /api/v1/sales/{id}/orders` with wrk and orders.lua:
   one new buyer and Idempotency-Key per order, `--retry-share` of the requests repeating an answered one (same
   key and body: 200 expected), status codes counted;
3. `GET /api/v1/sales/{id}/stock` at the same connections (buyers polling the counter);
4. read-only SQL on the matching database: units sold per region against the caps, the orders stored against the
   201s answered (every acknowledged order stored: none lost; none sold past a cap: none oversold).
Last, a small-cap sale sold out by a burst at the largest connection count: sold must equal the cap exactly.

    uv run --frozen python -m bench.flash_sale.run [--embedded | --distributed] [--connections 64,256]
        [--duration 8] [--cap 30000] [--sellout-cap 300] [--retry-share 0.1] [--json] [--record]

Progress goes to stderr; the table (or --json) to stdout. It writes nothing in the repository; `--record` prints
markdown rows to paste into bench/README.md. Needs `wrk` (Debian: `apt-get install -y wrk`).
"""

import argparse
import asyncio
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import yaml

from bench.flash_sale import setup
from bench.flash_sale.setup import Sale, Seller, check, log, split
from tests.support.databases import fresh_databases
from tests.support.processes import Processes, free_port, processes, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TOKEN = "flash-bench-operator-token"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the stack -------------------------------------------------------------------------------------------------


@dataclass
class Stack:
    mode: str  # "distributed" | "embedded"
    catalogue: str  # base URL of the suppliers service (the same app embedded)
    matching: str  # base URL of the matching service: sales, orders, /live
    running: Processes
    matching_database: str  # SQLAlchemy URL (PostgreSQL) or the SQLite file's path

    def sessions(self) -> dict[str, int]:
        """Each started process's session id (its own and its children's, e.g. dramatiq's worker processes)."""
        return {name: process.pid for name, process in self.running.running}


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")} | {
        "FLEXSUPPLY_OPERATOR_TOKEN": TOKEN
    }


@contextmanager
def distributed_stack(work: Path) -> Iterator[Stack]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    postgres = os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    broker = os.environ.get("FLEXSUPPLY_BROKER_URL", DEFAULT_BROKER)
    if not broker.startswith(("amqp://", "redis://")):
        raise SystemExit(f"the distributed stack needs an amqp:// or redis:// broker, not {broker!r}")
    log(f"distributed stack: fresh databases on {postgres.split('@')[-1]}, broker {broker.split('@')[-1]}")
    with fresh_databases(postgres, work) as urls, processes(work) as running:
        env = _clean_env() | {
            "FLEXSUPPLY_BROKER_URL": broker,
            **{f"FLEXSUPPLY_{service.upper()}_DATABASE_URL": url for service, url in urls.items()},
        }
        if running.run("migrate", compose["migrate"]["command"], env) != 0:
            raise SystemExit(f"migrations failed\n{running.logs()}")
        ports = {name: free_port() for name in ("suppliers", "matching", "fulfilment")}
        env |= {f"FLEXSUPPLY_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, port in ports.items():
            command = list(compose[name]["command"])
            command[command.index("--port") + 1] = str(port)
            running.start(name, command, env)
        for name, spec in compose.items():
            if spec.get("command", [])[1:2] == ["worker"]:
                for replica in range(spec.get("deploy", {}).get("replicas", 1)):
                    running.start(f"{name}-{replica}", spec["command"], env)
        for port in ports.values():
            wait_until_healthy(f"http://127.0.0.1:{port}/health", running)
        log(f"up: suppliers :{ports['suppliers']}, matching :{ports['matching']}, fulfilment :{ports['fulfilment']}")
        yield Stack(
            "distributed",
            f"http://127.0.0.1:{ports['suppliers']}",
            f"http://127.0.0.1:{ports['matching']}",
            running,
            urls["matching"],
        )
        log("stopping the stack")


@contextmanager
def embedded_stack(work: Path) -> Iterator[Stack]:
    port = free_port()
    data = work / "data"
    env = _clean_env() | {"FLEXSUPPLY_DATA_DIR": str(data), "FLEXSUPPLY_PORT": str(port)}
    log(f"embedded stack: flexsupply up on SQLite in {data}")
    with processes(work) as running:
        running.start("up", ["flexsupply", "up"], env)
        wait_until_healthy(f"http://127.0.0.1:{port}/health", running)
        log(f"up: :{port}")
        base = f"http://127.0.0.1:{port}"
        yield Stack("embedded", base, base, running, str(data / "matching.db"))
        log("stopping the stack")


# --- a package on sale (bench.flash_sale.setup), over the network --------------------------------------------


def clients(stack: Stack) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    return (
        httpx.AsyncClient(base_url=stack.catalogue, timeout=30),
        httpx.AsyncClient(base_url=stack.matching, timeout=30),
    )


def prepare(stack: Stack) -> Seller:
    async def go() -> Seller:
        catalogue, matching = clients(stack)
        async with catalogue, matching:
            return await setup.prepare(catalogue, matching, TOKEN)

    return asyncio.run(go())


def sale_package(stack: Stack, seller: Seller, caps: dict[str, int], lead_seconds: float) -> Sale:
    async def go() -> Sale:
        catalogue, matching = clients(stack)
        async with catalogue, matching:
            return await setup.sale_package(catalogue, matching, seller, caps, lead_seconds)

    return asyncio.run(go())


def wait_for_opening(sale: Sale) -> None:
    time.sleep(setup.seconds_to_opening(sale))


# --- load ------------------------------------------------------------------------------------------------------


SHARED_SERVERS = {"postgres": "postgres (all)", "beam.smp": "rabbitmq"}


@dataclass
class CpuMeter:
    """CPU (in cores) used between start() and stop(): per started process with its children (dramatiq's worker
    processes), by the PostgreSQL server's processes (all of its databases: other users' too) and RabbitMQ's, by wrk,
    by anything else, and the whole machine's busy cores. Counted per pid: a process that exits in between loses
    its last share, which is small."""

    sessions: dict[str, int]
    before: dict[int, tuple[str, float]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    other_top: dict[str, float] = field(default_factory=dict)
    machine: float = 0.0
    children: float = 0.0
    wall: float = 0.0

    def _processes(self) -> dict[int, tuple[str, float]]:
        """pid -> (group, CPU seconds); the command names of the "other" group are kept in self.names."""
        by_session = {sid: name for name, sid in self.sessions.items()}
        found: dict[int, tuple[str, float]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            group = by_session.get(int(fields[3])) or SHARED_SERVERS.get(comm) or ("wrk" if comm == "wrk" else "other")
            found[int(entry.name)] = (group, seconds)
            if group == "other":
                self.names[int(entry.name)] = comm
        return found

    @staticmethod
    def _machine() -> float:
        ticks = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
        return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS  # all but idle and iowait

    @staticmethod
    def _children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once reaped
        return usage.ru_utime + usage.ru_stime

    def start(self) -> None:
        self.before, self.machine, self.children = self._processes(), self._machine(), self._children()
        self.wall = time.monotonic()

    def stop(self) -> dict[str, float]:
        after, machine, children = self._processes(), self._machine(), self._children()
        wall = time.monotonic() - self.wall
        used: dict[str, float] = dict.fromkeys([*self.sessions, *SHARED_SERVERS.values(), "wrk", "other"], 0.0)
        others: dict[str, float] = {}
        for pid, (group, seconds) in after.items():
            spent = seconds - self.before.get(pid, (group, 0.0))[1]
            used[group] += spent
            if group == "other" and spent > 0:
                others[self.names[pid]] = others.get(self.names[pid], 0.0) + spent
        used["wrk"] += children - self.children
        cores = {name: round(value / wall, 2) for name, value in used.items()}
        cores["machine busy"] = round((machine - self.machine) / wall, 2)
        top = sorted(others.items(), key=lambda item: -item[1])[:4]
        self.other_top = {name: round(spent / wall, 2) for name, spent in top}
        return cores


def settle(limit_seconds: float) -> float:
    """Wait (at most `limit_seconds`) until the machine is nearly idle (start-up imports, other users' work);
    returns the busy cores seen last."""
    meter = CpuMeter({})
    deadline = time.monotonic() + limit_seconds
    while True:
        meter.start()
        time.sleep(1.0)
        busy = meter.stop()["machine busy"]
        if busy < 0.25 or time.monotonic() > deadline:
            return busy


def wrk(
    stack: Stack,
    url: str,
    connections: int,
    seconds: float,
    threads: int,
    script: str = "get.lua",
    args: list[str] | None = None,
    ids: Path | None = None,
) -> dict[str, Any]:
    """One wrk run; its JSON summary with requests/s, latency in ms and the CPU (cores) each part used."""
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / script),
        url,
    ]
    if args:
        command += ["--", *args]
    meter = CpuMeter(stack.sessions())
    load = os.getloadavg()[0]
    meter.start()
    env = os.environ | ({"FLASH_IDS_FILE": str(ids)} if ids else {})
    finished = subprocess.run(command, capture_output=True, text=True, env=env)
    cores = meter.stop()
    line = next((li for li in finished.stdout.splitlines() if li.startswith("FLASH_JSON ")), None)
    if finished.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stdout}\n{finished.stderr}")
    result = json.loads(line.removeprefix("FLASH_JSON "))
    duration = result["duration_us"] / 1e6
    result["seconds"] = duration
    result["requests_per_s"] = result["requests"] / duration
    # wrk's latencies include its coordinated-omission correction (see the README); Little's law gives the plain mean.
    result["latency_ms"] = {k: v / 1000 for k, v in result.pop("latency_us").items()}
    result["little_mean_ms"] = 1000 * connections / result["requests_per_s"]
    result["cpu_cores"] = cores
    result["cpu_cores_other_top"] = meter.other_top  # which commands "other" was
    busy = {name: value for name, value in cores.items() if value >= 0.01}
    log(f"  CPU cores during {url.split('/', 3)[-1]}: {busy}; other: {meter.other_top}")
    result["loadavg_1m_before"] = load
    return result


def order_burst(
    stack: Stack, sale: Sale, connections: int, seconds: float, threads: int, retry_share: float, buyers: int, ids: Path
) -> dict[str, Any]:
    per_thread = max(1, connections // min(threads, connections))
    run_id = f"fs{int(time.time() * 1000) % 10**10}"
    args = [str(retry_share), str(buyers), str(min(threads, connections)), str(2 * per_thread), run_id]
    args.append(",".join(sale.caps))
    url = f"{stack.matching}/api/v1/sales/{sale.package_id}/orders"
    result = wrk(stack, url, connections, seconds, threads, "orders.lua", args, ids)
    result["accepted_per_s"] = result["statuses"].get("201", 0) / result["seconds"]
    # Requests without an answer when wrk stopped: about one per connection (each always has one in flight).
    result["unanswered"] = result["sent"] + result["retries"] - result["requests"]
    return result


# --- the database's word ---------------------------------------------------------------------------------------

# The lead's tables (services/matching/flexsupply/matching/models.py): `sale` (the caps per region, fixed at the
# opening), `sale_stock` (units left per region, split over shard rows) and `sale_order` (every order, with status).
CAPS_SQL = "SELECT caps FROM sale WHERE package_id = $1"
STOCK_SQL = (
    "SELECT region, SUM(remaining), MIN(remaining), COUNT(*) FROM sale_stock WHERE package_id = $1 GROUP BY region"
)
ORDERS_SQL = "SELECT id, region, quantity, status FROM sale_order WHERE package_id = $1"
LIVE = {"placed", "paid", "confirmed"}  # flexsupply.matching.domain.sale.LIVE: the orders holding units


def stored(stack: Stack, package_id: str) -> dict[str, Any]:
    """Read-only: the caps, the stock rows per region and every order of the package."""
    if stack.mode == "embedded":
        connection = sqlite3.connect(f"file:{stack.matching_database}?mode=ro", uri=True)
        key = (UUID(package_id).hex,)  # SQLAlchemy's Uuid on SQLite: 32 hex digits
        try:
            caps = connection.execute(CAPS_SQL.replace("$1", "?"), key).fetchall()
            stock = connection.execute(STOCK_SQL.replace("$1", "?"), key).fetchall()
            orders = connection.execute(ORDERS_SQL.replace("$1", "?"), key).fetchall()
        finally:
            connection.close()
    else:
        caps, stock, orders = asyncio.run(_postgres(stack.matching_database, UUID(package_id)))
    raw = caps[0][0] if caps else "{}"
    return {
        "caps": json.loads(raw) if isinstance(raw, str) else raw,
        "stock": {row[0]: {"remaining": row[1], "least_row": row[2], "rows": row[3]} for row in stock},
        "orders": [(str(UUID(str(row[0]))), row[1], row[2], row[3]) for row in orders],
    }


async def _postgres(url: str, package_id: UUID) -> tuple[list[Any], list[Any], list[Any]]:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction(readonly=True, isolation="repeatable_read"):
            caps = await connection.fetch(CAPS_SQL, package_id)
            stock = await connection.fetch(STOCK_SQL, package_id)
            orders = await connection.fetch(ORDERS_SQL, package_id)
    finally:
        await connection.close()
    return list(caps), list(stock), list(orders)


def drain(stack: Stack, package_id: str, limit_seconds: float = 30.0) -> float:
    """Wait until the orders wrk left in flight have landed (the stored count holds for 2 s), so that they are
    counted and the next run does not queue behind them; returns the seconds waited."""
    began = time.monotonic()
    count = len(stored(stack, package_id)["orders"])
    while time.monotonic() - began < limit_seconds:
        time.sleep(2.0)
        now = len(stored(stack, package_id)["orders"])
        if now == count:
            break
        count = now
    waited = time.monotonic() - began
    log(f"in-flight orders settled in {waited:.1f} s")
    return waited


def reconcile(stack: Stack, sale: Sale, burst: dict[str, Any], ids: Path) -> dict[str, Any]:
    """What the service says (the sale's summary), what wrk was told (201s and their ids) and what is stored."""
    with httpx.Client(base_url=stack.matching, timeout=30) as public:
        summary = check(public.get(f"/api/v1/sales/{sale.package_id}"), 200)
    lines = ids.read_text().split() if ids.exists() else []
    accepted_ids = [lines[i + 1] for i in range(0, len(lines), 2) if lines[i] == "201"]
    replayed_ids = [lines[i + 1] for i in range(0, len(lines), 2) if lines[i] == "200"]
    result: dict[str, Any] = {
        "api_state": summary.get("state"),
        "api_sold": {region["region"]: region["sold"] for region in summary.get("regions", [])},
        "answered_201": len(accepted_ids),
        "distinct_201_ids": len(set(accepted_ids)),
        "replayed_200": len(replayed_ids),
        "replays_of_unknown_ids": len(set(replayed_ids) - set(accepted_ids)),
    }
    database = stored(stack, sale.package_id)
    result |= database_checks(database, set(accepted_ids), set(replayed_ids), burst["connections"])
    return result


def database_checks(
    database: dict[str, Any], acknowledged: set[str], replayed: set[str], connections: int
) -> dict[str, Any]:
    """Sold per region (cap - units left in the stock rows) against the live orders and the cap; the orders stored
    against the ids answered 201. Orders stored but never answered are those wrk was waiting for when it stopped (at
    most one per connection); an answered one missing from the database would be lost."""
    caps: dict[str, int] = database["caps"]
    stock: dict[str, dict[str, int]] = database["stock"]
    orders: list[tuple[str, str, int, str]] = database["orders"]
    live: dict[str, int] = dict.fromkeys(caps, 0)
    for _, region, quantity, status in orders:
        if status in LIVE:
            live[region] = live.get(region, 0) + quantity
    sold = {region: caps[region] - stock.get(region, {}).get("remaining", caps[region]) for region in caps}
    oversold = sum(max(0, live.get(region, 0) - cap) for region, cap in caps.items())
    oversold += sum(max(0, -rows["least_row"]) for rows in stock.values())
    ids = {order[0] for order in orders}
    lost = len(acknowledged - ids)
    unanswered = len(ids - acknowledged)
    return {
        "caps": caps,
        "sold": sold,
        "live_units": live,
        "sold_total": sum(sold.values()),
        "cap_total": sum(caps.values()),
        "sold_equals_live_orders": sold == {region: live.get(region, 0) for region in caps},
        "orders_stored": len(orders),
        "oversold": oversold,
        "lost": lost,
        "stored_not_answered": unanswered,
        "unanswered_within_connections": unanswered <= connections,
        "replays_not_stored": len(replayed - ids),
        "stored_vs_201": f"{len(orders)} = {len(acknowledged)} + {unanswered} in flight"
        if not lost
        else f"{lost} LOST",
    }


# --- the run ---------------------------------------------------------------------------------------------------


def bench(stack: Stack, options: argparse.Namespace, work: Path) -> dict[str, Any]:
    seller = prepare(stack)
    results: dict[str, Any] = {"mode": stack.mode, "runs": [], "sellout": None}
    for connections in options.connections:
        log(f"--- {connections} connections, {options.duration:g} s each")
        busy = settle(options.settle)
        log(f"machine busy before the runs: {busy:.2f} cores{' (not idle: noisy numbers)' if busy >= 0.25 else ''}")
        live = wrk(stack, f"{stack.matching}/live", connections, options.duration, options.threads)
        log(f"GET /live: {live['requests_per_s']:,.0f}/s, p99 {live['latency_ms']['p99']:.1f} ms")
        sale = sale_package(stack, seller, split(options.cap), options.lead)
        if options.setup_only:
            results["runs"].append({"connections": connections, "live": live, "setup_s": sale.setup_seconds})
            continue
        wait_for_opening(sale)
        ids = work / f"ids-{connections}.txt"
        burst = order_burst(
            stack, sale, connections, options.duration, options.threads, options.retry_share, options.buyers, ids
        )
        burst["connections"] = connections
        log(
            f"orders: {burst['accepted_per_s']:,.0f} accepted/s of {burst['requests_per_s']:,.0f} requests/s, "
            f"p50 {burst['latency_ms']['p50']:.1f} ms, p99 {burst['latency_ms']['p99']:.1f} ms, "
            f"statuses {burst['statuses']}"
        )
        burst["drain_s"] = drain(stack, sale.package_id)
        checks = reconcile(stack, sale, burst, ids)
        log(f"checks: {checks}")
        stock_url = f"{stack.matching}/api/v1/sales/{sale.package_id}/stock"
        stock = wrk(stack, stock_url, connections, options.duration, options.threads)
        log(f"stock reads: {stock['requests_per_s']:,.0f}/s, p99 {stock['latency_ms']['p99']:.1f} ms")
        results["runs"].append(
            {
                "connections": connections,
                "live": live,
                "orders": burst,
                "stock": stock,
                "checks": checks,
                "sale": {"package_id": sale.package_id, "caps": sale.caps, "setup_s": sale.setup_seconds},
                "ratio_accepted_to_live": burst["accepted_per_s"] / live["requests_per_s"],
            }
        )
    if options.sellout_cap and not options.setup_only:
        connections = max(options.connections)
        log(f"--- sell-out: {options.sellout_cap} units, {connections} connections, {options.sellout_seconds:g} s")
        busy = settle(options.settle)
        log(f"machine busy before the run: {busy:.2f} cores{' (not idle: noisy numbers)' if busy >= 0.25 else ''}")
        sale = sale_package(stack, seller, split(options.sellout_cap), options.lead)
        wait_for_opening(sale)
        ids = work / "ids-sellout.txt"
        burst = order_burst(
            stack, sale, connections, options.sellout_seconds, options.threads, options.retry_share, 0, ids
        )
        burst["connections"] = connections
        burst["drain_s"] = drain(stack, sale.package_id)
        checks = reconcile(stack, sale, burst, ids)
        log(f"sell-out statuses {burst['statuses']}; checks: {checks}")
        results["sellout"] = {
            "connections": connections,
            "orders": burst,
            "checks": checks,
            "sale": {"package_id": sale.package_id, "caps": sale.caps},
        }
    return results


def _other(orders: dict[str, Any]) -> int:
    """Answers neither 201, 200 nor 409 sold out (409 buyer limit or not open, 4xx, 5xx), and socket errors."""
    statuses = orders["statuses"]
    errors = sum(v for k, v in orders["errors"].items() if k != "status")
    return sum(v for k, v in statuses.items() if k not in {"201", "200"}) - orders["sold_out"] + errors


def _failed(result: dict[str, Any]) -> str:
    """Non-2xx answers and timeouts of a GET run, if any."""
    failed = sum(result["errors"].values())
    return f" ({failed:,} failed or timed out)" if failed else ""


def _cpu(cores: dict[str, float], mode: str) -> str:
    services = ("matching",) if mode == "distributed" else ("up",)
    workers = sum(v for k, v in cores.items() if k.startswith(("worker", "solver")))
    rest = sum(cores.get(k, 0.0) for k in ("suppliers", "fulfilment"))
    return (
        f"{sum(cores.get(k, 0.0) for k in services):.2f} | {cores['postgres (all)']:.2f} | {cores['rabbitmq']:.2f} "
        f"| {workers + rest:.2f} | {cores['wrk']:.2f} | {cores['other']:.2f} | {cores['machine busy']:.2f}"
    )


def targets(result: dict[str, Any]) -> list[str]:
    """The issue's targets, at 64 clients, and the correctness every run must keep."""
    lines = []
    for run in result["runs"]:
        if run["connections"] != 64:
            continue
        orders, stock = run["orders"], run["stock"]
        p99 = orders["latency_ms"]["p99"]
        if result["mode"] == "distributed":
            wanted = [
                (orders["accepted_per_s"] >= 1500, f"accepted orders/s >= 1,500: {orders['accepted_per_s']:,.0f}"),
                (p99 < 150, f"order p99 < 150 ms: {p99:.1f} ms"),
                (run["ratio_accepted_to_live"] >= 0.06, f">= 6% of /live: {100 * run['ratio_accepted_to_live']:.1f}%"),
            ]
        else:
            stock_p99 = stock["latency_ms"]["p99"]
            wanted = [
                (orders["accepted_per_s"] >= 300, f"accepted orders/s >= 300: {orders['accepted_per_s']:,.0f}"),
                (p99 < 250, f"order p99 < 250 ms: {p99:.1f} ms"),
                (stock["requests_per_s"] >= 2000, f"stock reads/s >= 2,000: {stock['requests_per_s']:,.0f}"),
                (stock_p99 < 250, f"stock read p99 < 250 ms: {stock_p99:.1f} ms"),
            ]
        lines += [f"- {'met' if ok else 'MISSED'}: {text} (64 clients)" for ok, text in wanted]
    everything = [*result["runs"], *([result["sellout"]] if result["sellout"] else [])]
    oversold = sum(run["checks"].get("oversold", 0) for run in everything)
    lost = sum(run["checks"].get("lost", 0) for run in everything)
    consistent = all(run["checks"].get("sold_equals_live_orders") for run in everything)
    failed = sum(_other(run["orders"]) - run["orders"]["buyer_limit"] for run in everything)
    lines.append(f"- {'met' if oversold == 0 else 'MISSED'}: zero oversold ({oversold})")
    lines.append(
        f"- {'met' if failed == 0 else 'MISSED'}: every order answered 201, 200 or 409 sold out "
        f"({failed} other answers: 5xx, 4xx, timeouts)"
    )
    lines.append(f"- {'met' if lost == 0 else 'MISSED'}: zero lost: every 201 stored ({lost} missing)")
    lines.append(f"- {'met' if consistent else 'MISSED'}: units sold = the live orders' units, every region")
    if result["sellout"]:
        checks = result["sellout"]["checks"]
        accepted = result["sellout"]["orders"]["statuses"].get("201", 0)
        exact = checks["sold_total"] == checks["cap_total"] == checks["orders_stored"]
        lines.append(
            f"- {'met' if exact else 'MISSED'}: the burst sells the cap exactly: "
            f"{checks['sold_total']} sold of {checks['cap_total']} in {checks['orders_stored']} orders, "
            f"{accepted} answered 201"
            + (
                f" and {checks['stored_not_answered']} still unanswered at the stop"
                if checks["stored_not_answered"]
                else ""
            )
        )
    return lines


def table(result: dict[str, Any], date: str | None = None) -> str:
    """Three markdown tables (throughput, correctness, CPU during the burst) and the targets; with `date`, each row
    starts with it (for bench/README.md)."""
    mode = result["mode"]
    lead = f"| {date} " if date else ""
    head = "| date " if date else ""
    line = "|---" if date else ""
    out = [
        f"{head}| stack | clients | `GET /live` req/s, p99 ms | orders accepted/s (answers/s) | orders p50 / p99 ms "
        "| accepted / `/live` | stock reads/s, p50 / p99 ms |",
        f"{line}|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        live, orders, stock = run["live"], run["orders"], run["stock"]
        out.append(
            f"{lead}| {mode} | {run['connections']} "
            f"| {live['requests_per_s']:,.0f}, {live['latency_ms']['p99']:.1f} "
            f"| {orders['accepted_per_s']:,.0f} ({orders['requests_per_s']:,.0f}) "
            f"| {orders['latency_ms']['p50']:.1f} / {orders['latency_ms']['p99']:.1f} "
            f"| {100 * run['ratio_accepted_to_live']:.1f}% "
            f"| {stock['requests_per_s']:,.0f}, {stock['latency_ms']['p50']:.1f} / {stock['latency_ms']['p99']:.1f}"
            f"{_failed(stock)} |"
        )
    out += [
        "",
        f"{head}| stack | burst | requests sent | 201 / 200 replayed / 409 sold out / other "
        "| sold / cap | sold = live orders | oversold | orders stored = 201s + stored unanswered | lost |",
        f"{line}|---|---|---|---|---|---|---|---|---|",
    ]
    bursts = [(f"{run['connections']} clients, {run['orders']['seconds']:.0f} s", run) for run in result["runs"]]
    if result["sellout"]:
        bursts.append((f"sell-out, {result['sellout']['connections']} clients", result["sellout"]))
    for name, run in bursts:
        orders, checks = run["orders"], run["checks"]
        statuses = orders["statuses"]
        unanswered = checks["stored_not_answered"]
        out.append(
            f"{lead}| {mode} | {name} | {orders['sent'] + orders['retries']:,} "
            f"| {statuses.get('201', 0):,} / {statuses.get('200', 0):,} "
            f"/ {orders['sold_out']:,} / {_other(orders):,} | {checks['sold_total']:,} / {checks['cap_total']:,} "
            f"| {'yes' if checks['sold_equals_live_orders'] else 'NO'} | {checks['oversold']} "
            f"| {checks['orders_stored']:,} = {checks['answered_201']:,} + {unanswered} | {checks['lost']} |"
        )
    out += [
        "",
        f"{head}| stack | burst | CPU cores: service | postgres | rabbitmq | workers, other services | wrk "
        "| other users | machine |",
        f"{line}|---|---|---|---|---|---|---|---|---|",
    ]
    for name, run in bursts:
        out.append(f"{lead}| {mode} | {name} | {_cpu(run['orders']['cpu_cores'], mode)} |")
    return "\n".join([*out, "", *targets(result)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--distributed", dest="mode", action="store_const", const="distributed")
    mode.add_argument("--embedded", dest="mode", action="store_const", const="embedded")
    parser.set_defaults(mode="distributed")
    parser.add_argument("--connections", type=lambda s: [int(c) for c in s.split(",")], default=[64, 256])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of each wrk run")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (the load shares the 2 cores)")
    parser.add_argument("--cap", type=int, default=30_000, help="units on sale over the three regions")
    parser.add_argument("--sellout-cap", type=int, default=300, help="the sold-out run's units (0: no such run)")
    parser.add_argument("--sellout-seconds", type=float, default=8.0)
    parser.add_argument("--retry-share", type=float, default=0.1, help="share of requests that are retries")
    parser.add_argument("--buyers", type=int, default=0, help="distinct phones (0: a new buyer per order)")
    parser.add_argument("--lead", type=float, default=20.0, help="seconds from a package's creation to its opening")
    parser.add_argument("--settle", type=float, default=60, help="seconds to wait at most for an idle machine")
    parser.add_argument("--setup-only", action="store_true", help="the harness alone: stack, packages, /live")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--record", action="store_true", help="print markdown rows for bench/README.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, ids) and print its path")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")

    work = Path(tempfile.mkdtemp(prefix="flash-bench-"))
    try:
        stack = distributed_stack if options.mode == "distributed" else embedded_stack
        result: dict[str, Any] = {}
        for attempt in range(3):
            started = False
            try:
                with stack(work) as running:
                    started = True
                    result = bench(running, options, work)
                break
            except AssertionError as error:
                # A free port taken by another process between the choice and the bind: start again.
                if started or "address already in use" not in str(error) or attempt == 2:
                    raise
                log("a port was taken before the service bound it: starting the stack again")
    finally:
        if options.keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["machine"] = {"nproc": os.cpu_count(), "loadavg_end": os.getloadavg()}
    if options.json or options.setup_only:
        print(json.dumps(result, indent=2))
    else:
        print(table(result))
    if options.record and not options.setup_only:
        print(f"\n{table(result, date=datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))}")


if __name__ == "__main__":
    main()
