"""Use cases of the matching service, each over the caller's session: they flush, never commit.

`community_id` arguments scope a call to one community (a group leader's); None means every community (an
operator's). A package outside the scope is 'not found', so ids reveal nothing.
"""

import secrets
from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.contracts.events import RfqItem, RfqRoundAcknowledged, RfqRoundOpened, SourcingRoundDue
from flexsupply.kit import auth, outbox
from flexsupply.kit.clock import utc_now
from flexsupply.matching.domain.package import (
    InvalidTransition,
    PackageStatus,
    PackageStep,
    allowed_steps,
    check_editable,
    check_regions_known,
    check_terms,
    next_status,
)
from flexsupply.matching.domain.signup import (
    Entry,
    SignupClosed,
    SignupExists,
    check_entry,
    is_open,
    totals_by_region,
)
from flexsupply.matching.models import (
    Community,
    DemandPackage,
    Leader,
    LeaderKey,
    OutboxMessage,
    PackageTransition,
    Signup,
    SignupEntry,
    SourcingRound,
)
from flexsupply.matching.schemas import (
    CommunityCreate,
    CommunityCreated,
    CommunityPublic,
    LeaderKeyIssued,
    LeaderMe,
    LeaderPublic,
    PackageCreate,
    PackagePublic,
    PackageUpdate,
    RoundCreate,
    RoundPublic,
    SignupEntryCreate,
    SignupEntryPublic,
    SignupInvitation,
    SignupOpen,
    SignupPublic,
)

# --- communities and leaders -----------------------------------------------------------------------------------


def _community_public(community: Community, leader: Leader) -> CommunityPublic:
    return CommunityPublic(
        id=community.id,
        name=community.name,
        leader=LeaderPublic.model_validate(leader),
        created_at=community.created_at,
    )


async def create_community(session: AsyncSession, data: CommunityCreate) -> CommunityCreated:
    community = Community(name=data.name)
    session.add(community)
    await session.flush()
    leader = Leader.model_validate(data.leader.model_dump(), update={"community_id": community.id})
    session.add(leader)
    await session.flush()
    return CommunityCreated(
        community=_community_public(community, leader), leader_key=await _issue_key(session, leader)
    )


async def get_community(session: AsyncSession, community_id: UUID) -> CommunityPublic:
    found = (
        await session.exec(
            select(Community, Leader)
            .join(Leader, col(Leader.community_id) == Community.id)
            .where(Community.id == community_id)
        )
    ).first()
    if found is None:
        raise NotFound(f"community {community_id} not found")
    return _community_public(*found)


async def list_communities(session: AsyncSession, limit: int, offset: int) -> list[CommunityPublic]:
    query = (
        select(Community, Leader)
        .join(Leader, col(Leader.community_id) == Community.id)
        .order_by(col(Community.created_at), col(Community.id))
        .limit(limit)
        .offset(offset)
    )
    return [_community_public(community, leader) for community, leader in (await session.exec(query)).all()]


async def _issue_key(session: AsyncSession, leader: Leader) -> LeaderKeyIssued:
    issued = auth.issue_api_key(auth.LEADER_KEY_PREFIX)
    key = LeaderKey(id=issued.key_id, leader_id=leader.id, secret_hash=issued.secret_hash)
    session.add(key)
    await session.flush()
    return LeaderKeyIssued(id=key.id, leader_id=leader.id, created_at=key.created_at, api_key=issued.token)


async def rotate_leader_key(session: AsyncSession, community_id: UUID, revoke_existing: bool) -> LeaderKeyIssued:
    leader = (await session.exec(select(Leader).where(Leader.community_id == community_id))).first()
    if leader is None:
        raise NotFound(f"community {community_id} not found")
    if revoke_existing:
        keys = (await session.exec(select(LeaderKey).where(LeaderKey.leader_id == leader.id))).all()
        for key in keys:
            key.revoked_at = key.revoked_at or utc_now()
    return await _issue_key(session, leader)


async def leader_for_api_key(session: AsyncSession, token: str) -> Leader | None:
    parsed = auth.parse_api_key(token, auth.LEADER_KEY_PREFIX)
    if parsed is None:
        return None
    key_id, secret = parsed
    key = await session.get(LeaderKey, key_id)
    if key is None or key.revoked_at is not None or not auth.secret_matches(secret, key.secret_hash):
        return None
    return await session.get(Leader, key.leader_id)


