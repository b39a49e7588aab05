"""An award's rules: firm quantities within the sale caps, answers before the deadline, silence as a decline, and
what a re-match keeps of the accepted awards. Pure, no I/O (the re-match is solved for real)."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from flexsupply.allocation import (
    Allocation,
    Offer,
    Package,
    PackageLine,
    Plan,
    PlanStatus,
    PriceTier,
    Problem,
    SolveParams,
    Supplier,
    rematch,
    solve,
    violations,
)
from flexsupply.contracts.errors import InvalidField
from flexsupply.matching.domain.award import (
    AnswerTooLate,
    AwardNotOffered,
    AwardStatus,
    answer,
    beyond_accepted,
    check_firm_quantities,
    covers,
    excluded_suppliers,
    fixed_allocations,
    is_overdue,
    keeps_accepted,
)
from flexsupply.matching.domain.planning import OfferAward, package_awards

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DEADLINE = NOW + timedelta(hours=48)
P = UUID(int=1)
S1, S2, S3 = (UUID(int=0x100 + n) for n in range(1, 4))
O1, O2, O3 = (UUID(int=0x200 + n) for n in range(1, 4))


def line(offer: UUID, unit_cents: int = 1000, fixed_cents: int = 0, **quantities: int) -> OfferAward:
    shipping = dict.fromkeys(quantities, 100)
    total = sum((unit_cents + 100) * units for units in quantities.values()) + fixed_cents
    return OfferAward(
        offer_id=offer,
        quantities=quantities,
        unit_cents=unit_cents,
        shipping_unit_cents=shipping,
        fixed_cents=fixed_cents,
        total_cents=total,
    )


# --- answering ---------------------------------------------------------------------------------------------------


def test_an_offered_award_is_accepted_or_declined_before_its_deadline():
    assert answer(AwardStatus.OFFERED, DEADLINE, NOW, accept=True) is AwardStatus.ACCEPTED
    assert answer(AwardStatus.OFFERED, DEADLINE, NOW, accept=False) is AwardStatus.DECLINED


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1), timedelta(days=3)])
def test_an_answer_at_or_after_the_deadline_is_too_late_and_names_it(late: timedelta):
    with pytest.raises(AnswerTooLate, match="2026-12-03 12:00 UTC"):
        answer(AwardStatus.OFFERED, DEADLINE, DEADLINE + late, accept=True)


@pytest.mark.parametrize("status", [s for s in AwardStatus if s is not AwardStatus.OFFERED])
def test_only_an_offered_award_can_be_answered_and_the_refusal_names_its_status(status: AwardStatus):
    with pytest.raises(AwardNotOffered, match=f"the award is {status}"):
        answer(status, DEADLINE, NOW, accept=True)


def test_an_answered_award_is_never_too_late_only_answered():
    with pytest.raises(AwardNotOffered):
        answer(AwardStatus.ACCEPTED, DEADLINE, DEADLINE + timedelta(days=1), accept=True)


def test_silence_counts_only_for_an_offered_award_whose_deadline_came():
    assert is_overdue(AwardStatus.OFFERED, DEADLINE, DEADLINE)
    assert is_overdue(AwardStatus.OFFERED, DEADLINE, DEADLINE + timedelta(hours=1))
    assert not is_overdue(AwardStatus.OFFERED, DEADLINE, DEADLINE - timedelta(seconds=1))
    assert not is_overdue(AwardStatus.ACCEPTED, DEADLINE, DEADLINE + timedelta(hours=1))
    assert not is_overdue(AwardStatus.WITHDRAWN, DEADLINE, DEADLINE + timedelta(hours=1))


# --- firm quantities ------------------------------------------------------------------------------------------


def test_firm_quantities_within_the_caps_keep_the_regions_with_units_sorted():
    caps = {"shanghai": 60, "ningbo": 100}
    assert check_firm_quantities({"shanghai": 60, "ningbo": 0}, caps) == {"shanghai": 60}
    assert list(check_firm_quantities({"shanghai": 1, "ningbo": 2}, caps)) == ["ningbo", "shanghai"]


@pytest.mark.parametrize(
    ("quantities", "field", "words"),
    [
        ({"ningbo": 101}, "quantities.ningbo", "above the sale cap of 100"),
        ({"chengdu": 5}, "quantities.chengdu", "the plan covers only ningbo, shanghai"),
        ({"ningbo": -1}, "quantities.ningbo", "negative"),
        ({"ningbo": 0, "shanghai": 0}, "quantities", "at least one unit"),
    ],
)
def test_firm_quantities_outside_the_plan_name_the_field(quantities: dict[str, int], field: str, words: str):
    with pytest.raises(InvalidField) as raised:
        check_firm_quantities(quantities, {"ningbo": 100, "shanghai": 60})
    assert raised.value.field == field
    assert words in raised.value.message


# --- what a re-match keeps --------------------------------------------------------------------------------------


def test_a_rematch_leaves_out_every_supplier_that_refused_an_award_unless_it_accepted_another():
    answers = [
        (S1, AwardStatus.DECLINED),
        (S2, AwardStatus.EXPIRED),
        (S3, AwardStatus.ACCEPTED),
        (S3, AwardStatus.DECLINED),  # a further award after a re-match: its accepted units stay fixed
        (O1, AwardStatus.WITHDRAWN),
        (O2, AwardStatus.OFFERED),
    ]
    assert excluded_suppliers(answers) == {S1, S2}
    assert excluded_suppliers(iter(answers)) == {S1, S2}


def test_accepted_awards_become_one_fixed_allocation_per_offer_and_region():
    accepted = [line(O1, ningbo=50, shanghai=10), line(O1, ningbo=20), line(O2, shanghai=5)]
    assert fixed_allocations(P, accepted) == [
        Allocation(package=str(P), offer=str(O1), region="ningbo", quantity=70),
        Allocation(package=str(P), offer=str(O1), region="shanghai", quantity=10),
        Allocation(package=str(P), offer=str(O2), region="shanghai", quantity=5),
    ]


def test_a_plan_keeps_the_accepted_units_when_it_gives_at_least_as_many_per_offer_and_region():
    accepted = [line(O1, ningbo=50)]

    def plan(*allocations: tuple[UUID, str, int]) -> Plan:
        return Plan(
            status=PlanStatus.FEASIBLE,
            allocations=[
                Allocation(package=str(P), offer=str(offer), region=region, quantity=quantity)
                for offer, region, quantity in allocations
            ],
        )

    assert keeps_accepted(plan((O1, "ningbo", 50), (O2, "shanghai", 10)), P, accepted)
    assert keeps_accepted(plan((O1, "ningbo", 80)), P, accepted)
    assert not keeps_accepted(plan((O1, "ningbo", 40), (O2, "ningbo", 10)), P, accepted)
    assert not keeps_accepted(plan((O1, "shanghai", 50)), P, accepted)
    assert keeps_accepted(plan(), P, [])


def test_with_nothing_accepted_a_supplier_is_offered_the_plans_lines_as_they_are():
    wanted = [line(O1, fixed_cents=500, ningbo=50), line(O2, shanghai=10)]
    assert beyond_accepted(wanted, []) == wanted


def test_beyond_an_accepted_award_a_supplier_is_offered_only_the_extra_units_without_the_fee_again():
    accepted = [line(O1, unit_cents=1000, fixed_cents=500, ningbo=50)]
    wanted = [line(O1, unit_cents=900, fixed_cents=500, ningbo=50, shanghai=30), line(O2, fixed_cents=300, ningbo=5)]
    further = beyond_accepted(wanted, accepted)
    assert further == [line(O1, unit_cents=900, shanghai=30), line(O2, fixed_cents=300, ningbo=5)]
    assert further[0].fixed_cents == 0 and further[0].total_cents == 30 * (900 + 100)


def test_nothing_is_offered_beyond_an_accepted_award_the_plan_repeats():
    accepted = [line(O1, ningbo=50)]
    assert beyond_accepted([line(O1, ningbo=50)], accepted) == []


def test_the_package_is_awarded_when_the_accepted_units_are_exactly_the_firm_quantities():
    firm = {"ningbo": 70, "shanghai": 10}
    assert covers([line(O1, ningbo=50, shanghai=10), line(O2, ningbo=20)], firm)
    assert not covers([line(O1, ningbo=50, shanghai=10)], firm)
    assert not covers([line(O1, ningbo=80, shanghai=10)], firm)
    assert covers([line(O1, ningbo=70, shanghai=10)], firm | {"chengdu": 0})
    assert not covers([], {})


def offer(offer_id: UUID, supplier: UUID, unit_cents: int, shipping: dict[str, int], capacity: int = 200) -> Offer:
    return Offer(
        id=str(offer_id),
        supplier=str(supplier),
        sku="bread",
        moq=10,
        capacity=capacity,
        lead_time_days=2,
        quality=90,
        fixed_cents=1000,
        price_tiers=[PriceTier(min_quantity=0, unit_cents=unit_cents)],
        shipping_cents=shipping,
    )


def test_a_rematch_after_a_decline_keeps_the_accepted_award_and_offers_only_what_moved():
    """S1 (accepted) makes ningbo's 100, S2 shanghai's 100 and declines: S1's offer, its fee already paid, is then
    the cheapest for shanghai too. S1 keeps its accepted award and is offered the shanghai units as a further one."""
    problem = Problem(
        currency="CNY",
        suppliers=[Supplier(id=str(s)) for s in (S1, S2, S3)],
        offers=[
            offer(O1, S1, 1000, {"ningbo": 100, "shanghai": 400}),
            offer(O2, S2, 1000, {"shanghai": 100}),
            offer(O3, S3, 1500, {"shanghai": 100}),
        ],
        packages=[
            Package(
                id=str(P),
                sku="bread",
                needed_by_days=10,
                lines=[PackageLine(region="ningbo", quantity=100), PackageLine(region="shanghai", quantity=100)],
            )
        ],
    )
    params = SolveParams(time_limit_seconds=5)
    first = solve(problem, params)
    awarded = package_awards(problem, first, P)
    assert set(awarded) == {S1, S2}
    accepted = list(awarded[S1].offers)

    again = rematch(problem, first, [str(S2)], fixed_allocations(P, accepted), params)

    assert violations(problem, again) == []
    assert keeps_accepted(again, P, accepted)
    now = package_awards(problem, again, P)
    assert set(now) == {S1}
    (further,) = beyond_accepted(now[S1].offers, accepted)
    assert further.offer_id == O1 and further.quantities == {"shanghai": 100} and further.fixed_cents == 0
    assert covers([*accepted, further], {"ningbo": 100, "shanghai": 100})
