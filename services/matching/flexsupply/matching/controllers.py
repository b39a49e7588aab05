"""HTTP layer of the matching service: parse, authorise, call one use case, return a Public model."""

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import CacheControlHeader, UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from flexsupply.contracts.errors import NotFound
from flexsupply.kit.auth import leaders_only, operators_only, suppliers_only
from flexsupply.kit.idempotency import IdempotencyKey
from flexsupply.kit.openapi import problem_responses
from flexsupply.kit.pagination import DEFAULT_LIMIT, Limit, Offset
from flexsupply.kit.ratelimit import client_address, rate_limits
from flexsupply.kit.service import Caller, Idempotent, Transaction
from flexsupply.matching import awards, photos, runs, sale_window, services
from flexsupply.matching.deps import RegionCatalogue, community_scope, leaders_and_operators
from flexsupply.matching.domain.award import AwardConflict, AwardStatus
from flexsupply.matching.domain.package import PackageStatus
from flexsupply.matching.domain.photo import MAX_PHOTO_BYTES
from flexsupply.matching.problems import TRANSLATED_PROBLEMS
from flexsupply.matching.runs import NothingToMatch
from flexsupply.matching.schemas import (
    AwardDecline,
    AwardPublic,
    AwardRequest,
    CommunityCreate,
    CommunityCreated,
    CommunityPublic,
    FirmQuantitiesPublic,
    FirmQuantitiesSet,
    LeaderKeyIssued,
    LeaderKeyRotate,
    LeaderMe,
    MatchRunPublic,
    MatchRunRequest,
    PackageAwardsPublic,
    PackageCancel,
    PackageCreate,
    PackagePlanPublic,
    PackagePublic,
    PackageUpdate,
    ReservationPublic,
    RoundCreate,
    RoundPublic,
    SignupEntryCreate,
    SignupEntryPublic,
    SignupInvitation,
    SignupOpen,
    SignupPublic,
    TransitionPublic,
)
from flexsupply.matching.settings import MatchingSettings

Regions = NamedDependency[RegionCatalogue]
Settings = NamedDependency[MatchingSettings]
SignupToken = Annotated[str, PathParameter(min_length=1, max_length=64, description="The sign-up's link token.")]


@dataclass
class PhotoUpload:
    """The product photo: JPEG, PNG or WebP (told by its bytes), at most 3 MB."""

    photo: UploadFile


