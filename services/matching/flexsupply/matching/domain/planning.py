"""The matching service's planning rules: a sourcing round's problem, the firm problem, standalone problems for
the federation saving, the awards a plan makes, and an awarded package's problem for fulfilment's re-match. How a
plan's cost is shared among the round's packages is in `cost_sharing`; what a sale may sell, in `sale.sale_caps`.

Problems use the UUIDs' strings as ids; everything returned to the service uses UUIDs again.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from flexsupply.allocation import Offer, Package, PackageLine, Plan, PriceTier, Problem, Supplier, offer_shares
from flexsupply.allocation.problem import is_eligible
from flexsupply.contracts.offers import EligibleOffer, SupplierCapacity
from flexsupply.contracts.rules import Backups, Units, whole_days_until
from flexsupply.matching.domain.cost_sharing import NoPlan


class InvalidRound(ValueError):
    """The round or its quantities cannot be planned as given; the message names the package, offer or region."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoundPackage(_Frozen):
    """A demand package as a sourcing round plans it."""

    id: UUID
    sku: str = Field(min_length=1)
    spec: str = Field(default="", description="What the leader wrote; people read it, the solver does not.")
    quantities: dict[str, Units] = Field(description="Units per delivery region; regions with 0 are left out.")
    needed_by: AwareDatetime
    min_quality: int = Field(default=0, ge=0, le=100)
    backups: Backups = Field(default=0, description="N of 1+N: backup suppliers to hold.")


class LeaveOutReason(StrEnum):
    DECLINED = "declined"
    OTHER_SKU = "other_sku"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    OTHER_CURRENCY = "other_currency"
    SUPERSEDED = "superseded"


class LeftOut(_Frozen):
    """Terms the round does not use, and a sentence a group leader can read saying why."""

    offer_id: UUID
    supplier_id: UUID
    quote: bool
    reason: LeaveOutReason
    sentence: str


class RoundProblem(_Frozen):
    problem: Problem
    quote_ids: frozenset[UUID] = Field(description="The problem's offers that are this round's quotes.")
    left_out: tuple[LeftOut, ...]

    @property
    def left_out_sentences(self) -> list[str]:
        return [item.sentence for item in self.left_out]


def days_left(package_id: UUID, needed_by: datetime, now: datetime) -> int:
    """The contract's needed_by_days: whole days from now to needed_by, rounded down. Raises InvalidRound once
    needed_by has passed."""
    _require_aware(now)
    if needed_by < now:
        raise InvalidRound(f"package {package_id} was needed by {_when(needed_by)}, which has passed")
    return whole_days_until(needed_by, now)


def build_round_problem(
    packages: Sequence[RoundPackage],
    *,
    quotes: Iterable[EligibleOffer],
    standing_offers: Iterable[EligibleOffer],
    declined_supplier_ids: Collection[UUID],
    capacities: Iterable[SupplierCapacity],
    now: datetime,
    currency: str,
) -> RoundProblem:
    """The round's matching problem. Terms are left out, each with a reason, when their supplier declined the
    round, no package is for their SKU, they are not valid at `now` (valid_from <= now < valid_until), they are
    priced in another currency, or (standing offers) the same supplier's usable quote for the same SKU replaces
    them in this round. Offers and suppliers are sorted by id, so the rows' order does not change the plan."""
    _require_aware(now)
    if not packages:
        raise InvalidRound("a round needs at least one package")
    repeated = _repeated(package.id for package in packages)
    if repeated:
        raise InvalidRound(f"package {repeated[0]} is in the round more than once")
    problem_packages = [_problem_package(package, now) for package in packages]
    candidates = [(terms, True) for terms in quotes] + [(terms, False) for terms in standing_offers]
    repeated = _repeated(terms.id for terms, _ in candidates)
    if repeated:
        raise InvalidRound(f"offer {repeated[0]} is given more than once")

    skus = {package.sku for package in packages}
    declined = set(declined_supplier_ids)
    left_out: list[LeftOut] = []
    usable: list[tuple[EligibleOffer, bool]] = []
    for terms, quote in candidates:
        reason = _reason_to_leave_out(terms, declined, skus, now, currency)
        if reason is None:
            usable.append((terms, quote))
        else:
            left_out.append(_left_out(terms, quote, reason, currency))
    quoted = {(terms.supplier_id, terms.sku) for terms, quote in usable if quote}
    kept: list[tuple[EligibleOffer, bool]] = []
    for terms, quote in usable:
        if not quote and (terms.supplier_id, terms.sku) in quoted:
            left_out.append(_left_out(terms, quote, LeaveOutReason.SUPERSEDED, currency))
        else:
            kept.append((terms, quote))

    capacity_of = {capacity.id: capacity.capacity for capacity in capacities}
    supplier_ids = sorted({terms.supplier_id for terms, _ in kept}, key=str)
    problem = Problem(
        currency=currency,
        suppliers=[
            Supplier(id=str(supplier_id), capacity=capacity_of.get(supplier_id)) for supplier_id in supplier_ids
        ],
        offers=[_problem_offer(terms) for terms, _ in sorted(kept, key=lambda item: str(item[0].id))],
        packages=problem_packages,
    )
    return RoundProblem(
        problem=problem,
        quote_ids=frozenset(terms.id for terms, quote in kept if quote),
        left_out=tuple(left_out),
    )


