"""The matching engine: optimal 1+N supplier allocation (matching-problem.md) with OR-Tools CP-SAT."""

from flexsupply.allocation.check import OfferShare, cost_breakdown, cost_cents, offer_shares, violations
from flexsupply.allocation.explain import explain
from flexsupply.allocation.greedy import greedy_plan
from flexsupply.allocation.params import SolveParams
from flexsupply.allocation.plan import Allocation, NoPlanInTime, Plan, PlanStatus, Reserve
from flexsupply.allocation.problem import (
    InvalidProblem,
    Offer,
    Package,
    PackageLine,
    PriceTier,
    Problem,
    Supplier,
    load_problem,
)
from flexsupply.allocation.rematch import ImpossibleFix, moved_units, rematch
from flexsupply.allocation.solve import solve

__all__ = [
    "Allocation",
    "ImpossibleFix",
    "InvalidProblem",
    "NoPlanInTime",
    "Offer",
    "OfferShare",
    "Package",
    "PackageLine",
    "Plan",
    "PlanStatus",
    "PriceTier",
    "Problem",
    "Reserve",
    "SolveParams",
    "Supplier",
    "cost_breakdown",
    "cost_cents",
    "explain",
    "greedy_plan",
    "load_problem",
    "moved_units",
    "offer_shares",
    "rematch",
    "solve",
    "violations",
]