async def leader_me(session: AsyncSession, leader_id: UUID) -> LeaderMe:
    leader = await session.get(Leader, leader_id)
    community = await session.get(Community, leader.community_id) if leader else None
    if leader is None or community is None:
        raise NotFound(f"leader {leader_id} not found")
    return LeaderMe(leader=LeaderPublic.model_validate(leader), community_name=community.name)


# --- demand packages --------------------------------------------------------------------------------------------


PHOTOS_PATH = "/package-photos"


def photo_url(package: DemandPackage) -> str | None:
    return f"{PHOTOS_PATH}/{package.photo_id}" if package.photo_id else None


def package_public(package: DemandPackage) -> PackagePublic:
    return PackagePublic.model_validate(
        package, update={"next_steps": allowed_steps(package.status), "photo_url": photo_url(package)}
    )


async def get_package(
    session: AsyncSession, package_id: UUID, community_id: UUID | None = None, *, lock: bool = False
) -> DemandPackage:
    """A package in the scope; `lock` holds it until commit, for a change that depends on its status."""
    query = select(DemandPackage).where(DemandPackage.id == package_id)
    if lock:
        query = query.with_for_update()
    package = (await session.exec(query)).first()
    if package is None or (community_id is not None and package.community_id != community_id):
        raise NotFound(f"package {package_id} not found")
    return package


def _check_package(package: DemandPackage | PackageCreate, known_regions: Collection[str] | None) -> None:
    check_terms(
        needed_by=package.needed_by,
        sale_opens_at=package.sale_opens_at,
        sale_closes_at=package.sale_closes_at,
        threshold_units=package.threshold_units,
        cap_units=package.cap_units,
        per_buyer_limit=package.per_buyer_limit,
        now=utc_now(),
    )
    if known_regions is not None:
        check_regions_known("quantities", package.quantities, known_regions)
    if stray := sorted(set(package.pickup_points) - set(package.quantities)):
        raise InvalidField("pickup_points", f"region(s) {', '.join(stray)} are not among the package's quantities")


async def create_package(
    session: AsyncSession, data: PackageCreate, community_id: UUID | None, known_regions: Collection[str]
) -> PackagePublic:
    """`community_id` is the leader's own; an operator names the community in the body."""
    if community_id is not None and data.community_id not in (None, community_id):
        raise InvalidField("community_id", "a leader drafts for their own community only: leave it out")
    owner = community_id or data.community_id
    if owner is None:
        raise InvalidField("community_id", "an operator says which community the package is for")
    if await session.get(Community, owner) is None:
        raise InvalidField("community_id", f"no community {owner}")
    _check_package(data, known_regions)
    package = DemandPackage.model_validate(data.model_dump(exclude={"community_id"}), update={"community_id": owner})
    session.add(package)
    await session.flush()
    return package_public(package)


async def list_packages(
    session: AsyncSession, community_id: UUID | None, status: PackageStatus | None, limit: int, offset: int
) -> list[PackagePublic]:
    query = select(DemandPackage)
    if community_id is not None:
        query = query.where(DemandPackage.community_id == community_id)
    if status is not None:
        query = query.where(DemandPackage.status == status)
    query = query.order_by(col(DemandPackage.created_at), col(DemandPackage.id)).limit(limit).offset(offset)
    return [package_public(package) for package in (await session.exec(query)).all()]


async def update_package(
    session: AsyncSession,
    package_id: UUID,
    community_id: UUID | None,
    data: PackageUpdate,
    known_regions: Collection[str] | None,
) -> PackagePublic:
    """Change a draft's terms; `known_regions` is needed when the quantities change."""
    package = await get_package(session, package_id, community_id, lock=True)
    check_editable(package.status)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(package, name, value)
    _check_package(package, known_regions if "quantities" in data.model_fields_set else None)
    package.updated_at = utc_now()
    await session.flush()
    return package_public(package)