class CommunityController(Controller):
    """Operators register buyers' groups with their leaders, and manage the leaders' keys."""

    path = "/api/v1/communities"
    tags = ["communities"]

    @post("/", status_code=201, guards=[operators_only])
    async def create_community(
        self,
        transaction: Transaction,
        caller: Caller,
        data: JSONBody[CommunityCreate],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CommunityCreated]:
        """Register a community and its leader; the answer holds the leader's API key, shown this once."""
        return await idempotency.respond(
            idempotency_key,
            "create_community",
            data,
            lambda: services.create_community(transaction, data),
            CommunityCreated,
        )

    @get("/", guards=[operators_only])
    async def list_communities(
        self, transaction: Transaction, caller: Caller, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[CommunityPublic]:
        return await services.list_communities(transaction, limit, offset)

    @get("/{community_id:uuid}", guards=[operators_only])
    async def get_community(
        self, transaction: Transaction, caller: Caller, community_id: FromPath[UUID]
    ) -> CommunityPublic:
        return await services.get_community(transaction, community_id)

    @post("/{community_id:uuid}/leader-keys", status_code=201, guards=[operators_only])
    async def rotate_leader_key(
        self,
        transaction: Transaction,
        caller: Caller,
        community_id: FromPath[UUID],
        data: JSONBody[LeaderKeyRotate],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[LeaderKeyIssued]:
        """Issue the leader a new key (shown once), revoking the others unless told not to."""
        return await idempotency.respond(
            idempotency_key,
            f"rotate_leader_key:{community_id}",
            data,
            lambda: services.rotate_leader_key(transaction, community_id, data.revoke_existing),
            LeaderKeyIssued,
        )


class LeaderController(Controller):
    path = "/api/v1/leader"
    tags = ["communities"]

    @get("/me", guards=[leaders_only])
    async def who_am_i(self, transaction: Transaction, caller: Caller) -> LeaderMe:
        """The group leader this key belongs to, and their community."""
        assert caller.leader_id is not None  # leaders_only
        return await services.leader_me(transaction, caller.leader_id)


class PackageController(Controller):
    """A leader's demand packages (their community's only); operators see and act on every community's."""

    path = "/api/v1/packages"
    tags = ["packages"]

    @post("/", status_code=201, guards=[leaders_and_operators])
    async def create_package(
        self,
        transaction: Transaction,
        caller: Caller,
        regions: Regions,
        data: JSONBody[PackageCreate],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PackagePublic]:
        """Draft a demand package: what, how many per region (estimates), by when, and its flash sale's terms."""
        known = await regions.codes()  # before the unit of work touches the database
        return await idempotency.respond(
            idempotency_key,
            "create_package",
            data,
            lambda: services.create_package(transaction, data, community_scope(caller), known),
            PackagePublic,
        )

    @get("/", guards=[leaders_and_operators])
    async def list_packages(
        self,
        transaction: Transaction,
        caller: Caller,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
        status: FromQuery[PackageStatus | None] = None,
        community_id: Annotated[UUID | None, QueryParameter(description="Operators: one community's.")] = None,
    ) -> list[PackagePublic]:
        """A leader lists their community's packages; an operator every community's, or one's."""
        scope = community_scope(caller) or community_id
        return await services.list_packages(transaction, scope, status, limit, offset)

    @get("/{package_id:uuid}", guards=[leaders_and_operators])
    async def get_package(self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]) -> PackagePublic:
        package = await services.get_package(transaction, package_id, community_scope(caller))
        return services.package_public(package)

    @patch("/{package_id:uuid}", guards=[leaders_and_operators])
    async def update_package(
        self,
        transaction: Transaction,
        caller: Caller,
        regions: Regions,
        package_id: FromPath[UUID],
        data: JSONBody[PackageUpdate],
    ) -> PackagePublic:
        """Change a draft's terms; only the fields sent change. A planned package (its sale not yet open) may move
        its sale window, `sale_opens_at` and `sale_closes_at`, as far as the plan's lead times allow (409 saying
        why otherwise): its suppliers are told, and the members on its sign-up link see it. Anything else is a
        409 once sourcing has started."""
        known = await regions.codes() if "quantities" in data.model_fields_set else None
        return await sale_window.update_package(
            transaction, package_id, community_scope(caller), data, known, caller.actor
        )

    @post("/{package_id:uuid}/cancel", status_code=200, guards=[leaders_and_operators])
    async def cancel_package(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID], data: JSONBody[PackageCancel]
    ) -> PackagePublic:
        """Cancel the package, saying why (any time before it is awarded): its orders end, its awards are withdrawn
        and its reservations released."""
        return await awards.cancel_package(transaction, package_id, community_scope(caller), caller.actor, data.reason)

    @get("/{package_id:uuid}/history", guards=[leaders_and_operators])
    async def package_history(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]
    ) -> list[TransitionPublic]:
        """Every move of the package: when, who, from which status to which, by which step, and why."""
        moves = await services.package_history(transaction, package_id, community_scope(caller))
        return [TransitionPublic.model_validate(move) for move in moves]

    @post(
        "/{package_id:uuid}/photo",
        status_code=200,
        guards=[leaders_and_operators],
        request_max_body_size=MAX_PHOTO_BYTES + 100_000,
    )
    async def upload_photo(
        self,
        transaction: Transaction,
        caller: Caller,
        package_id: FromPath[UUID],
        data: Annotated[PhotoUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> PackagePublic:
        """Set the product photo buyers see on the sale page (replacing the last one); `photo_url` serves it."""
        content = await data.photo.read()
        return await photos.set_package_photo(transaction, package_id, community_scope(caller), content)

    @post("/{package_id:uuid}/signup", status_code=201, guards=[leaders_and_operators])
    async def open_signup(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID], data: JSONBody[SignupOpen]
    ) -> SignupPublic:
        """Open the group's sign-up (接龙) on a draft: share the answer's token as the members' link."""
        return await services.open_signup(transaction, package_id, community_scope(caller), data)

    @get("/{package_id:uuid}/signup", guards=[leaders_and_operators])
    async def get_signup(self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]) -> SignupPublic:
        """The sign-up's totals per region, and who signed up (names and phones: leaders and operators only)."""
        return await services.signup_for_leader(transaction, package_id, community_scope(caller))

    @post("/{package_id:uuid}/signup/close", status_code=200, guards=[leaders_and_operators])
    async def close_signup(self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]) -> SignupPublic:
        return await services.close_signup(transaction, package_id, community_scope(caller))

    @post("/{package_id:uuid}/signup/adopt", status_code=200, guards=[leaders_and_operators])
    async def adopt_signup_totals(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]
    ) -> PackagePublic:
        """Close the sign-up and make its totals per region the package's quantities."""
        return await services.adopt_signup_totals(transaction, package_id, community_scope(caller))


