"""Each package's part of an offer: the pooled tier price, its own shipping, the fixed cost split to the cent."""

from flexsupply.allocation import (
    Allocation,
    Offer,
    Package,
    PackageLine,
    Plan,
    PlanStatus,
    PriceTier,
    Problem,
    Reserve,
    Supplier,
    cost_breakdown,
    cost_cents,
    offer_shares,
)


def shared_offer_problem(fixed_cents: int) -> Problem:
    """Three packages of one offer whose second tier only their pooled 300 units reach."""
    return Problem(
        currency="CNY",
        suppliers=[Supplier(id="s-1"), Supplier(id="s-2")],
        offers=[
            Offer(
                id="o-1",
                supplier="s-1",
                sku="box",
                moq=100,
                capacity=1000,
                lead_time_days=1,
                quality=90,
                fixed_cents=fixed_cents,
                reserve_cents=0,
                price_tiers=[PriceTier(min_quantity=0, unit_cents=500), PriceTier(min_quantity=300, unit_cents=400)],
                shipping_cents={"north": 10, "south": 30},
            ),
            Offer(
                id="o-2",
                supplier="s-2",
                sku="box",
                moq=1,
                capacity=1000,
                lead_time_days=1,
                quality=90,
                fixed_cents=0,
                reserve_cents=7,
                price_tiers=[PriceTier(min_quantity=0, unit_cents=900)],
                shipping_cents={"north": 10, "south": 30},
            ),
        ],
        packages=[
            Package(
                id=f"dp-{index}",
                sku="box",
                needed_by_days=5,
                min_quality=0,
                lines=[PackageLine(region=region, quantity=100)],
            )
            for index, region in enumerate(["north", "north", "south"])
        ],
    )


def plan_of(problem: Problem) -> Plan:
    return Plan(
        status=PlanStatus.FEASIBLE,
        allocations=[
            Allocation(package=package.id, offer="o-1", region=package.lines[0].region, quantity=100)
            for package in problem.packages
        ],
        reserves=[Reserve(package="dp-0", offer="o-2", quantity=50)],
    )


def test_each_package_pays_the_pooled_tier_price_and_its_own_shipping() -> None:
    problem = shared_offer_problem(fixed_cents=0)
    shares = {share.package: share for share in offer_shares(problem, plan_of(problem))}
    assert {share.goods_cents for share in shares.values()} == {100 * 400}
    assert (shares["dp-0"].shipping_cents, shares["dp-2"].shipping_cents) == (100 * 10, 100 * 30)
    assert shares["dp-2"].landed_unit_cents == 430


def test_a_fixed_cost_is_split_to_the_cent_and_the_parts_add_up_to_the_plan_cost() -> None:
    problem = shared_offer_problem(fixed_cents=100)
    plan = plan_of(problem)
    shares = offer_shares(problem, plan)
    # 100 cents over three equal shares: 33 each and the cent left over to the smallest package id.
    assert [share.fixed_cents for share in shares] == [34, 33, 33]
    reserve_cents = 50 * 7
    assert sum(share.total_cents for share in shares) + reserve_cents == cost_cents(problem, plan)
    assert cost_breakdown(problem, plan) == {
        "goods": 300 * 400,
        "shipping": 200 * 10 + 100 * 30,
        "fixed": 100,
        "reserve": reserve_cents,
    }


def test_the_landed_unit_cost_rounds_half_up() -> None:
    problem = shared_offer_problem(fixed_cents=150)  # 50 cents a package: 0.5 cent a unit
    shares = {share.package: share for share in offer_shares(problem, plan_of(problem))}
    assert shares["dp-0"].total_cents == 100 * 410 + 50
    assert shares["dp-0"].landed_unit_cents == 411
