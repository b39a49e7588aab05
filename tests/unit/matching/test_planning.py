"""The matching service's planning rules, on small rounds solved for real and checked against the contract."""

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError

from flexsupply.allocation import (
    Allocation,
    Plan,
    PlanStatus,
    Problem,
    Reserve,
    SolveParams,
    cost_cents,
    rematch,
    solve,
    violations,
)
from flexsupply.allocation.check import share_in_proportion
from flexsupply.contracts.offers import EligibleOffer, SupplierCapacity
from flexsupply.contracts.rules import MAX_BACKUPS
from flexsupply.matching.domain.cost_sharing import NoPlan, split_plan
from flexsupply.matching.domain.planning import (
    AwardChangeKind,
    InvalidRound,
    LeaveOutReason,
    RoundPackage,
    RoundProblem,
    award_changes,
    build_round_problem,
    federation_saving_cents,
    firm_problem,
    package_awards,
    standalone_problems,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PARAMS = SolveParams(time_limit_seconds=5)
P1, P2, P3 = UUID(int=1), UUID(int=2), UUID(int=3)
S1, S2, S3, S4, S5 = (UUID(int=0x100 + n) for n in range(1, 6))


def offer_id(n: int) -> UUID:
    return UUID(int=0x200 + n)


def terms(
    number: int,
    supplier_id: UUID,
    *,
    sku: str = "bread",
    tiers: Iterable[tuple[int, int]] = ((0, 1000),),
    moq: int = 10,
    capacity: int = 1000,
    fixed_cents: int = 0,
    reserve_cents: int = 0,
    shipping_cents: dict[str, int] | None = None,
    currency: str = "CNY",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> EligibleOffer:
    return EligibleOffer.model_validate(
        {
            "id": offer_id(number),
            "supplier_id": supplier_id,
            "sku": sku,
            "moq": moq,
            "capacity": capacity,
            "lead_time_days": 2,
            "quality": 90,
            "fixed_cents": fixed_cents,
            "reserve_cents": reserve_cents,
            "currency": currency,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "price_tiers": [{"min_quantity": m, "unit_cents": c} for m, c in tiers],
            "shipping_cents": shipping_cents or {"north": 100, "south": 200},
        }
    )


def package(
    package_id: UUID, quantities: dict[str, int], *, sku: str = "bread", backups: int = 0, days: float = 7
) -> RoundPackage:
    return RoundPackage(
        id=package_id,
        sku=sku,
        spec="a gift box of six",
        quantities=quantities,
        needed_by=NOW + timedelta(days=days),
        min_quality=80,
        backups=backups,
    )


def test_more_backups_than_the_contract_holds_are_refused_past_the_api_too() -> None:
    assert package(P1, {"north": 10}, backups=MAX_BACKUPS).backups == MAX_BACKUPS
    with pytest.raises(ValidationError, match="backups"):
        package(P1, {"north": 10}, backups=MAX_BACKUPS + 1)


def build(
    packages: list[RoundPackage],
    *,
    quotes: Iterable[EligibleOffer] = (),
    standing: Iterable[EligibleOffer] = (),
    declined: Iterable[UUID] = (),
    capacities: Iterable[SupplierCapacity] = (),
) -> RoundProblem:
    return build_round_problem(
        packages,
        quotes=quotes,
        standing_offers=standing,
        declined_supplier_ids=set(declined),
        capacities=capacities,
        now=NOW,
        currency="CNY",
    )


def solved(problem: Problem) -> Plan:
    plan = solve(problem, PARAMS)
    assert plan.status == PlanStatus.OPTIMAL
    assert violations(problem, plan) == []
    assert cost_cents(problem, plan) == plan.total_cents
    return plan


def offer_ids(problem: Problem) -> set[UUID]:
    return {UUID(offer.id) for offer in problem.offers}


# Building the round's problem


def test_a_quote_supersedes_the_suppliers_standing_offer_for_the_same_sku() -> None:
    round_problem = build(
        [package(P1, {"north": 100}), package(P2, {"north": 50}, sku="cake")],
        quotes=[terms(1, S1, tiers=[(0, 700)])],
        standing=[terms(2, S1), terms(3, S1, sku="cake"), terms(4, S2, tiers=[(0, 900)])],
    )

    assert offer_ids(round_problem.problem) == {offer_id(1), offer_id(3), offer_id(4)}
    assert round_problem.quote_ids == {offer_id(1)}
    [superseded] = round_problem.left_out
    assert (superseded.offer_id, superseded.reason, superseded.quote) == (offer_id(2), LeaveOutReason.SUPERSEDED, False)
    assert round_problem.left_out_sentences == [
        f"Standing offer {offer_id(2)} from supplier {S1} for bread: the supplier's quote for this round replaces it."
    ]
    plan = solved(round_problem.problem)
    assert {a.offer for a in plan.allocations if a.package == str(P1)} == {str(offer_id(1))}


def test_a_quote_that_cannot_be_used_leaves_the_standing_offer_in_place() -> None:
    round_problem = build(
        [package(P1, {"north": 100})],
        quotes=[terms(1, S1, valid_until=NOW - timedelta(minutes=1))],
        standing=[terms(2, S1)],
    )

    assert offer_ids(round_problem.problem) == {offer_id(2)}
    assert round_problem.quote_ids == frozenset()
    assert [item.reason for item in round_problem.left_out] == [LeaveOutReason.EXPIRED]


def test_declined_suppliers_are_left_out_with_their_standing_offers() -> None:
    round_problem = build(
        [package(P1, {"north": 100})],
        quotes=[terms(1, S1), terms(2, S2, tiers=[(0, 1)])],
        standing=[terms(3, S2, tiers=[(0, 1)])],
        declined=[S2],
    )

    assert offer_ids(round_problem.problem) == {offer_id(1)}
    assert [supplier.id for supplier in round_problem.problem.suppliers] == [str(S1)]
    assert {(item.offer_id, item.reason) for item in round_problem.left_out} == {
        (offer_id(2), LeaveOutReason.DECLINED),
        (offer_id(3), LeaveOutReason.DECLINED),
    }
    assert all("declined this round" in sentence for sentence in round_problem.left_out_sentences)
    plan = solved(round_problem.problem)
    assert {a.offer for a in plan.allocations} == {str(offer_id(1))}


def test_terms_outside_their_validity_window_are_left_out_with_a_reason() -> None:
    round_problem = build(
        [package(P1, {"north": 100})],
        quotes=[terms(1, S1, valid_until=NOW - timedelta(hours=1))],
        standing=[
            terms(2, S2, valid_until=NOW),
            terms(3, S3, valid_from=NOW + timedelta(days=1)),
            terms(4, S4, valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=1)),
        ],
    )

    assert offer_ids(round_problem.problem) == {offer_id(4)}
    reasons = {item.offer_id: item.reason for item in round_problem.left_out}
    assert reasons == {
        offer_id(1): LeaveOutReason.EXPIRED,
        offer_id(2): LeaveOutReason.EXPIRED,
        offer_id(3): LeaveOutReason.NOT_YET_VALID,
    }
    assert round_problem.left_out_sentences[0] == (
        f"Quote {offer_id(1)} from supplier {S1} for bread: it expired at 2025-06-01 11:00 UTC."
    )
    assert "valid only from 2025-06-02 12:00 UTC" in round_problem.left_out_sentences[2]


def test_terms_in_another_currency_or_for_another_sku_are_left_out() -> None:
    round_problem = build(
        [package(P1, {"north": 100})],
        standing=[terms(1, S1), terms(2, S2, currency="USD"), terms(3, S3, sku="candle")],
    )

    assert offer_ids(round_problem.problem) == {offer_id(1)}
    assert [(item.offer_id, item.reason) for item in round_problem.left_out] == [
        (offer_id(2), LeaveOutReason.OTHER_CURRENCY),
        (offer_id(3), LeaveOutReason.OTHER_SKU),
    ]
    assert "priced in USD, the round in CNY" in round_problem.left_out_sentences[0]


def test_packages_become_lines_days_and_ids_of_the_contract() -> None:
    round_problem = build(
        [package(P1, {"north": 100, "south": 0}, days=6.99, backups=1)],
        standing=[terms(1, S1), terms(2, S2)],
        capacities=[SupplierCapacity(id=S1, capacity=500)],
    )

    [problem_package] = round_problem.problem.packages
    assert problem_package.id == str(P1)
    assert [(line.region, line.quantity) for line in problem_package.lines] == [("north", 100)]
    assert problem_package.needed_by_days == 6
    assert (problem_package.min_quality, problem_package.backups) == (80, 1)
    assert {s.id: s.capacity for s in round_problem.problem.suppliers} == {str(S1): 500, str(S2): None}


def test_a_needed_by_in_the_past_is_an_error_naming_the_package() -> None:
    with pytest.raises(InvalidRound, match=str(P2)):
        build([package(P1, {"north": 10}), package(P2, {"north": 10}, days=-0.01)], standing=[terms(1, S1)])


def test_a_package_with_no_units_is_an_error_naming_it() -> None:
    with pytest.raises(InvalidRound, match=str(P1)):
        build([package(P1, {"north": 0})], standing=[terms(1, S1)])


# A federated round: three packages share offer 1, whose fixed fee does not divide evenly.


@pytest.fixture(scope="module")
def federated() -> Problem:
    return build(
        [
            package(P1, {"north": 100}, backups=1),
            package(P2, {"north": 40, "south": 30}),
            package(P3, {"north": 30}),
        ],
        standing=[
            terms(1, S1, tiers=[(0, 1000), (150, 900)], moq=10, fixed_cents=10_001),
            terms(2, S2, tiers=[(0, 1200)], reserve_cents=5),
        ],
    ).problem


@pytest.fixture(scope="module")
def federated_plan(federated: Problem) -> Plan:
    return solved(federated)


def test_cost_shares_add_up_exactly_to_the_plans_total(federated: Problem, federated_plan: Plan) -> None:
    shares = split_plan(federated, federated_plan)

    assert sum(share.cost.total_cents for share in shares.values()) == cost_cents(federated, federated_plan)
    assert sum(share.cost.total_cents for share in shares.values()) == federated_plan.total_cents
    # 10,001 cents over 100, 70 and 30 units: 5000.5, 3500.35, 1500.15; the cent left goes to the largest fraction.
    assert {package_id: share.cost.fixed_cents for package_id, share in shares.items()} == {
        P1: 5001,
        P2: 3500,
        P3: 1500,
    }
    assert shares[P1].cost.reserve_cents == 5 * 100
    assert [(r.offer_id, r.supplier_id, r.quantity) for r in shares[P1].reserves] == [(offer_id(2), S2, 100)]
    assert shares[P2].cost.shipping_cents == 40 * 100 + 30 * 200
    assert shares[P2].units == 70
    assert {(a.region, a.quantity) for a in shares[P2].allocations} == {("north", 40), ("south", 30)}
    # P3: 30 x 900 goods + 30 x 100 shipping + 1500 fixed = 31,500 over 30 units.
    assert shares[P3].landed_unit_cents == 1050


def test_every_package_gets_the_pooled_tier_price(federated: Problem, federated_plan: Plan) -> None:
    shares = split_plan(federated, federated_plan)

    # Together the offer makes 200 units, past the 150 tier: 900 a unit for everyone, even P3's 30.
    assert {package_id: share.cost.goods_cents for package_id, share in shares.items()} == {
        P1: 100 * 900,
        P2: 70 * 900,
        P3: 30 * 900,
    }
    for package_id in (P1, P2, P3):
        [award] = package_awards(federated, federated_plan, package_id)[S1].offers
        assert award.unit_cents == 900


def test_awards_add_up_to_the_packages_share(federated: Problem, federated_plan: Plan) -> None:
    shares = split_plan(federated, federated_plan)
    for package_id, share in shares.items():
        awards = package_awards(federated, federated_plan, package_id)
        assert sum(award.total_cents for award in awards.values()) == share.cost.total_cents

    awards = package_awards(federated, federated_plan, P1)
    assert set(awards) == {S1, S2}
    [made] = awards[S1].offers
    assert (made.quantities, made.shipping_unit_cents, made.fixed_cents) == ({"north": 100}, {"north": 100}, 5001)
    assert made.total_cents == 100 * 900 + 100 * 100 + 5001
    assert awards[S2].offers == ()
    [reservation] = awards[S2].reservations
    assert (reservation.offer_id, reservation.quantity, reservation.reserve_unit_cents) == (offer_id(2), 100, 5)
    assert reservation.total_cents == 500


def test_federating_is_cheaper_than_sourcing_alone(federated: Problem, federated_plan: Plan) -> None:
    alone = {package_id: solved(problem) for package_id, problem in standalone_problems(federated).items()}
    assert set(alone) == {P1, P2, P3}
    saving = federation_saving_cents(federated_plan, alone.values())

    assert federated_plan.total_cents is not None
    assert saving == sum(plan.total_cents or 0 for plan in alone.values()) - federated_plan.total_cents
    # Alone, nobody reaches the 150 tier, each pays the fixed fee, and P3 is cheaper at supplier 2.
    assert saving is not None and saving > 0
    assert {a.offer for a in alone[P3].allocations} == {str(offer_id(2))}


def test_standalone_problems_keep_only_what_the_package_could_use() -> None:
    problem = build(
        [package(P1, {"north": 100}), package(P2, {"north": 50}, sku="cake")],
        standing=[terms(1, S1), terms(2, S2, sku="cake"), terms(3, S3, sku="cake")],
        capacities=[SupplierCapacity(id=S2, capacity=300)],
    ).problem
    alone = standalone_problems(problem)

    assert [p.id for p in alone[P2].packages] == [str(P2)]
    assert offer_ids(alone[P2]) == {offer_id(2), offer_id(3)}
    assert {(s.id, s.capacity) for s in alone[P2].suppliers} == {(str(S2), 300), (str(S3), None)}
    # Nothing is shared, so federating saves nothing.
    together = solved(problem)
    assert federation_saving_cents(together, [solved(p) for p in alone.values()]) == 0


def test_no_saving_is_shown_when_a_package_has_no_plan_alone(federated_plan: Plan) -> None:
    infeasible = Plan(status=PlanStatus.INFEASIBLE, explanation=["too few suppliers"])

    assert federation_saving_cents(federated_plan, [federated_plan, infeasible]) is None


def test_the_cent_that_does_not_divide_goes_to_the_smaller_package_id_on_a_tie() -> None:
    problem = build(
        [package(P2, {"north": 50}), package(P1, {"north": 50})], standing=[terms(1, S1, fixed_cents=3)]
    ).problem
    plan = Plan(
        status=PlanStatus.FEASIBLE,
        total_cents=100_000 + 10_000 + 3,
        allocations=[
            Allocation(package=str(P1), offer=str(offer_id(1)), region="north", quantity=50),
            Allocation(package=str(P2), offer=str(offer_id(1)), region="north", quantity=50),
        ],
    )
    assert violations(problem, plan) == []
    shares = split_plan(problem, plan)

    assert (shares[P1].cost.fixed_cents, shares[P2].cost.fixed_cents) == (2, 1)
    # 50,000 + 5,000 + 2 over 50 units is 1100.04: rounded to 1100; P2 likewise.
    assert shares[P1].landed_unit_cents == 1100


def test_the_landed_unit_cost_rounds_half_up() -> None:
    problem = build([package(P1, {"north": 2})], standing=[terms(1, S1, moq=1, fixed_cents=1)]).problem
    plan = Plan(
        status=PlanStatus.FEASIBLE,
        allocations=[Allocation(package=str(P1), offer=str(offer_id(1)), region="north", quantity=2)],
    )
    assert violations(problem, plan) == []

    # 2 x 1000 goods + 2 x 100 shipping + 1 fixed = 2201 over 2 units: 1100.5 rounds up.
    assert split_plan(problem, plan)[P1].landed_unit_cents == 1101


def test_an_infeasible_plan_has_nothing_to_split(federated: Problem) -> None:
    with pytest.raises(NoPlan):
        split_plan(federated, Plan(status=PlanStatus.INFEASIBLE))


def test_shares_in_proportion_add_up_and_stay_within_a_cent_of_exact() -> None:
    generator = random.Random(20250601)
    for _ in range(500):
        amount = generator.randrange(0, 10**7)
        weights = {f"p{n}": generator.randrange(0, 1000) for n in range(generator.randrange(1, 8))}
        weights["p0"] += 1  # at least one unit in all
        shares = share_in_proportion(amount, weights)

        assert sum(shares.values()) == amount
        total = sum(weights.values())
        for key, weight in weights.items():
            exact_floor = amount * weight // total
            assert shares[key] in (exact_floor, exact_floor + 1)
            if amount * weight % total == 0:
                assert shares[key] == exact_floor
    assert share_in_proportion(2, {"b": 1, "a": 1, "c": 1}) == {"a": 1, "b": 1, "c": 0}


# The firm problem


def test_the_firm_problem_replaces_lines_and_drops_what_was_not_sold(federated: Problem) -> None:
    firm = firm_problem(federated, {P1: {"north": 60}, P2: {"north": 0, "south": 25}}, needed_by_days={P1: 4, P2: 3})

    assert [p.id for p in firm.packages] == [str(P1), str(P2)]
    assert [(line.region, line.quantity) for line in firm.packages[0].lines] == [("north", 60)]
    assert [(line.region, line.quantity) for line in firm.packages[1].lines] == [("south", 25)]
    assert [p.needed_by_days for p in firm.packages] == [4, 3]
    assert firm.packages[0].backups == 1
    assert firm.offers == federated.offers
    plan = solved(firm)
    assert sum(a.quantity for a in plan.allocations) == 85


def test_firm_units_in_a_region_the_package_did_not_plan_are_an_error(federated: Problem) -> None:
    with pytest.raises(InvalidRound, match=rf"{P3}.*east"):
        firm_problem(federated, {P1: {"north": 10}, P3: {"east": 5}})
    with pytest.raises(InvalidRound, match=str(S1)):
        firm_problem(federated, {S1: {"north": 10}})


# Awards after a supplier declines


def test_only_the_suppliers_whose_awards_change_are_told_after_a_rematch() -> None:
    cake_shipping = {"north": 0, "south": 0}
    problem = build(
        [package(P1, {"north": 100}, backups=1), package(P2, {"north": 100, "south": 100}, sku="cake")],
        standing=[
            terms(1, S1, tiers=[(0, 1000)]),
            terms(5, S5, tiers=[(0, 1500)], reserve_cents=3),
            terms(2, S2, sku="cake", tiers=[(0, 800)], capacity=100, shipping_cents=cake_shipping),
            terms(3, S3, sku="cake", tiers=[(0, 950)], capacity=50, shipping_cents=cake_shipping),
            terms(4, S4, sku="cake", tiers=[(0, 900)], capacity=150, shipping_cents=cake_shipping),
        ],
    ).problem
    plan = solved(problem)
    assert sum(a.quantity for a in plan.allocations if a.offer == str(offer_id(2))) == 100
    assert plan.reserves == [Reserve(package=str(P1), offer=str(offer_id(5)), quantity=100)]

    again = rematch(problem, plan, excluded_suppliers=[str(S2)], params=PARAMS)
    assert again.status == PlanStatus.OPTIMAL
    assert violations(problem, again) == []
    changes = award_changes(problem, plan, again)

    assert [(c.package_id, c.supplier_id, c.kind) for c in changes] == [
        (P2, S2, AwardChangeKind.WITHDRAWN),
        (P2, S3, AwardChangeKind.NEW),
        (P2, S4, AwardChangeKind.CHANGED),
    ]
    withdrawn, new, changed = changes
    assert (withdrawn.after, new.before) == (None, None)
    assert withdrawn.before is not None and withdrawn.before.total_cents == 100 * 800
    assert new.after is not None and new.after.total_cents == 50 * 950
    assert changed.before is not None and changed.after is not None
    assert (changed.before.total_cents, changed.after.total_cents) == (100 * 900, 150 * 900)