class PhotoController(Controller):
    path = services.PHOTOS_PATH
    tags = ["packages"]

    @get(
        "/{photo_id:uuid}",
        exclude_from_auth=True,
        media_type="application/octet-stream",
        responses={200: ResponseSpec(bytes, description="The photo (image/jpeg, image/png or image/webp).")},
        # A new photo gets a new id: a URL's bytes never change.
        cache_control=CacheControlHeader(max_age=31_536_000, public=True),
    )
    async def get_photo(self, transaction: Transaction, photo_id: FromPath[UUID]) -> Response[bytes]:
        photo = await photos.package_photo(transaction, photo_id)
        return Response(photo.data, media_type=photo.content_type, headers={"X-Content-Type-Options": "nosniff"})


class SignupController(Controller):
    """What group members reach through the leader's link, with no account: the link is the credential."""

    path = "/api/v1/signups"
    tags = ["signups"]

    @get("/{token:str}", exclude_from_auth=True)
    async def signup_invitation(self, transaction: Transaction, token: SignupToken) -> SignupInvitation:
        return await services.signup_invitation(transaction, token)

    @post(
        "/{token:str}/entries",
        exclude_from_auth=True,
        middleware=[TRANSLATED_PROBLEMS],  # a member's phone shows the refusal as it is
        responses={
            200: ResponseSpec(SignupEntryPublic, description="The entry with this phone, replaced."),
            **problem_responses(429),
        },
    )
    async def sign_up(
        self, request: Request, transaction: Transaction, token: SignupToken, data: JSONBody[SignupEntryCreate]
    ) -> Response[SignupEntryPublic]:
        """Sign up, or change one's entry: the same phone replaces it (201 when new, 200 when replaced)."""
        limits = rate_limits(request)
        await limits.hit(limits.signups_per_address, client_address(request))
        entry, created = await services.sign_up(transaction, token, data)
        return Response(entry, status_code=201 if created else 200)


class SourcingRoundController(Controller):
    path = "/api/v1/sourcing-rounds"
    tags = ["sourcing"]

    @post("/", status_code=201, guards=[leaders_and_operators])
    async def start_round(
        self,
        transaction: Transaction,
        caller: Caller,
        data: JSONBody[RoundCreate],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RoundPublic]:
        """Ask suppliers to quote for draft packages until `reply_by`: a leader's own packages, or an operator's
        choice across communities (one federated round)."""
        return await idempotency.respond(
            idempotency_key,
            "start_round",
            data,
            lambda: services.start_round(transaction, data, community_scope(caller), caller.actor),
            RoundPublic,
        )

    @get("/{round_id:uuid}", guards=[leaders_and_operators])
    async def get_round(self, transaction: Transaction, caller: Caller, round_id: FromPath[UUID]) -> RoundPublic:
        return await services.get_round(transaction, round_id, community_scope(caller))


class MatchRunController(Controller):
    """Matching runs: requested here or at a round's reply deadline, solved as jobs, read while they run."""

    path = "/api/v1"
    tags = ["matching runs"]

    @post("/sourcing-rounds/{round_id:uuid}/match-runs", status_code=202, guards=[leaders_and_operators])
    async def request_match_run(
        self,
        transaction: Transaction,
        caller: Caller,
        round_id: FromPath[UUID],
        data: JSONBody[MatchRunRequest],
        settings: Settings,
    ) -> MatchRunPublic:
        """Match the round now, before its reply deadline, or again (202: a worker solves it; poll the run)."""
        await services.get_round(transaction, round_id, community_scope(caller))
        time_limit = data.time_limit_seconds or settings.match_time_limit_seconds
        run = await runs.request_round_run(transaction, round_id, caller.actor, time_limit)
        if run is None:
            raise NothingToMatch(f"no package of round {round_id} is waiting for a plan")
        return runs.run_public(run)

    @get("/sourcing-rounds/{round_id:uuid}/match-runs", guards=[leaders_and_operators])
    async def list_match_runs(
        self, transaction: Transaction, caller: Caller, round_id: FromPath[UUID]
    ) -> list[MatchRunPublic]:
        """The round's runs, newest first."""
        await services.get_round(transaction, round_id, community_scope(caller))
        return [runs.run_public(run) for run in await runs.round_runs(transaction, round_id)]

    @get("/match-runs/{run_id:uuid}", guards=[leaders_and_operators])
    async def get_match_run(self, transaction: Transaction, caller: Caller, run_id: FromPath[UUID]) -> MatchRunPublic:
        """A run's progress, and once finished its plan per package, or why there is none."""
        return runs.run_public(await runs.visible_run(transaction, run_id, community_scope(caller)))

    @get("/match-runs/{run_id:uuid}/problem", guards=[leaders_and_operators])
    async def get_match_run_problem(
        self, transaction: Transaction, caller: Caller, run_id: FromPath[UUID]
    ) -> dict[str, Any]:
        """The exact problem the run solved (matching-problem.md's format): solve it again with `flexsupply match`."""
        run = await runs.visible_run(transaction, run_id, community_scope(caller))
        if run.problem is None:
            raise NotFound(f"match run {run_id} has not built its problem yet")
        return run.problem

    @get("/packages/{package_id:uuid}/plan", guards=[leaders_and_operators])
    async def get_package_plan(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]
    ) -> PackagePlanPublic:
        """The package's current plan: suppliers and reserves, its cost share, landed unit cost and sale caps."""
        package = await services.get_package(transaction, package_id, community_scope(caller))
        return await runs.current_plan(transaction, package)