def _problem_package(package: RoundPackage, now: datetime) -> Package:
    lines = [PackageLine(region=region, quantity=units) for region, units in package.quantities.items() if units > 0]
    if not lines:
        raise InvalidRound(f"package {package.id} has no units in any region")
    return Package(
        id=str(package.id),
        sku=package.sku,
        needed_by_days=days_left(package.id, package.needed_by, now),
        min_quality=package.min_quality,
        backups=package.backups,
        lines=lines,
    )


def _problem_offer(terms: EligibleOffer) -> Offer:
    return Offer(
        id=str(terms.id),
        supplier=str(terms.supplier_id),
        sku=terms.sku,
        moq=terms.moq,
        capacity=terms.capacity,
        lead_time_days=terms.lead_time_days,
        quality=terms.quality,
        fixed_cents=terms.fixed_cents,
        reserve_cents=terms.reserve_cents,
        price_tiers=[PriceTier(min_quantity=t.min_quantity, unit_cents=t.unit_cents) for t in terms.price_tiers],
        shipping_cents=dict(terms.shipping_cents),
    )


def _reason_to_leave_out(
    terms: EligibleOffer, declined: set[UUID], skus: set[str], now: datetime, currency: str
) -> LeaveOutReason | None:
    if terms.supplier_id in declined:
        return LeaveOutReason.DECLINED
    if terms.sku not in skus:
        return LeaveOutReason.OTHER_SKU
    if terms.valid_from is not None and terms.valid_from > now:
        return LeaveOutReason.NOT_YET_VALID
    if terms.valid_until is not None and terms.valid_until <= now:
        return LeaveOutReason.EXPIRED
    if terms.currency != currency:
        return LeaveOutReason.OTHER_CURRENCY
    return None


def _left_out(terms: EligibleOffer, quote: bool, reason: LeaveOutReason, currency: str) -> LeftOut:
    what = f"{'Quote' if quote else 'Standing offer'} {terms.id} from supplier {terms.supplier_id} for {terms.sku}"
    why = {
        LeaveOutReason.DECLINED: "the supplier declined this round",
        LeaveOutReason.OTHER_SKU: f"no package in this round is for {terms.sku}",
        LeaveOutReason.NOT_YET_VALID: f"it is valid only from {_when(terms.valid_from)}",
        LeaveOutReason.EXPIRED: f"it expired at {_when(terms.valid_until)}",
        LeaveOutReason.OTHER_CURRENCY: f"it is priced in {terms.currency}, the round in {currency}",
        LeaveOutReason.SUPERSEDED: "the supplier's quote for this round replaces it",
    }[reason]
    return LeftOut(
        offer_id=terms.id, supplier_id=terms.supplier_id, quote=quote, reason=reason, sentence=f"{what}: {why}."
    )


def standalone_problems(problem: Problem) -> dict[UUID, Problem]:
    """Per package, the problem of sourcing it alone: the package, the offers eligible for it and their suppliers
    (with their whole capacity). Solve each to show what federating the round saves."""
    alone: dict[UUID, Problem] = {}
    for package in problem.packages:
        offers = [offer for offer in problem.offers if is_eligible(offer, package)]
        supplier_ids = {offer.supplier for offer in offers}
        alone[UUID(package.id)] = Problem(
            currency=problem.currency,
            suppliers=[supplier for supplier in problem.suppliers if supplier.id in supplier_ids],
            offers=offers,
            packages=[package],
        )
    return alone