async def move_package(
    session: AsyncSession, package: DemandPackage, step: PackageStep, actor: str, reason: str | None = None
) -> DemandPackage:
    """Take one step of the package's state machine and record it in its history; the next flush writes both.

    Load the package with `get_package(..., lock=True)` first, so that two moves cannot both start from the same
    status. InvalidTransition (409) when the status does not allow the step; nothing changes then."""
    if step == PackageStep.CANCEL and not reason:
        raise InvalidField("reason", "say why the package is cancelled")
    target = next_status(package.status, step)
    session.add(
        PackageTransition(
            package_id=package.id, actor=actor, from_status=package.status, to_status=target, step=step, reason=reason
        )
    )
    package.status, package.updated_at = target, utc_now()
    return package


async def cancel_package(
    session: AsyncSession, package_id: UUID, community_id: UUID | None, actor: str, reason: str
) -> PackagePublic:
    package = await get_package(session, package_id, community_id, lock=True)
    await move_package(session, package, PackageStep.CANCEL, actor, reason)
    await session.flush()
    return package_public(package)


async def package_history(
    session: AsyncSession, package_id: UUID, community_id: UUID | None
) -> Sequence[PackageTransition]:
    await get_package(session, package_id, community_id)
    query = select(PackageTransition).where(PackageTransition.package_id == package_id)
    return (await session.exec(query.order_by(col(PackageTransition.at), col(PackageTransition.id)))).all()


# --- the group's sign-up (接龙) ----------------------------------------------------------------------------------


async def _signup_of(session: AsyncSession, package: DemandPackage) -> Signup:
    signup = (await session.exec(select(Signup).where(Signup.package_id == package.id))).first()
    if signup is None:
        raise NotFound(f"package {package.id} has no sign-up: open one first")
    return signup


def _signup_is_open(signup: Signup, package: DemandPackage) -> bool:
    return is_open(
        package_is_draft=package.status == PackageStatus.DRAFT,
        closes_at=signup.closes_at,
        closed_at=signup.closed_at,
        now=utc_now(),
    )


async def _signup_public(session: AsyncSession, signup: Signup, package: DemandPackage) -> SignupPublic:
    query = select(SignupEntry).where(SignupEntry.signup_id == signup.id)
    entries = (await session.exec(query.order_by(col(SignupEntry.created_at), col(SignupEntry.id)))).all()
    totals = totals_by_region((Entry(e.region, e.quantity) for e in entries), package.quantities)
    return SignupPublic(
        package_id=package.id,
        token=signup.token,
        per_person_max=signup.per_person_max,
        closes_at=signup.closes_at,
        closed_at=signup.closed_at,
        open=_signup_is_open(signup, package),
        totals=totals,
        total_units=sum(totals.values()),
        entries=[SignupEntryPublic.model_validate(entry) for entry in entries],
    )


async def open_signup(
    session: AsyncSession, package_id: UUID, community_id: UUID | None, data: SignupOpen
) -> SignupPublic:
    package = await get_package(session, package_id, community_id, lock=True)
    check_editable(package.status)
    if data.closes_at is not None and data.closes_at <= utc_now():
        raise InvalidField("closes_at", "is in the past")
    if (await session.exec(select(Signup).where(Signup.package_id == package.id))).first() is not None:
        raise SignupExists(f"package {package.id} already has a sign-up")
    signup = Signup(
        package_id=package.id,
        token=secrets.token_urlsafe(24),
        per_person_max=data.per_person_max,
        closes_at=data.closes_at,
    )
    session.add(signup)
    await session.flush()
    return await _signup_public(session, signup, package)


async def signup_for_leader(session: AsyncSession, package_id: UUID, community_id: UUID | None) -> SignupPublic:
    package = await get_package(session, package_id, community_id)
    return await _signup_public(session, await _signup_of(session, package), package)


async def close_signup(session: AsyncSession, package_id: UUID, community_id: UUID | None) -> SignupPublic:
    package = await get_package(session, package_id, community_id, lock=True)
    signup = await _signup_of(session, package)
    signup.closed_at = signup.closed_at or utc_now()
    await session.flush()
    return await _signup_public(session, signup, package)


async def adopt_signup_totals(session: AsyncSession, package_id: UUID, community_id: UUID | None) -> PackagePublic:
    """The sign-up's totals become the package's quantities; the sign-up closes so they stay what was adopted."""
    package = await get_package(session, package_id, community_id, lock=True)
    check_editable(package.status)
    signup = await _signup_of(session, package)
    signup.closed_at = signup.closed_at or utc_now()
    package.quantities = (await _signup_public(session, signup, package)).totals
    package.updated_at = utc_now()
    await session.flush()
    return package_public(package)


