"""A package's bodies: a change (PATCH) takes each of the terms with the terms' own bounds and documentation, and
requires none of them."""

import pytest
from pydantic import ValidationError

from flexsupply.contracts.rules import MAX_BACKUPS
from flexsupply.matching.schemas import PackageTerms, PackageUpdate


def test_a_package_change_documents_and_bounds_every_term_as_the_terms_do_and_requires_none():
    terms = PackageTerms.model_json_schema()
    change = PackageUpdate.model_json_schema()
    assert "required" not in change
    assert change["properties"].keys() == terms["properties"].keys()
    for name, schema in terms["properties"].items():
        assert change["properties"][name] | {"default": None} == schema | {"default": None}, name


def test_a_package_change_keeps_what_was_sent_and_refuses_removing_a_required_term():
    assert PackageUpdate.model_validate({"backups": 2}).model_dump(exclude_unset=True) == {"backups": 2}
    assert PackageUpdate.model_validate({"target_unit_cents": None}).model_dump(exclude_unset=True) == {
        "target_unit_cents": None
    }
    with pytest.raises(ValidationError, match="less than or equal to 5"):
        PackageUpdate.model_validate({"backups": MAX_BACKUPS + 1})
    for name in ("title", "backups", "pickup_points"):
        with pytest.raises(ValidationError, match="may be changed but not removed"):
            PackageUpdate.model_validate({name: None})
