"""A market evening written down: who sells what to whom, and when each buyer presses "order" (docs/demo.md).

Pure: the file's shape (version 1), and its expansion into the exact order attempts, buyers and payments that
`flexsupply demo` plays, drawn from the scenario's seed so that a file always plays the same evening.
"""

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCENARIO_VERSION = 1
BUILT_IN = "real-case"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
STREETS = ("中山路", "人民路", "解放路", "建设路", "和平路", "新华路", "长江路", "文化路")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceTier(Strict):
    min_quantity: int = Field(ge=0)
    unit_cents: int = Field(ge=0)


class OfferSpec(Strict):
    sku: str
    moq: int = Field(ge=1)
    capacity: int = Field(ge=1)
    lead_time_days: int = Field(ge=0)
    quality: int = Field(ge=0, le=100)
    fixed_cents: int = Field(default=0, ge=0)
    reserve_cents: int = Field(default=0, ge=0)
    price_tiers: list[PriceTier] = Field(min_length=1)
    shipping_cents: dict[str, int]


class SupplierSpec(Strict):
    key: str
    name: str
    regions: list[str] = Field(min_length=1)
    capacity: int | None = Field(default=None, ge=1)
    offers: list[OfferSpec] = Field(min_length=1)


class CommunitySpec(Strict):
    key: str
    name: str
    leader: str
    contact: str = "wechat:leader"


class PackageSpec(Strict):
    key: str
    community: str
    title: str
    sku: str
    quantities: dict[str, int] = Field(min_length=1, description="Estimated units per region, for sourcing.")
    needed_by_days: int = Field(default=14, ge=1)
    min_quality: int = Field(default=80, ge=0, le=100)
    backups: int = Field(default=1, ge=0, le=5)
    threshold_units: int = Field(ge=1)
    cap_units: int = Field(ge=1)
    per_buyer_limit: int = Field(default=3, ge=1)
    sale_price_cents: int = Field(ge=1)
    payment_minutes: int = Field(default=30, ge=1)


class RoundSpec(Strict):
    """Packages sourced together (a federated round when there are several)."""

    key: str
    packages: list[str] = Field(min_length=1)


class SaleSpec(Strict):
    opens_after_seconds: float = Field(default=20, ge=5, description="From the start of the run.")
    open_seconds: float = Field(default=900, ge=30, description="The window; the demo closes early when done.")


class Wave(Strict):
    """`count` order attempts on one package spread evenly over `over_ms` from the opening."""

    package: str
    count: int = Field(ge=1, le=100_000)
    over_ms: int = Field(default=1000, ge=0)
    regions: dict[str, int] = Field(min_length=1, description="Relative weights of the buyers' regions.")
    quantities: list[int] = Field(default=[1], min_length=1, description="Drawn uniformly, per attempt.")
    retry_share: float = Field(default=0.0, ge=0, le=1, description="Attempts sent twice with the same key.")


class Attempt(Strict):
    package: str
    at_ms: int = Field(ge=0, description="From the sale's opening.")
    buyer: int = Field(ge=0, description="Index into the generated buyers: the same buyer orders with one phone.")
    region: str
    quantity: int = Field(ge=1)
    retries: int = Field(default=0, ge=0, le=5, description="Sent again this many times, same Idempotency-Key.")


class PaymentSpec(Strict):
    """Of each package's accepted orders, in order: first by the provider, then by statement, the rest unpaid."""

    provider_share: float = Field(default=0.5, ge=0, le=1)
    statement_share: float = Field(default=0.4, ge=0, le=1)

    @model_validator(mode="after")
    def _at_most_everyone(self) -> "PaymentSpec":
        if self.provider_share + self.statement_share > 1:
            raise ValueError("provider_share + statement_share is more than 1")
        return self


class Fault(Strict):
    """`supplier_fails`: after shipping its first batch (`shipped_share` of its units) the supplier stops making
    the package; its backups take over the rest."""

    kind: Literal["supplier_fails"]
    package: str
    supplier: str
    shipped_share: float = Field(default=0.5, ge=0, lt=1)


