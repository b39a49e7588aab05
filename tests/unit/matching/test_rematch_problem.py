"""The problem an awarded package hands to fulfilment: the package alone on its firm quantities, with the awarded
and reserve offers exactly as the award run had them, so that a failed supplier's units can move to a reserve."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from flexsupply.allocation import Plan, PlanStatus, Problem, SolveParams, rematch, solve, violations
from flexsupply.contracts.offers import EligibleOffer, SupplierCapacity
from flexsupply.matching.domain.planning import (
    InvalidRound,
    RoundPackage,
    build_round_problem,
    firm_problem,
    package_awards,
    rematch_problem,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PARAMS = SolveParams(time_limit_seconds=5, num_workers=1)  # one worker: the same plan among equal-cost ones
P1, P2 = UUID(int=1), UUID(int=2)
PRIMARY, BACKUP, OTHER, CAKE = (UUID(int=0x100 + n) for n in range(1, 5))
SHIPPING = {"north": 100, "south": 200}


def offer(
    number: int, supplier_id: UUID, *, sku: str = "bread", unit_cents: int, reserve_cents: int = 0
) -> EligibleOffer:
    return EligibleOffer.model_validate(
        {
            "id": UUID(int=0x200 + number),
            "supplier_id": supplier_id,
            "sku": sku,
            "moq": 10,
            "capacity": 500,
            "lead_time_days": 2,
            "quality": 90,
            "fixed_cents": 700,
            "reserve_cents": reserve_cents,
            "currency": "CNY",
            "price_tiers": [{"min_quantity": 0, "unit_cents": unit_cents}, {"min_quantity": 100, "unit_cents": 900}],
            "shipping_cents": SHIPPING,
        }
    )


def package(package_id: UUID, sku: str, quantities: dict[str, int], backups: int) -> RoundPackage:
    return RoundPackage(
        id=package_id,
        sku=sku,
        quantities=quantities,
        needed_by=NOW + timedelta(days=9),
        min_quality=80,
        backups=backups,
    )


@pytest.fixture(scope="module")
def awarded() -> tuple[Problem, Plan]:
    """A round of bread (P1, one backup) and cake (P2) on firm quantities, and its plan: PRIMARY makes P1's bread,
    BACKUP holds its reserve, OTHER (dearer) is left unused."""
    planned = build_round_problem(
        [package(P1, "bread", {"north": 80, "south": 40}, backups=1), package(P2, "cake", {"north": 30}, backups=0)],
        quotes=[],
        standing_offers=[
            offer(1, PRIMARY, unit_cents=1000),
            offer(2, BACKUP, unit_cents=1100, reserve_cents=5),
            offer(3, OTHER, unit_cents=1500, reserve_cents=50),
            offer(4, CAKE, sku="cake", unit_cents=800),
        ],
        declined_supplier_ids=set(),
        capacities=[SupplierCapacity(id=PRIMARY, capacity=2000), SupplierCapacity(id=BACKUP, capacity=300)],
        now=NOW,
        currency="CNY",
    ).problem
    problem = firm_problem(planned, {P1: {"north": 70, "south": 30}, P2: {"north": 30}}, needed_by_days={P1: 6, P2: 6})
    plan = solve(problem, PARAMS)
    assert plan.status is PlanStatus.OPTIMAL and violations(problem, plan) == []
    return problem, plan


def awarded_offer_ids(problem: Problem, plan: Plan) -> list[str]:
    awards = package_awards(problem, plan, P1).values()
    return [str(line.offer_id) for award in awards for line in (*award.offers, *award.reservations)]


def test_the_package_alone_keeps_the_awarded_and_reserve_offers_as_the_award_run_had_them(
    awarded: tuple[Problem, Plan],
) -> None:
    problem, plan = awarded
    offer_ids = awarded_offer_ids(problem, plan)
    assert sorted(offer_ids) == [str(UUID(int=0x201)), str(UUID(int=0x202))]

    alone = rematch_problem(problem, P1, {"south": 30, "north": 70, "east": 0}, offer_ids)

    (package_,) = alone.packages
    assert package_.id == str(P1) and package_.sku == "bread"
    assert (package_.needed_by_days, package_.min_quality, package_.backups) == (6, 80, 0)
    assert [(line.region, line.quantity) for line in package_.lines] == [("north", 70), ("south", 30)]
    assert alone.offers == [problem.offer(offer_id) for offer_id in sorted(offer_ids)]
    assert [(s.id, s.capacity) for s in alone.suppliers] == [(str(PRIMARY), 2000), (str(BACKUP), 300)]
    assert alone.currency == "CNY"
    assert Problem.model_validate(alone.model_dump(mode="json")) == alone


def test_a_failed_supplier_s_units_move_to_the_reserve_in_the_package_s_problem(
    awarded: tuple[Problem, Plan],
) -> None:
    problem, plan = awarded
    alone = rematch_problem(problem, P1, {"north": 70, "south": 30}, awarded_offer_ids(problem, plan))
    previous = Plan(status=plan.status, allocations=[a for a in plan.allocations if a.package == str(P1)], reserves=[])

    again = rematch(alone, previous, excluded_suppliers=[str(PRIMARY)], params=PARAMS)

    assert again.status is PlanStatus.OPTIMAL
    assert {(a.offer, a.region, a.quantity) for a in again.allocations} == {
        (str(UUID(int=0x202)), "north", 70),
        (str(UUID(int=0x202)), "south", 30),
    }


def test_an_unknown_package_or_offer_or_nothing_firm_is_an_error(awarded: tuple[Problem, Plan]) -> None:
    problem, _ = awarded
    unknown = UUID(int=0x2FF)
    with pytest.raises(InvalidRound, match=str(unknown)):
        rematch_problem(problem, P1, {"north": 70}, [str(UUID(int=0x201)), str(unknown)])
    with pytest.raises(InvalidRound, match=str(unknown)):
        rematch_problem(problem, unknown, {"north": 70}, [str(UUID(int=0x201))])
    with pytest.raises(InvalidRound, match="no firm units"):
        rematch_problem(problem, P1, {"north": 0}, [str(UUID(int=0x201))])
