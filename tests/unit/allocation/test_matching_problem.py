"""Problems are validated on loading, and every error names the offending item."""

import json
from pathlib import Path

import pytest

from flexsupply.allocation import InvalidProblem, load_problem

EXAMPLE = Path(__file__).parents[2] / "instances" / "example-problem.json"


def example_with(change) -> str:
    data = json.loads(EXAMPLE.read_text())
    change(data)
    return json.dumps(data)


def test_the_example_is_valid() -> None:
    problem = load_problem(EXAMPLE.read_text())
    assert [package.id for package in problem.packages] == ["dp-bread", "dp-candle"]
    assert problem.supplier("s-rumu").capacity is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["offers"][1].update(supplier="s-ghost"), "offers[o-rumu-box].supplier: unknown supplier s-ghost"),
        (lambda d: d["offers"].append(dict(d["offers"][0])), "offers[o-hakko-box]: the id is used more than once"),
        (lambda d: d["suppliers"].append({"id": "s-wax"}), "suppliers[s-wax]: the id is used more than once"),
        (
            lambda d: d["offers"][0]["price_tiers"].reverse(),
            "offers[o-hakko-box].price_tiers: min_quantity must strictly increase",
        ),
        (
            lambda d: d["offers"][0]["price_tiers"][0].update(min_quantity=150),
            "offers[o-hakko-box].price_tiers: the first tier starts at 150, above the moq 100",
        ),
        (lambda d: d["offers"][2].update(moq=-5), "offers[o-vert-box].moq: Input should be greater than or equal to 0"),
        (
            lambda d: d["offers"][2]["shipping_cents"].update(ningbo=-1),
            "offers[o-vert-box].shipping_cents.ningbo: Input should be greater than or equal to 0",
        ),
        (
            lambda d: d["packages"][1]["lines"][0].update(quantity=-3),
            "packages[dp-candle].lines[0].quantity: Input should be greater than or equal to 0",
        ),
        (
            lambda d: d["packages"][0]["lines"].append({"region": "ningbo", "quantity": 5}),
            "packages[dp-bread]: lines: more than one line for region ningbo",
        ),
        (lambda d: d["packages"][0].update(lines=[]), "packages[dp-bread].lines: List should have at least 1 item"),
        (lambda d: d["offers"][0].update(capcity=5), "offers[o-hakko-box].capcity: Extra inputs are not permitted"),
        # Whole units mean integers: no booleans, numeric strings or fractions coerced into quantities.
        (lambda d: d["offers"][0].update(moq=True), "offers[o-hakko-box].moq: Input should be a valid integer"),
        (lambda d: d["offers"][0].update(moq="100"), "offers[o-hakko-box].moq: Input should be a valid integer"),
        (
            lambda d: d["packages"][0]["lines"][0].update(quantity=2.0),
            "packages[dp-bread].lines[0].quantity: Input should be a valid integer",
        ),
        (
            lambda d: d["packages"][0].update(backups=6),
            "packages[dp-bread].backups: Input should be less than or equal to 5",
        ),
        (lambda d: d.pop("version"), "version: required; this engine reads version 1"),
        (lambda d: d.update(version=2), "version: Input should be 1"),
    ],
)
def test_an_invalid_problem_is_rejected_naming_the_item(change, message: str) -> None:
    with pytest.raises(InvalidProblem) as raised:
        load_problem(example_with(change))
    assert message in str(raised.value)


def test_a_moq_above_capacity_is_allowed() -> None:
    problem = load_problem(example_with(lambda d: d["offers"][0].update(moq=700)))
    assert problem.offer("o-hakko-box").moq == 700


def test_text_that_is_not_json_is_rejected() -> None:
    with pytest.raises(InvalidProblem, match="not JSON"):
        load_problem("{")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"capacity": 10**10}, "capacity"),
        ({"price_tiers": [{"min_quantity": 0, "unit_cents": 10**13}]}, "unit_cents"),
        ({"price_tiers": [{"min_quantity": 0, "unit_cents": 10**12}], "capacity": 10**9}, "exact arithmetic"),
    ],
)
def test_numbers_too_large_to_cost_exactly_are_refused_naming_the_offer(change: dict, named: str) -> None:
    data = json.loads(EXAMPLE.read_text())
    data["offers"][0] |= change
    with pytest.raises(InvalidProblem) as raised:
        load_problem(json.dumps(data))
    assert "o-hakko-box" in str(raised.value) and named in str(raised.value)


def test_deeply_nested_json_is_an_invalid_problem_not_a_crash() -> None:
    with pytest.raises(InvalidProblem):
        load_problem("[" * 100_000 + "]" * 100_000)
