"""An infeasible problem says why, per package, in sentences naming what to change."""

import json
from pathlib import Path

from flexsupply.allocation import PlanStatus, Problem, SolveParams, load_problem, solve
from flexsupply.allocation.explain import describe
from flexsupply.allocation.model import GroupKind, build_model

INSTANCES = Path(__file__).parents[2] / "instances"


def example_with(change) -> Problem:
    data = json.loads((INSTANCES / "example-problem.json").read_text())
    change(data)
    return load_problem(json.dumps(data))


def explanation(problem: Problem) -> str:
    plan = solve(problem, SolveParams(time_limit_seconds=60, work_limit=2))
    assert plan.status == PlanStatus.INFEASIBLE
    assert (plan.allocations, plan.reserves, plan.total_cents, plan.bound_cents) == ([], [], None, None)
    return "\n".join(plan.explanation)


def test_demand_above_eligible_capacity() -> None:
    def more_bread(data: dict) -> None:
        data["packages"][0]["lines"][0]["quantity"] = 2000

    assert "Package dp-bread needs 2000 units in ningbo by day 7; eligible offers shipping there can make 1400." in (
        explanation(example_with(more_bread))
    )


def test_packages_that_each_fit_but_not_together() -> None:
    def three_bread_packages(data: dict) -> None:  # 600 units each, 1,400 can be made
        for number in (2, 3):
            data["packages"].append({**data["packages"][0], "id": f"dp-bread-{number}"})

    assert (
        "Packages dp-bread, dp-bread-2, dp-bread-3 need 1800 units of bread-gift-box in all; the offers eligible for"
        " any of them can make 1400 together."
    ) in explanation(example_with(three_bread_packages))


def test_a_region_no_eligible_offer_ships_to() -> None:
    def to_chongqing(data: dict) -> None:
        data["packages"][1]["lines"][1]["region"] = "chongqing"

    assert "Package dp-candle needs 40 units in chongqing, but no eligible offer ships to chongqing." in (
        explanation(example_with(to_chongqing))
    )


def test_no_offer_ready_by_the_deadline() -> None:
    def tomorrow(data: dict) -> None:
        data["packages"][0]["needed_by_days"] = 1

    text = explanation(example_with(tomorrow))
    assert "Package dp-bread has no eligible offer of bread-gift-box" in text
    assert "o-hakko-box, o-rumu-box, o-vert-box, o-lumen-box cannot deliver by day 1" in text


def test_too_few_backup_suppliers_shipping_everywhere() -> None:
    def four_backups(data: dict) -> None:
        data["packages"][1]["backups"] = 4

    assert (
        "Package dp-candle asks for 4 backup suppliers, each shipping to all of its regions (ningbo, chengdu), "
        "but only 3 can: s-lumen, s-rumu, s-wax."
    ) in explanation(example_with(four_backups))


def test_too_few_distinct_suppliers_to_make_and_back_up() -> None:
    def three_backups(data: dict) -> None:
        data["packages"][1]["backups"] = 3

    assert "Package dp-candle needs 4 distinct suppliers (at least one to make it and 3 as backups" in (
        explanation(example_with(three_backups))
    )


def test_moq_and_capacity_that_cannot_be_combined() -> None:
    text = explanation(load_problem((INSTANCES / "infeasible-moq-and-capacity.json").read_text()))
    assert "package dp-tea needs 450 units in hangzhou by day 5" in text
    assert "offer o-big of s-big makes or reserves at least 500 units, or none" in text
    assert "offer o-small of s-small can make and reserve at most 300 units" in text
    assert "Relaxing any one of them" in text


def test_backups_that_supplier_capacity_cannot_cover() -> None:
    text = explanation(load_problem((INSTANCES / "infeasible-backup-capacity.json").read_text()))
    assert "supplier s-b can make and reserve at most 200 units in all" in text
    assert "package dp-tea needs backup suppliers whose reserves together cover its largest supplier's share" in text
    assert "o-a" not in text  # its capacity is not part of the conflict


def test_every_kind_of_constraint_group_can_be_switched_off_and_described() -> None:
    example = load_problem((INSTANCES / "example-problem.json").read_text())
    _, variables = build_model(example, explaining=True)
    assert {group.kind for group in variables.guards} == set(GroupKind)
    for group in variables.guards:
        assert group.item_id in describe(example, group)
