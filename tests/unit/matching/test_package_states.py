"""A demand package's state machine, the rules of its terms, and its draft's sign-up rules: pure, no I/O."""

from datetime import UTC, datetime, timedelta

import pytest

from flexsupply.contracts.errors import InvalidField
from flexsupply.matching.domain.package import (
    CANCELLABLE,
    InvalidTransition,
    NotEditable,
    PackageStatus,
    PackageStep,
    WindowTooLate,
    allowed_steps,
    check_editable,
    check_sale_move,
    check_terms,
    next_status,
    sale_outcome,
)
from flexsupply.matching.domain.phone import normalise_phone
from flexsupply.matching.domain.signup import Entry, check_entry, is_open, totals_by_region

S, Step = PackageStatus, PackageStep
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def walk(*steps: PackageStep) -> PackageStatus:
    status = S.DRAFT
    for step in steps:
        status = next_status(status, step)
    return status


def test_a_package_walks_the_whole_loop_from_draft_to_completed():
    assert (
        walk(
            Step.REQUEST_QUOTES,
            Step.PLAN,
            Step.OPEN_SALE,
            Step.REACH_THRESHOLD,
            Step.AWARD,
            Step.START_FULFILMENT,
            Step.COMPLETE,
        )
        == S.COMPLETED
    )


def test_firm_quantities_entered_for_a_sale_run_outside_flexsupply_close_a_planned_package():
    assert walk(Step.REQUEST_QUOTES, Step.PLAN, Step.FIRM_UP) == S.CLOSED
    assert walk(Step.REQUEST_QUOTES, Step.PLAN, Step.FIRM_UP, Step.AWARD) == S.AWARDED
    with pytest.raises(InvalidTransition):
        walk(Step.REQUEST_QUOTES, Step.PLAN, Step.OPEN_SALE, Step.FIRM_UP)  # a sale run here closes by its threshold


def test_a_sale_that_misses_its_threshold_cancels_the_package():
    assert walk(Step.REQUEST_QUOTES, Step.PLAN, Step.OPEN_SALE, Step.MISS_THRESHOLD) == S.CANCELLED


def test_closing_a_sale_reaches_or_misses_the_threshold():
    assert sale_outcome(sold_units=100, threshold_units=100) == Step.REACH_THRESHOLD
    assert sale_outcome(sold_units=99, threshold_units=100) == Step.MISS_THRESHOLD


def test_a_planned_package_whose_new_run_finds_no_plan_goes_back_to_sourcing():
    assert walk(Step.REQUEST_QUOTES, Step.PLAN, Step.REPLAN) == S.SOURCING
    assert walk(Step.REQUEST_QUOTES, Step.PLAN, Step.REPLAN, Step.PLAN) == S.PLANNED


@pytest.mark.parametrize("status", sorted(CANCELLABLE))
def test_a_package_can_be_cancelled_before_it_is_awarded(status: PackageStatus):
    assert next_status(status, Step.CANCEL) == S.CANCELLED


@pytest.mark.parametrize("status", [S.AWARDED, S.IN_FULFILMENT, S.COMPLETED, S.CANCELLED])
def test_an_awarded_or_finished_package_cannot_be_cancelled(status: PackageStatus):
    with pytest.raises(InvalidTransition):
        next_status(status, Step.CANCEL)


def test_an_illegal_move_names_the_state_and_the_moves_it_allows():
    with pytest.raises(InvalidTransition) as raised:
        next_status(S.PLANNED, Step.AWARD)
    assert (
        str(raised.value)
        == "a planned package cannot award; allowed from planned: replan, open_sale, move_sale, firm_up, cancel"
    )


def test_a_final_state_says_it_is_final():
    with pytest.raises(InvalidTransition, match="a completed package cannot cancel; completed is final"):
        next_status(S.COMPLETED, Step.CANCEL)
    assert allowed_steps(S.CANCELLED) == [] and allowed_steps(S.COMPLETED) == []


@pytest.mark.parametrize("status", list(S))
def test_the_allowed_steps_are_exactly_those_that_move(status: PackageStatus):
    moves = set()
    for step in Step:
        try:
            next_status(status, step)
        except InvalidTransition:
            continue
        moves.add(step)
    assert set(allowed_steps(status)) == moves


def test_every_status_but_the_final_two_can_be_left():
    assert {status for status in S if not allowed_steps(status)} == {S.COMPLETED, S.CANCELLED}


def test_only_a_draft_can_be_edited():
    check_editable(S.DRAFT)
    with pytest.raises(NotEditable, match="a sourcing package cannot be changed"):
        check_editable(S.SOURCING)


# --- the terms ---------------------------------------------------------------------------------------------------