async def _signup_by_token(session: AsyncSession, token: str) -> tuple[Signup, DemandPackage]:
    found = (
        await session.exec(
            select(Signup, DemandPackage)
            .join(DemandPackage, col(DemandPackage.id) == Signup.package_id)
            .where(Signup.token == token)
        )
    ).first()
    if found is None:
        raise NotFound("no sign-up has this link")
    return found


async def signup_invitation(session: AsyncSession, token: str) -> SignupInvitation:
    signup, package = await _signup_by_token(session, token)
    moves = await session.exec(
        select(PackageTransition.reason)
        .where(PackageTransition.package_id == package.id, PackageTransition.step == PackageStep.MOVE_SALE)
        .order_by(col(PackageTransition.at), col(PackageTransition.id))
    )
    return SignupInvitation(
        title=package.title,
        spec=package.spec,
        display_name=package.display_name,
        description=package.description,
        photo_url=photo_url(package),
        regions=sorted(package.quantities),
        per_person_max=signup.per_person_max,
        closes_at=signup.closes_at,
        open=_signup_is_open(signup, package),
        sale_opens_at=package.sale_opens_at,
        sale_closes_at=package.sale_closes_at,
        notices=[reason for reason in moves.all() if reason],
    )


async def _entry_by_phone(session: AsyncSession, signup_id: UUID, phone: str) -> SignupEntry | None:
    query = select(SignupEntry).where(SignupEntry.signup_id == signup_id, SignupEntry.phone == phone)
    return (await session.exec(query)).first()


async def sign_up(session: AsyncSession, token: str, data: SignupEntryCreate) -> tuple[SignupEntryPublic, bool]:
    """Add the member's entry, or replace the one with the same phone; returns it and whether it is new."""
    signup, package = await _signup_by_token(session, token)
    if not _signup_is_open(signup, package):
        raise SignupClosed("this sign-up is closed")
    check_entry(
        region=data.region, quantity=data.quantity, regions=package.quantities, per_person_max=signup.per_person_max
    )
    entry = await _entry_by_phone(session, signup.id, data.phone)
    if entry is None:
        try:
            async with session.begin_nested():
                entry = SignupEntry.model_validate(data.model_dump(), update={"signup_id": signup.id})
                session.add(entry)
                await session.flush()
            return SignupEntryPublic.model_validate(entry), True
        except IntegrityError:
            # The same phone signed up at the same moment and won the unique constraint: replace its entry.
            entry = await _entry_by_phone(session, signup.id, data.phone)
            if entry is None:
                raise
    entry.name, entry.region, entry.quantity, entry.updated_at = data.name, data.region, data.quantity, utc_now()
    await session.flush()
    return SignupEntryPublic.model_validate(entry), False


# --- sourcing rounds ----------------------------------------------------------------------------------------


async def start_round(session: AsyncSession, data: RoundCreate, community_id: UUID | None, actor: str) -> RoundPublic:
    """Ask suppliers to quote for draft packages: each moves to sourcing, the suppliers service hears of the round
    now and this service when its reply deadline comes (both through the outbox, sent after the commit)."""
    now = utc_now()
    if data.reply_by <= now:
        raise InvalidField("reply_by", "is in the past")
    query = select(DemandPackage).where(col(DemandPackage.id).in_(data.package_ids))
    # One lock order for every round, so that two rounds sharing packages cannot deadlock.
    locked = (await session.exec(query.order_by(col(DemandPackage.id)).with_for_update())).all()
    found = {package.id: package for package in locked if community_id in (None, package.community_id)}
    missing = [str(package_id) for package_id in data.package_ids if package_id not in found]
    if missing:  # the same answer for another community's package as for none: ids reveal nothing
        raise InvalidField("package_ids", f"no package {', '.join(missing)} that you may source")
    packages = [found[package_id] for package_id in data.package_ids]
    for package in packages:
        _check_can_join_round(package, data.reply_by)

    sourcing_round = SourcingRound(
        package_ids=[str(package.id) for package in packages],
        reply_by=data.reply_by,
        named_supplier_ids=[str(supplier_id) for supplier_id in data.named_supplier_ids],
        started_by=actor,
    )
    session.add(sourcing_round)
    await session.flush()
    for package in packages:
        package.round_id = sourcing_round.id
        await move_package(session, package, PackageStep.REQUEST_QUOTES, actor)
    outbox.publish(session, OutboxMessage, _round_opened(sourcing_round, packages))
    outbox.publish(session, OutboxMessage, SourcingRoundDue(round_id=sourcing_round.id), not_before=data.reply_by)
    await session.flush()
    return RoundPublic.model_validate(sourcing_round)


