"""The plan of contract version 1: what each package gets from which offer, and the reserves behind it."""

from enum import StrEnum

from pydantic import BaseModel, Field, PositiveInt


class PlanStatus(StrEnum):
    OPTIMAL = "optimal"  # proved least cost
    FEASIBLE = "feasible"  # a plan, not proved optimal within the time limit
    INFEASIBLE = "infeasible"  # proved that no plan exists


class NoPlanInTime(RuntimeError):
    """The time limit ran out before any plan was found or proved impossible: not a plan of the contract,
    so an error. Rare: the greedy and backup-free starts usually give a plan at once."""

    def __init__(self, time_limit_seconds: float, work_limit: float | None = None) -> None:
        limit = f"{time_limit_seconds:g} s time limit"
        if work_limit is not None:
            limit = f"work limit of {work_limit:g} units (or the {limit})"
        super().__init__(f"no plan was found within the {limit}, nor a proof that none exists; allow more time")
        self.time_limit_seconds = time_limit_seconds
        self.work_limit = work_limit


class Allocation(BaseModel):
    package: str
    offer: str
    region: str
    quantity: PositiveInt


class Reserve(BaseModel):
    package: str
    offer: str
    quantity: PositiveInt


class Plan(BaseModel):
    status: PlanStatus
    total_cents: int | None = None
    bound_cents: int | None = None
    allocations: list[Allocation] = Field(default_factory=list)
    reserves: list[Reserve] = Field(default_factory=list)
    explanation: list[str] = Field(default_factory=list)
    gap: float | None = Field(default=None, description="(total - bound) / total; 0 when optimal.")
    solve_seconds: float = 0.0

    @property
    def has_plan(self) -> bool:
        return self.status != PlanStatus.INFEASIBLE

    def allocated(self, package_id: str, region: str) -> int:
        return sum(
            allocation.quantity
            for allocation in self.allocations
            if allocation.package == package_id and allocation.region == region
        )


def relative_gap(total_cents: int, bound_cents: int) -> float:
    return (total_cents - bound_cents) / max(1, abs(total_cents))