def terms(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "needed_by": NOW + timedelta(days=20),
        "sale_opens_at": NOW + timedelta(days=5),
        "sale_closes_at": NOW + timedelta(days=6),
        "threshold_units": 100,
        "cap_units": 500,
        "per_buyer_limit": 5,
        "now": NOW,
    }
    return body | changes


def test_sound_terms_pass():
    check_terms(**terms())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("needed_by", {"needed_by": NOW - timedelta(minutes=1)}),
        ("sale_closes_at", {"sale_closes_at": NOW + timedelta(days=4)}),
        ("sale_closes_at", {"sale_closes_at": NOW + timedelta(days=5)}),
        ("sale_closes_at", {"sale_closes_at": NOW + timedelta(days=21)}),
        ("threshold_units", {"threshold_units": 501}),
        ("per_buyer_limit", {"per_buyer_limit": 501}),
    ],
)
def test_broken_terms_name_the_field_to_fix(field: str, changes: dict[str, object]):
    with pytest.raises(InvalidField) as raised:
        check_terms(**terms(**changes))  # type: ignore[arg-type]
    assert raised.value.field == field


# --- the draft's sign-up (接龙) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("+852 9123 4567", "+85291234567"),
        ("+44 (20) 7946.0958", "+442079460958"),
        ("+86 139 0000 0010", "+8613900000010"),
        ("13900000010", "+8613900000010"),
        ("0574 8765 4321", "+8657487654321"),  # a Ningbo landline: a number without a country code is mainland
    ],
)
def test_phones_are_compared_in_one_normal_form(raw: str, normal: str):
    assert normalise_phone(raw) == normal


@pytest.mark.parametrize("raw", ["", "12345", "abc", "23800138000", "+86 123 4567", "+0123456789", "+1234567890123456"])
def test_what_is_not_a_phone_number_is_refused(raw: str):
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_an_entry_must_choose_a_region_of_the_package_and_stay_within_the_per_person_max():
    check_entry(region="ningbo", quantity=3, regions={"ningbo", "shanghai"}, per_person_max=3)
    with pytest.raises(InvalidField) as raised:
        check_entry(region="chengdu", quantity=1, regions={"ningbo"}, per_person_max=3)
    assert raised.value.field == "region"
    with pytest.raises(InvalidField) as raised:
        check_entry(region="ningbo", quantity=4, regions={"ningbo"}, per_person_max=3)
    assert raised.value.field == "quantity"


def test_totals_cover_every_region_of_the_package():
    entries = [Entry("ningbo", 2), Entry("ningbo", 3), Entry("shanghai", 1)]
    assert totals_by_region(entries, ["shanghai", "ningbo", "chengdu"]) == {"chengdu": 0, "ningbo": 5, "shanghai": 1}


def test_a_sign_up_is_open_until_closed_its_time_passes_or_sourcing_starts():
    later = NOW + timedelta(hours=1)
    assert is_open(package_is_draft=True, closes_at=None, closed_at=None, now=NOW)
    assert is_open(package_is_draft=True, closes_at=later, closed_at=None, now=NOW)
    assert not is_open(package_is_draft=True, closes_at=NOW, closed_at=None, now=NOW)
    assert not is_open(package_is_draft=True, closes_at=None, closed_at=NOW, now=NOW)
    assert not is_open(package_is_draft=False, closes_at=later, closed_at=None, now=NOW)


AT = datetime(2026, 12, 1, tzinfo=UTC)


def move_sale(
    *,
    fields: frozenset[str] = frozenset({"sale_opens_at", "sale_closes_at"}),
    opens_at: datetime = AT + timedelta(days=3),
    closes_at: datetime = AT + timedelta(days=4),
    current_opens_at: datetime = AT + timedelta(days=1),
) -> None:
    check_sale_move(
        fields=fields,
        opens_at=opens_at,
        closes_at=closes_at,
        current_opens_at=current_opens_at,
        needed_by=AT + timedelta(days=10),
        lead_times={"o-1": 3, "o-2": 6},
        now=AT,
    )


def test_a_planned_sale_moves_only_its_window_before_it_opens_and_closes_in_time_for_its_lead_times():
    move_sale()  # closes 4 days in, 6 before needed_by: o-2 just makes it
    with pytest.raises(WindowTooLate, match="must close by 2026-12-05 00:00 UTC: the plan's offer o-2 needs 6 days"):
        move_sale(closes_at=AT + timedelta(days=4, minutes=1))
    with pytest.raises(NotEditable, match="not title"):
        move_sale(fields=frozenset({"title", "sale_opens_at"}))
    with pytest.raises(NotEditable, match="has opened"):
        move_sale(current_opens_at=AT)
    with pytest.raises(InvalidField):
        move_sale(opens_at=AT - timedelta(hours=1))
