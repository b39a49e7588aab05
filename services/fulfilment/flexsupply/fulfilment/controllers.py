"""HTTP layer of the fulfilment service: parse, authorise, call one use case, return a Public model.

Staff use the operator token; a supplier uses its own key and sees only its own production orders, parcels and
their addresses (another's is 'not found'); a buyer uses the link of their order (its token)."""

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter
from sqlmodel import Field, SQLModel

from flexsupply.fulfilment import cases, delivery, failures, production, stops
from flexsupply.fulfilment.deps import SERVICE
from flexsupply.fulfilment.domain.manifest import to_csv_file, to_json_rows
from flexsupply.fulfilment.domain.states import CaseStatus, ProductionStatus, ProductionStep, ShipmentStatus
from flexsupply.fulfilment.schemas import (
    AssignmentPublic,
    AwardedPackagePublic,
    BatchCreate,
    BatchPublic,
    BuyerDeliveryPublic,
    CaseCreate,
    CasePublic,
    CaseResolution,
    ExceptionPublic,
    FailureCreate,
    ProductionOrderDetail,
    ProductionOrderPublic,
    ShipmentMoveItem,
    ShipmentMoves,
    ShipmentPublic,
    ShipmentStepBody,
    SupplierFailurePublic,
    SupplierStopCreate,
    SupplierStopPublic,
)
from flexsupply.kit.auth import Principal, Role, caller_of, operators_only
from flexsupply.kit.db import Database
from flexsupply.kit.idempotency import IdempotencyKey
from flexsupply.kit.openapi import problem_responses
from flexsupply.kit.pagination import Limit, Offset
from flexsupply.kit.ratelimit import client_address, rate_limits
from flexsupply.kit.service import Caller, Idempotent, Transaction, database_key

OrderToken = Annotated[str, PathParameter(min_length=1, max_length=64)]
CSV = "text/csv; charset=utf-8"


def suppliers_and_operators(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if (caller := caller_of(connection)) is not None and caller.role is not Role.OPERATOR:
        caller.require_supplier()


def _supplier(caller: Principal) -> UUID | None:
    """Whose production orders the caller sees: a supplier its own, staff every one (None)."""
    return None if caller.role is Role.OPERATOR else caller.require_supplier()


class AwardedPackageController(Controller):
    """What matching awarded and fulfilment received: the input of production (operators)."""

    path = "/api/v1/awarded-packages"
    tags = ["fulfilment"]
    guards = [operators_only]

    @get("/")
    async def list_awarded_packages(
        self, transaction: Transaction, caller: Caller, limit: Limit = 100, offset: Offset = 0
    ) -> list[AwardedPackagePublic]:
        """Awarded packages received, newest first."""
        rows = await production.list_awarded(transaction, limit, offset)
        return [AwardedPackagePublic.model_validate(row) for row in rows]

    @get("/{package_id:uuid}")
    async def get_awarded_package(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]
    ) -> AwardedPackagePublic:
        """One awarded package: firm quantities, allocations and reserves per supplier, and its assignment job."""
        return AwardedPackagePublic.model_validate(await production.get_awarded(transaction, package_id))

    @get("/{package_id:uuid}/assignment")
    async def get_assignment(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]
    ) -> AssignmentPublic:
        """How the buyers' orders are assigned to production: the job's state and how many orders are split."""
        return await delivery.assignment_view(transaction, package_id)


class ProductionStepRequest(SQLModel):
    step: Literal[ProductionStep.ACCEPT, ProductionStep.START] = Field(
        description="accept, then start. To fail, POST .../failure."
    )