def federation_saving_cents(federated: Plan, standalone: Iterable[Plan]) -> int | None:
    """The standalone plans' totals minus the federated total; None when any of them has no plan. Negative is
    possible: together, the packages compete for the suppliers' capacity."""
    totals = [plan.total_cents for plan in standalone]
    if federated.total_cents is None or any(total is None for total in totals):
        return None
    return sum(total for total in totals if total is not None) - federated.total_cents


def firm_problem(
    planned: Problem,
    firm_units: Mapping[UUID, Mapping[str, int]],
    *,
    needed_by_days: Mapping[UUID, int] | None = None,
) -> Problem:
    """The problem for awarding: the planned problem with each package's lines replaced by what was sold. Lines of 0
    are dropped, and packages with nothing firm. `needed_by_days` (from `days_left` at award time) replaces the
    planned days: the sale took days since planning, and an offer's lead time counts from the award."""
    planned_ids = {package.id for package in planned.packages}
    unknown = [package_id for package_id in firm_units if str(package_id) not in planned_ids]
    if unknown:
        raise InvalidRound(f"package {unknown[0]} is not in the planned problem")
    packages: list[Package] = []
    for package in planned.packages:
        package_id = UUID(package.id)
        units = firm_units.get(package_id, {})
        for region, quantity in units.items():
            if quantity < 0:
                raise InvalidRound(f"package {package_id}: {quantity} firm units in {region} is negative")
            if quantity > 0 and region not in package.regions:
                raise InvalidRound(
                    f"package {package_id} has {quantity} firm units in {region}, a region it did not plan"
                )
        lines = [
            PackageLine(region=line.region, quantity=units[line.region])
            for line in package.lines
            if units.get(line.region, 0) > 0
        ]
        if not lines:
            continue
        days = package.needed_by_days
        if needed_by_days is not None:
            if package_id not in needed_by_days:
                raise InvalidRound(f"package {package_id} has firm units but no needed_by_days")
            days = needed_by_days[package_id]
        packages.append(Package.model_validate(package.model_dump() | {"lines": lines, "needed_by_days": days}))
    return planned.model_copy(update={"packages": packages})


def rematch_problem(
    awarded: Problem, package_id: UUID, firm_units: Mapping[str, int], offer_ids: Iterable[str]
) -> Problem:
    """The awarded package alone, as fulfilment re-matches it when a supplier fails: its firm quantities as lines,
    no backups asked (the reserves are what it falls back on), and only `offer_ids` (the awarded and reserve
    offers) with their terms and suppliers as `awarded`, the problem of the run that made the awards, had them."""
    package = next((package for package in awarded.packages if package.id == str(package_id)), None)
    if package is None:
        raise InvalidRound(f"package {package_id} is not in the problem")
    wanted = set(offer_ids)
    offers = [offer for offer in awarded.offers if offer.id in wanted]
    missing = sorted(wanted - {offer.id for offer in offers})
    if missing:
        raise InvalidRound(f"offer {missing[0]} is not in the problem")
    supplier_ids = {offer.supplier for offer in offers}
    lines = [PackageLine(region=region, quantity=units) for region, units in sorted(firm_units.items()) if units > 0]
    if not lines:
        raise InvalidRound(f"package {package_id} has no firm units in any region")
    return Problem(
        currency=awarded.currency,
        suppliers=[supplier for supplier in awarded.suppliers if supplier.id in supplier_ids],
        offers=offers,
        packages=[Package.model_validate(package.model_dump() | {"lines": lines, "backups": 0})],
    )


class OfferAward(_Frozen):
    """What one package gets from one offer, priced by the cost-sharing rule."""

    offer_id: UUID
    quantities: dict[str, int] = Field(description="Units per region.")
    unit_cents: int = Field(description="The tier price that the offer's units over the whole round reach.")
    shipping_unit_cents: dict[str, int] = Field(description="Shipping per unit per region.")
    fixed_cents: int = Field(description="This package's share of the offer's fixed fee.")
    total_cents: int