def _round_opened(sourcing_round: SourcingRound, packages: Sequence[DemandPackage]) -> RfqRoundOpened:
    return RfqRoundOpened(
        round_id=sourcing_round.id,
        reply_by=sourcing_round.reply_by,
        items=[_rfq_item(package) for package in packages],
        named_supplier_ids=[UUID(supplier_id) for supplier_id in sourcing_round.named_supplier_ids],
    )


async def record_rfqs_sent(session: AsyncSession, event: RfqRoundAcknowledged) -> None:
    """The suppliers service sent the round's RFQs: nothing more is owed. A repeated acknowledgement changes nothing."""
    sourcing_round = await session.get(SourcingRound, event.round_id, with_for_update=True)
    if sourcing_round is not None and sourcing_round.rfqs_acknowledged_at is None:
        sourcing_round.rfqs_acknowledged_at, sourcing_round.rfq_count = utc_now(), event.rfq_count


async def sweep_unacknowledged_rounds(session: AsyncSession, overdue_before: datetime) -> int:
    """Send again each round whose RFQs the suppliers service has not acknowledged (its message lost with a worker),
    while suppliers can still answer it; the suppliers service sends a round's RFQs once however often it hears."""
    now = utc_now()
    rounds = (
        await session.exec(
            select(SourcingRound).where(
                col(SourcingRound.rfqs_acknowledged_at).is_(None),
                col(SourcingRound.rfqs_requested_at) < overdue_before,
                col(SourcingRound.reply_by) > now,
            )
        )
    ).all()
    for sourcing_round in rounds:
        ids = [UUID(package_id) for package_id in sourcing_round.package_ids]
        packages = (await session.exec(select(DemandPackage).where(col(DemandPackage.id).in_(ids)))).all()
        order = {package_id: index for index, package_id in enumerate(ids)}
        packages = sorted(packages, key=lambda package: order[package.id])
        outbox.publish(session, OutboxMessage, _round_opened(sourcing_round, packages))
        sourcing_round.rfqs_requested_at = now
    return len(rounds)


def _check_can_join_round(package: DemandPackage, reply_by: datetime) -> None:
    try:
        next_status(package.status, PackageStep.REQUEST_QUOTES)
    except InvalidTransition as exc:
        raise InvalidTransition(f"package {package.id}: {exc}") from exc
    if sum(package.quantities.values()) == 0:
        raise InvalidField("package_ids", f"package {package.id} has no units: set its quantities first")
    if reply_by >= package.needed_by:
        raise InvalidField("reply_by", f"must be before package {package.id}'s needed_by, {package.needed_by}")


def _rfq_item(package: DemandPackage) -> RfqItem:
    return RfqItem(
        package_id=package.id,
        sku=package.sku,
        spec=package.spec,
        quantities={region: units for region, units in sorted(package.quantities.items()) if units > 0},
        needed_by=package.needed_by,
        min_quality=package.min_quality,
    )


async def get_round(session: AsyncSession, round_id: UUID, community_id: UUID | None) -> RoundPublic:
    """A round; a leader sees it when one of its packages is their community's."""
    sourcing_round = await session.get(SourcingRound, round_id)
    if sourcing_round is not None and community_id is not None:
        ours = (
            select(func.count())
            .select_from(DemandPackage)
            .where(
                col(DemandPackage.id).in_([UUID(package_id) for package_id in sourcing_round.package_ids]),
                DemandPackage.community_id == community_id,
            )
        )
        if not (await session.exec(ours)).one():
            sourcing_round = None
    if sourcing_round is None:
        raise NotFound(f"sourcing round {round_id} not found")
    return RoundPublic.model_validate(sourcing_round)