class Scenario(Strict):
    version: Literal[1]
    name: str
    seed: int = 1
    buyers: int = Field(default=500, ge=1, le=1_000_000, description="How many distinct buyers (phones).")
    regions: dict[str, str] = Field(min_length=1, description="Code -> the name people read.")
    suppliers: list[SupplierSpec] = Field(min_length=1)
    communities: list[CommunitySpec] = Field(min_length=1)
    packages: list[PackageSpec] = Field(min_length=1)
    rounds: list[RoundSpec] = Field(default=[], description="Default: one round per package.")
    sale: SaleSpec = SaleSpec()
    waves: list[Wave] = []
    attempts: list[Attempt] = Field(default=[], description="Explicit attempts, played beside the waves'.")
    payments: PaymentSpec = PaymentSpec()
    faults: list[Fault] = []

    @model_validator(mode="after")
    def _references_exist(self) -> "Scenario":
        problems: list[str] = []
        packages = {package.key for package in self.packages}
        communities = {community.key for community in self.communities}
        suppliers = {supplier.key for supplier in self.suppliers}
        for package in self.packages:
            if package.community not in communities:
                problems.append(f"package {package.key}: unknown community {package.community!r}")
            problems += [
                f"package {package.key}: unknown region {r!r}" for r in package.quantities if r not in self.regions
            ]
        for supplier in self.suppliers:
            problems += [
                f"supplier {supplier.key}: unknown region {r!r}" for r in supplier.regions if r not in self.regions
            ]
        for round_ in self.rounds:
            problems += [f"round {round_.key}: unknown package {p!r}" for p in round_.packages if p not in packages]
        for item in [*self.waves, *self.attempts, *self.faults]:
            if item.package not in packages:
                problems.append(f"{type(item).__name__.lower()}: unknown package {item.package!r}")
        problems += [
            f"fault: unknown supplier {fault.supplier!r}" for fault in self.faults if fault.supplier not in suppliers
        ]
        problems += [
            f"attempt: buyer {a.buyer} is not below buyers={self.buyers}"
            for a in self.attempts
            if a.buyer >= self.buyers
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def round_list(self) -> list[RoundSpec]:
        if self.rounds:
            return list(self.rounds)
        return [RoundSpec(key=f"round-{package.key}", packages=[package.key]) for package in self.packages]

    def package(self, key: str) -> PackageSpec:
        return next(package for package in self.packages if package.key == key)


@dataclass(frozen=True)
class Buyer:
    name: str
    phone: str
    street: str

    def address(self, region_name: str) -> str:
        return f"{region_name}{self.street}"


def buyers(scenario: Scenario) -> list[Buyer]:
    """Distinct buyers (their phones are unique), with Chinese names and short addresses."""
    draw = random.Random(scenario.seed)
    return [
        Buyer(
            name=draw.choice(SURNAMES) + draw.choice(GIVEN_NAMES),
            phone=f"139{index:08d}",
            street=f"{draw.choice(STREETS)}{draw.randint(1, 999)}号",
        )
        for index in range(scenario.buyers)
    ]


def order_attempts(scenario: Scenario) -> list[Attempt]:
    """Every attempt of the evening in the order they are sent: the waves drawn from the seed, then the explicit."""
    draw = random.Random(scenario.seed * 7919 + 1)
    attempts = list(scenario.attempts)
    for wave in scenario.waves:
        regions, weights = zip(*wave.regions.items(), strict=True)
        for index in range(wave.count):
            attempts.append(
                Attempt(
                    package=wave.package,
                    at_ms=wave.over_ms * index // max(1, wave.count - 1) if wave.count > 1 else 0,
                    buyer=draw.randrange(scenario.buyers),
                    region=draw.choices(regions, weights)[0],
                    quantity=draw.choice(wave.quantities),
                    retries=1 if draw.random() < wave.retry_share else 0,
                )
            )
    return sorted(attempts, key=lambda attempt: attempt.at_ms)


def payment_split(count: int, payments: PaymentSpec) -> tuple[int, int]:
    """How many of `count` orders pay by the provider and how many by statement (the rest stay unpaid)."""
    by_provider = round(count * payments.provider_share)
    by_statement = min(count - by_provider, round(count * payments.statement_share))
    return by_provider, by_statement


def statement_csv(lines: Sequence[tuple[str, int]]) -> str:
    """A bank statement paying each (reference, cents), the reference in the memo as the order page asks."""
    rows = ["Date,Memo,Amount"]
    rows += [f"2026-12-08,{reference} 转账,{cents // 100}.{cents % 100:02d}" for reference, cents in lines]
    return "\n".join(rows) + "\n"


def load(path: Path | None) -> Scenario:
    """A scenario file, or the built-in evening from the real case (docs/demo.md) when no path is given."""
    if path is None:
        text = resources.files("flexsupply.cli").joinpath(f"scenarios/{BUILT_IN}.json").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return Scenario.model_validate(json.loads(text))