class Reservation(_Frozen):
    """Backup capacity held for one package on one offer."""

    offer_id: UUID
    quantity: int
    reserve_unit_cents: int
    total_cents: int


class SupplierAward(_Frozen):
    """What one supplier is awarded for one package: production on its offers, or reservations as a backup."""

    package_id: UUID
    supplier_id: UUID
    offers: tuple[OfferAward, ...]
    reservations: tuple[Reservation, ...]

    @property
    def total_cents(self) -> int:
        return sum(award.total_cents for award in self.offers) + sum(r.total_cents for r in self.reservations)


def package_awards(problem: Problem, plan: Plan, package_id: UUID) -> dict[UUID, SupplierAward]:
    """Supplier id -> its award for the package; the awards' totals add up to the package's cost share."""
    package = next((package for package in problem.packages if package.id == str(package_id)), None)
    if package is None:
        raise InvalidRound(f"package {package_id} is not in the problem")
    if not plan.has_plan:
        raise NoPlan("the plan is infeasible: it allocates nothing")
    shares = {share.offer: share for share in offer_shares(problem, plan) if share.package == package.id}
    quantities: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for allocation in plan.allocations:
        if allocation.package == package.id:
            quantities[allocation.offer][allocation.region] += allocation.quantity
    reserved: dict[str, int] = defaultdict(int)
    for reserve in plan.reserves:
        if reserve.package == package.id:
            reserved[reserve.offer] += reserve.quantity

    offer_awards: dict[str, list[OfferAward]] = defaultdict(list)
    for offer_id, by_region in sorted(quantities.items()):
        offer = problem.offer(offer_id)
        share = shares[offer_id]
        offer_awards[offer.supplier].append(
            OfferAward(
                offer_id=UUID(offer_id),
                quantities=dict(by_region),
                unit_cents=share.goods_cents // share.units,  # the pooled tier price, the same for every unit
                shipping_unit_cents={region: offer.shipping_cents[region] for region in by_region},
                fixed_cents=share.fixed_cents,
                total_cents=share.total_cents,
            )
        )
    reservations: dict[str, list[Reservation]] = defaultdict(list)
    for offer_id, quantity in sorted(reserved.items()):
        offer = problem.offer(offer_id)
        reservations[offer.supplier].append(
            Reservation(
                offer_id=UUID(offer_id),
                quantity=quantity,
                reserve_unit_cents=offer.reserve_cents,
                total_cents=offer.reserve_cents * quantity,
            )
        )
    return {
        UUID(supplier_id): SupplierAward(
            package_id=package_id,
            supplier_id=UUID(supplier_id),
            offers=tuple(offer_awards[supplier_id]),
            reservations=tuple(reservations[supplier_id]),
        )
        for supplier_id in sorted({*offer_awards, *reservations})
    }


class AwardChangeKind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    WITHDRAWN = "withdrawn"


class AwardChange(_Frozen):
    package_id: UUID
    supplier_id: UUID
    kind: AwardChangeKind
    before: SupplierAward | None
    after: SupplierAward | None


def award_changes(problem: Problem, before: Plan, after: Plan) -> list[AwardChange]:
    """The (package, supplier) awards that differ between two plans of the problem (after a re-match, say): only
    these suppliers need to be told. A change of price counts, such as a tier price that moved with the pooled
    units or a share of a fixed fee that moved with another package."""
    changes: list[AwardChange] = []
    for package in problem.packages:
        package_id = UUID(package.id)
        was, now = package_awards(problem, before, package_id), package_awards(problem, after, package_id)
        for supplier_id in sorted({*was, *now}, key=str):
            old, new = was.get(supplier_id), now.get(supplier_id)
            if old == new:
                continue
            kind = (
                AwardChangeKind.NEW
                if old is None
                else AwardChangeKind.WITHDRAWN
                if new is None
                else AwardChangeKind.CHANGED
            )
            changes.append(
                AwardChange(package_id=package_id, supplier_id=supplier_id, kind=kind, before=old, after=new)
            )
    return changes


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _repeated(ids: Iterable[UUID]) -> list[UUID]:
    seen: set[UUID] = set()
    repeated: list[UUID] = []
    for item in ids:
        if item in seen:
            repeated.append(item)
        seen.add(item)
    return repeated
