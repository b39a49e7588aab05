import re

import pytest
from pydantic import ValidationError

from flexsupply.allocation.problem import Offer
from flexsupply.contracts.offers import OfferTerms
from flexsupply.contracts.rules import MAX_COST_CENTS
from tests.support.catalogue import offer_body

VALID = offer_body(shipping_cents={"ningbo": 300})


def error_fields(changes: dict) -> set[str]:
    with pytest.raises(ValidationError) as raised:
        OfferTerms.model_validate(VALID | changes)
    return {".".join(str(part) for part in error["loc"]) for error in raised.value.errors()}


def test_the_contract_example_offer_is_valid():
    terms = OfferTerms.model_validate(VALID)
    assert terms.currency == "CNY" and terms.price_tiers[0].unit_cents == 3900


def test_a_tier_may_start_exactly_at_the_moq():
    OfferTerms.model_validate(VALID | {"price_tiers": [{"min_quantity": 100, "unit_cents": 1}]})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price_tiers": [{"min_quantity": 0, "unit_cents": 1}, {"min_quantity": 0, "unit_cents": 1}]}, "price_tiers"),
        ({"price_tiers": [{"min_quantity": 101, "unit_cents": 1}]}, "price_tiers"),
        ({"capacity": 99}, "capacity"),
        ({"moq": 0}, "moq"),
        ({"fixed_cents": 10.5}, "fixed_cents"),
        ({"shipping_cents": {"ningbo": -1}}, "shipping_cents.ningbo"),
        ({"shipping_cents": {"Not A Region": 1}}, "shipping_cents.Not A Region.[key]"),
        ({"valid_from": "2026-12-01T00:00:00"}, "valid_from"),
        (
            {"capacity": 10**9, "moq": 10**9, "price_tiers": [{"min_quantity": 0, "unit_cents": 10**7}]},
            "shipping_cents",
        ),
    ],
)
def test_each_broken_rule_names_its_field(changes, field):
    assert field in error_fields(changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"price_tiers": [{"min_quantity": 0, "unit_cents": 2}, {"min_quantity": 0, "unit_cents": 1}]},
            "min_quantity must strictly increase, got [0, 0]",
        ),
        ({"price_tiers": [{"min_quantity": 101, "unit_cents": 1}]}, "the first tier starts at 101, above the moq 100"),
        (
            {"capacity": 10**9, "moq": 10**9, "price_tiers": [{"min_quantity": 0, "unit_cents": 10**7}]},
            f"above {MAX_COST_CENTS}: beyond exact arithmetic",
        ),
    ],
)
def test_the_catalogue_and_the_optimizer_refuse_the_same_offers(changes: dict, message: str) -> None:
    """One set of rules (contracts.offers): the catalogue takes no offer the optimizer would refuse."""
    terms = VALID | changes
    with pytest.raises(ValidationError, match=re.escape(message)):
        OfferTerms.model_validate(terms)
    with pytest.raises(ValidationError, match=re.escape(message)):
        Offer.model_validate(terms | {"id": "o-1", "supplier": "s-1"}, strict=True)
    Offer.model_validate(VALID | {"id": "o-1", "supplier": "s-1"}, strict=True)