class ProductionOrderController(Controller):
    """Production orders: a supplier moves its own on and reports batches; staff see and act on every one."""

    path = "/api/v1/production-orders"
    tags = ["production"]
    guards = [suppliers_and_operators]

    @get("/")
    async def list_production_orders(
        self,
        transaction: Transaction,
        caller: Caller,
        package_id: FromQuery[UUID | None] = None,
        status: FromQuery[ProductionStatus | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[ProductionOrderPublic]:
        """A supplier's own production orders (its inbox), or every one for staff; newest first."""
        return await production.list_production_orders(
            transaction, _supplier(caller), package_id, status, limit, offset
        )

    @get("/{production_order_id:uuid}")
    async def get_production_order(
        self, transaction: Transaction, caller: Caller, production_order_id: FromPath[UUID]
    ) -> ProductionOrderDetail:
        """One production order with its batches, progress and every move (when, who)."""
        return await production.production_detail(transaction, production_order_id, _supplier(caller))

    @post("/{production_order_id:uuid}/moves", status_code=200)
    async def move_production_order(
        self,
        transaction: Transaction,
        caller: Caller,
        production_order_id: FromPath[UUID],
        data: JSONBody[ProductionStepRequest],
    ) -> ProductionOrderPublic:
        """Accept or start production (the supplier, its own); an illegal move is a 409 and changes nothing."""
        moved = await production.move_production(
            transaction, production_order_id, data.step, supplier_id=caller.require_supplier(), actor=caller.actor
        )
        return ProductionOrderPublic.model_validate(moved)

    @post("/{production_order_id:uuid}/batches", status_code=201)
    async def report_batch(
        self,
        transaction: Transaction,
        caller: Caller,
        production_order_id: FromPath[UUID],
        data: JSONBody[BatchCreate],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BatchPublic]:
        """A batch is ready: its quantity, lot number and quality check. A passed batch's parcels are planned at
        once (on the manifest); a failed check or a late batch is an exception staff see."""
        return await idempotency.respond(
            idempotency_key,
            f"report_batch:{production_order_id}",
            data,
            lambda: production.report_batch(
                transaction, production_order_id, caller.require_supplier(), data, caller.actor
            ),
            BatchPublic,
        )

    @post("/{production_order_id:uuid}/failure", status_code=202)
    async def fail_production_order(
        self,
        transaction: Transaction,
        caller: Caller,
        production_order_id: FromPath[UUID],
        data: JSONBody[FailureCreate],
    ) -> SupplierFailurePublic:
        """It will not make its unshipped remainder (staff, or the supplier itself): the backups take it over in a
        job whose progress GET /api/v1/failures/{id} shows. A second failure of the same order is a 409."""
        failure = await failures.mark_failed(
            transaction, production_order_id, actor=caller.actor, reason=data.reason, supplier_id=_supplier(caller)
        )
        return SupplierFailurePublic.model_validate(failure)

    @get("/{production_order_id:uuid}/shipments")
    async def list_shipments(
        self,
        transaction: Transaction,
        caller: Caller,
        production_order_id: FromPath[UUID],
        batch_id: FromQuery[UUID | None] = None,
        status: FromQuery[ShipmentStatus | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[ShipmentPublic]:
        """The production order's parcels (or one batch's), in manifest order."""
        return await production.list_shipments(
            transaction, _supplier(caller), production_order_id, batch_id, status, limit, offset
        )

    @get("/{production_order_id:uuid}/manifest")
    async def get_manifest(
        self,
        transaction: Transaction,
        caller: Caller,
        production_order_id: FromPath[UUID],
        batch_id: FromQuery[UUID | None] = None,
    ) -> list[dict[str, Any]]:
        """The courier's manifest as JSON: recipient, phone, address, region, item, quantity and lot per parcel."""
        lines = await production.manifest_lines(
            transaction, production_order_id, batch_id=batch_id, supplier_id=_supplier(caller)
        )
        return to_json_rows(lines)

    @get("/{production_order_id:uuid}/manifest.csv", media_type=CSV)
    async def get_manifest_csv(
        self,
        transaction: Transaction,
        caller: Caller,
        production_order_id: FromPath[UUID],
        batch_id: FromQuery[UUID | None] = None,
    ) -> Response[bytes]:
        """The same manifest as CSV (UTF-8 with a byte-order mark, so Excel reads it as UTF-8), for a courier's
        upload or a spreadsheet."""
        lines = await production.manifest_lines(
            transaction, production_order_id, batch_id=batch_id, supplier_id=_supplier(caller)
        )
        name = f"manifest-{production_order_id}{f'-{batch_id}' if batch_id else ''}.csv"
        return Response(
            to_csv_file(lines), media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )


class ShipmentController(Controller):
    """Parcels: the supplier ships (carrier and tracking number) and reports delivery or an exception."""

    path = "/api/v1/shipments"
    tags = ["production"]
    guards = [suppliers_and_operators]

    @post("/moves", status_code=200, responses=problem_responses(404))
    async def move_shipments(
        self, transaction: Transaction, caller: Caller, data: JSONBody[ShipmentMoves]
    ) -> list[ShipmentPublic]:
        """Move up to 1,000 parcels at once, all or none: a batch handed to a courier in one request."""
        return await production.move_shipments(
            transaction, data.moves, supplier_id=_supplier(caller), actor=caller.actor
        )

    @post("/{shipment_id:uuid}/moves", status_code=200)
    async def move_shipment(
        self, transaction: Transaction, caller: Caller, shipment_id: FromPath[UUID], data: JSONBody[ShipmentStepBody]
    ) -> ShipmentPublic:
        """Ship, deliver or report an exception for one parcel; an illegal move is a 409 and changes nothing."""
        move = ShipmentMoveItem(shipment_id=shipment_id, **data.model_dump())
        [moved] = await production.move_shipments(
            transaction, [move], supplier_id=_supplier(caller), actor=caller.actor
        )
        return moved


class FailureController(Controller):
    """Suppliers' failures and the backups' take-over (a job): its progress and outcome."""

    path = "/api/v1/failures"
    tags = ["production"]

    @get("/", guards=[operators_only])
    async def list_failures(
        self,
        transaction: Transaction,
        caller: Caller,
        package_id: FromQuery[UUID | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[SupplierFailurePublic]:
        return await failures.list_failures(transaction, package_id, limit, offset)

    @get("/{failure_id:uuid}", guards=[suppliers_and_operators])
    async def get_failure(
        self, transaction: Transaction, caller: Caller, failure_id: FromPath[UUID]
    ) -> SupplierFailurePublic:
        """queued while the backups take over; done with what moved where, or failed with why."""
        failure = await failures.get_failure(transaction, failure_id, _supplier(caller))
        return SupplierFailurePublic.model_validate(failure)

    @post("/{failure_id:uuid}/retry", status_code=202, guards=[operators_only])
    async def retry_failure(
        self, transaction: Transaction, caller: Caller, failure_id: FromPath[UUID]
    ) -> SupplierFailurePublic:
        """Try a take-over again that found no backup (409 unless it failed): its units are still waiting."""
        return SupplierFailurePublic.model_validate(await failures.retry(transaction, failure_id, actor=caller.actor))


class ExceptionController(Controller):
    """What staff must look at: failed checks, late production, failures, parcels in trouble."""

    path = "/api/v1/exceptions"
    tags = ["fulfilment"]
    guards = [operators_only]

    @get("/")
    async def list_exceptions(
        self,
        transaction: Transaction,
        caller: Caller,
        package_id: FromQuery[UUID | None] = None,
        open_only: FromQuery[bool] = True,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[ExceptionPublic]:
        return await production.list_exceptions(transaction, package_id, open_only, limit, offset)

    @post("/{exception_id:uuid}/handled", status_code=200)
    async def handle_exception(
        self, transaction: Transaction, caller: Caller, exception_id: FromPath[UUID]
    ) -> ExceptionPublic:
        found = await production.handle_exception(transaction, exception_id, actor=caller.actor)
        return ExceptionPublic.model_validate(found)


class CaseController(Controller):
    """After-sales cases, for staff to resolve."""

    path = "/api/v1/cases"
    tags = ["after-sales"]
    guards = [operators_only]

    @get("/")
    async def list_cases(
        self,
        transaction: Transaction,
        caller: Caller,
        package_id: FromQuery[UUID | None] = None,
        status: FromQuery[CaseStatus | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[CasePublic]:
        return await cases.list_cases(transaction, package_id, status, limit, offset)

    @post("/{case_id:uuid}/resolution", status_code=200)
    async def resolve_case(
        self, transaction: Transaction, caller: Caller, case_id: FromPath[UUID], data: JSONBody[CaseResolution]
    ) -> CasePublic:
        """Refund (minor units), resend (a new parcel from the same supplier) or reject; once (409 after)."""
        case = await cases.resolve_case(
            transaction,
            case_id,
            actor=caller.actor,
            resolution=data.resolution,
            refund_cents=data.refund_cents,
            note=data.note,
        )
        return CasePublic.model_validate(case)


class BuyerOrderController(Controller):
    """A buyer's order, by its link: its parcels and their states, notices, and after-sales cases."""

    path = "/api/v1/buyer-orders"
    tags = ["after-sales"]

    @get("/{buyer_token:str}", exclude_from_auth=True)
    async def get_buyer_order(self, transaction: Transaction, buyer_token: OrderToken) -> BuyerDeliveryPublic:
        """The order by the token of the buyer's link (the same as the sale's order page)."""
        return await delivery.buyer_view(transaction, buyer_token)

    @post("/{buyer_token:str}/cases", status_code=201, exclude_from_auth=True, responses=problem_responses(429))
    async def open_case(
        self,
        request: Request[Any, Any, Any],
        transaction: Transaction,
        buyer_token: OrderToken,
        data: JSONBody[CaseCreate],
    ) -> BuyerDeliveryPublic:
        """Damaged, wrong, missing or late: staff see it at once. The same complaint sent again is one case."""
        limits = rate_limits(request)
        await limits.hit(limits.cases_per_address, client_address(request))
        await cases.open_case(transaction, buyer_token, data.kind, data.description)
        return await delivery.buyer_view(transaction, buyer_token)


class SupplierStopController(Controller):
    """A supplier that stops altogether (staff): every open production order of it failed in one action, with one
    take-over plan, previewed before it is applied."""

    path = "/api/v1/supplier-stops"
    tags = ["production"]
    guards = [operators_only]

    @post("/", status_code=201)
    async def preview_supplier_stop(
        self, request: Request[Any, Any, Any], caller: Caller, data: JSONBody[SupplierStopCreate]
    ) -> SupplierStopPublic:
        """Preview (a dry run: nothing changes) which backups would take over each of the supplier's open
        production orders; 409 when it has none. Apply it with POST .../{id}/apply."""
        # No request transaction: the plan is solved with none held.
        database: Database = request.app.state[database_key(SERVICE)]
        return await stops.preview(database, data.supplier_id, data.reason, caller.actor)

    @get("/{stop_id:uuid}")
    async def get_supplier_stop(
        self, transaction: Transaction, caller: Caller, stop_id: FromPath[UUID]
    ) -> SupplierStopPublic:
        return stops.stop_public(await stops.get_stop(transaction, stop_id))

    @post("/{stop_id:uuid}/apply", status_code=202)
    async def apply_supplier_stop(
        self, transaction: Transaction, caller: Caller, stop_id: FromPath[UUID]
    ) -> SupplierStopPublic:
        """Fail every production order of the preview and issue its backups' production orders, all or none (409
        if anything it was planned from has changed: preview again); the failures' jobs then move the buyers'
        orders. Applying it again changes nothing."""
        return stops.stop_public(await stops.apply(transaction, stop_id, caller.actor))


CONTROLLERS = [
    AwardedPackageController,
    ProductionOrderController,
    ShipmentController,
    FailureController,
    SupplierStopController,
    ExceptionController,
    CaseController,
    BuyerOrderController,
]