class PackageAwardController(Controller):
    """A closed package's firm quantities and awards: its leader's or an operator's."""

    path = "/api/v1/packages"
    tags = ["awards"]

    @post("/{package_id:uuid}/firm-quantities", status_code=200, guards=[leaders_and_operators])
    async def set_firm_quantities(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID], data: JSONBody[FirmQuantitiesSet]
    ) -> FirmQuantitiesPublic:
        """What was sold per region (at most the plan's sale cap in each), until awarding starts. On a planned
        package, whose sale ran outside flexsupply, this closes it."""
        return await awards.set_firm_quantities(
            transaction, package_id, community_scope(caller), data.quantities, caller.actor
        )

    @post("/{package_id:uuid}/award", status_code=202, guards=[leaders_and_operators])
    async def award_package(
        self,
        transaction: Transaction,
        caller: Caller,
        package_id: FromPath[UUID],
        data: JSONBody[AwardRequest],
        settings: Settings,
    ) -> MatchRunPublic:
        """Match the firm quantities again and offer each chosen supplier its award (202: a worker solves it; the
        awards appear when the run is planned, and suppliers hear of them by webhook)."""
        run = await awards.request_award(
            transaction,
            package_id,
            community_scope(caller),
            caller.actor,
            data.time_limit_seconds or settings.match_time_limit_seconds,
            data.answer_within_hours or settings.award_answer_hours,
        )
        if run is None:
            raise AwardConflict(
                f"package {package_id} is awarded with its federated round: it waits until the round's other "
                "packages have closed (the last to close awards them all)"
            )
        return runs.run_public(run)

    @get("/{package_id:uuid}/awards", guards=[leaders_and_operators])
    async def package_awards(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]
    ) -> PackageAwardsPublic:
        """Every award and reservation of the package with its status and why, and the runs that made them (with
        the explanation when a run found no plan)."""
        return await awards.package_awards_view(transaction, package_id, community_scope(caller))


class SupplierAwardController(Controller):
    """A supplier's own awards and reservations: another's are 'not found'."""

    path = "/api/v1"
    tags = ["awards"]
    guards = [suppliers_only]

    @get("/awards")
    async def list_awards(
        self,
        transaction: Transaction,
        caller: Caller,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
        status: FromQuery[AwardStatus | None] = None,
    ) -> list[AwardPublic]:
        """The supplier's awards, newest first."""
        return await awards.supplier_awards(transaction, caller.require_supplier(), status, limit, offset)

    @get("/awards/{award_id:uuid}")
    async def get_award(self, transaction: Transaction, caller: Caller, award_id: FromPath[UUID]) -> AwardPublic:
        return await awards.supplier_award(transaction, award_id, caller.require_supplier())

    @post("/awards/{award_id:uuid}/accept", status_code=200)
    async def accept_award(self, transaction: Transaction, caller: Caller, award_id: FromPath[UUID]) -> AwardPublic:
        """Accept an offered award before its answer_by: the supplier commits to make it (409 once answered,
        withdrawn or past the deadline)."""
        return await awards.answer_award(transaction, award_id, caller.require_supplier(), accept=True)

    @post("/awards/{award_id:uuid}/decline", status_code=200)
    async def decline_award(
        self, transaction: Transaction, caller: Caller, award_id: FromPath[UUID], data: JSONBody[AwardDecline]
    ) -> AwardPublic:
        """Decline an offered award, saying why: the package is matched again without this supplier."""
        return await awards.answer_award(
            transaction, award_id, caller.require_supplier(), accept=False, reason=data.reason
        )

    @get("/reservations")
    async def list_reservations(
        self, transaction: Transaction, caller: Caller, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[ReservationPublic]:
        """The backup capacity the supplier holds for packages now, newest first."""
        return await awards.supplier_reservations(transaction, caller.require_supplier(), limit, offset)
