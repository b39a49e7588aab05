"""HTTP layer of the suppliers service: parse, authorise, call one use case, return a Public model."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import Parameter
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.offers import EligibleOffers, OfferTerms, RegionCode
from flexsupply.kit.auth import Principal
from flexsupply.kit.idempotency import run_once
from flexsupply.suppliers import services
from flexsupply.suppliers.domain.catalogue import Need
from flexsupply.suppliers.models import IdempotencyRecord
from flexsupply.suppliers.schemas import (
    ApiKeyIssued,
    ApiKeyPublic,
    ApiKeyRotate,
    OfferPublic,
    RegionPublic,
    RegionUpsert,
    SupplierCreate,
    SupplierCreated,
    SupplierPublic,
    SupplierUpdate,
    WebhookDeliveryPublic,
)

IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        required=False,
        min_length=8,
        max_length=200,
        description="Repeat a create safely: the same key returns the first result.",
    ),
]
Limit = Annotated[int, Parameter(ge=1, le=500, default=100)]
Offset = Annotated[int, Parameter(ge=0, default=0)]


def _created(result: Any, replayed: bool) -> Response[Any]:
    return Response(result, status_code=200 if replayed else 201, headers={"Idempotent-Replayed": str(replayed).lower()})


class RegionController(Controller):
    path = "/api/v1/regions"
    tags = ["regions"]

    @get("/")
    async def list_regions(self, transaction: AsyncSession, caller: Principal) -> list[RegionPublic]:
        """Regions that offers may ship to."""
        return [RegionPublic.model_validate(r) for r in await services.list_regions(transaction)]

    @put("/{code:str}")
    async def upsert_region(
        self, transaction: AsyncSession, caller: Principal, code: Annotated[RegionCode, Parameter()], data: RegionUpsert
    ) -> RegionPublic:
        """Add or rename a delivery region (operators)."""
        caller.require_operator()
        return RegionPublic.model_validate(await services.upsert_region(transaction, code, data))


class SupplierController(Controller):
    """Operators register suppliers and manage their API keys."""

    path = "/api/v1/suppliers"
    tags = ["suppliers"]

    @post("/", status_code=201)
    async def create_supplier(
        self, transaction: AsyncSession, caller: Principal, data: SupplierCreate, idempotency_key: IdempotencyKey
    ) -> Response[SupplierCreated]:
        """Register a supplier; the answer holds its API key and webhook secret, shown this once."""
        caller.require_operator()
        result, replayed = await run_once(
            transaction,
            IdempotencyRecord,
            key=idempotency_key,
            scope=caller.scope + ":create_supplier",
            request=data,
            create=lambda: services.create_supplier(transaction, data),
            response_type=SupplierCreated,
        )
        return _created(result, replayed)

    @get("/")
    async def list_suppliers(
        self, transaction: AsyncSession, caller: Principal, limit: Limit, offset: Offset
    ) -> list[SupplierPublic]:
        caller.require_operator()
        return [SupplierPublic.model_validate(s) for s in await services.list_suppliers(transaction, limit, offset)]

    @get("/{supplier_id:uuid}")
    async def get_supplier(self, transaction: AsyncSession, caller: Principal, supplier_id: UUID) -> SupplierPublic:
        caller.require_operator()
        return SupplierPublic.model_validate(await services.get_supplier(transaction, supplier_id))

    @patch("/{supplier_id:uuid}")
    async def update_supplier(
        self, transaction: AsyncSession, caller: Principal, supplier_id: UUID, data: SupplierUpdate
    ) -> SupplierPublic:
        caller.require_operator()
        return SupplierPublic.model_validate(await services.update_supplier(transaction, supplier_id, data))

    @get("/{supplier_id:uuid}/api-keys")
    async def list_api_keys(
        self, transaction: AsyncSession, caller: Principal, supplier_id: UUID
    ) -> list[ApiKeyPublic]:
        caller.require_operator()
        return [ApiKeyPublic.model_validate(k) for k in await services.list_keys(transaction, supplier_id)]

    @post("/{supplier_id:uuid}/api-keys", status_code=201)
    async def rotate_api_key(
        self,
        transaction: AsyncSession,
        caller: Principal,
        supplier_id: UUID,
        data: ApiKeyRotate,
        idempotency_key: IdempotencyKey,
    ) -> Response[ApiKeyIssued]:
        """Issue a new key (shown once), revoking the others unless told not to."""
        caller.require_operator()
        result, replayed = await run_once(
            transaction,
            IdempotencyRecord,
            key=idempotency_key,
            scope=f"{caller.scope}:rotate_key:{supplier_id}",
            request=data,
            create=lambda: services.rotate_key(transaction, supplier_id, data.revoke_existing),
            response_type=ApiKeyIssued,
        )
        return _created(result, replayed)

    @delete("/{supplier_id:uuid}/api-keys/{key_id:uuid}", status_code=200)
    async def revoke_api_key(
        self, transaction: AsyncSession, caller: Principal, supplier_id: UUID, key_id: UUID
    ) -> ApiKeyPublic:
        caller.require_operator()
        return ApiKeyPublic.model_validate(await services.revoke_key(transaction, supplier_id, key_id))

    @get("/{supplier_id:uuid}/webhook-deliveries")
    async def list_webhook_deliveries(
        self, transaction: AsyncSession, caller: Principal, supplier_id: UUID
    ) -> list[WebhookDeliveryPublic]:
        """Events sent to the supplier's webhook and whether they arrived."""
        caller.require_operator()
        deliveries = await services.list_webhook_deliveries(transaction, supplier_id)
        return [WebhookDeliveryPublic.model_validate(d) for d in deliveries]


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["offers"]

    @get("/")
    async def who_am_i(self, transaction: AsyncSession, caller: Principal) -> SupplierPublic:
        """The supplier this API key belongs to."""
        return SupplierPublic.model_validate(await services.get_supplier(transaction, caller.require_supplier()))


class OfferController(Controller):
    """A supplier's own catalogue; operators may read every offer."""

    path = "/api/v1/offers"
    tags = ["offers"]

    @post("/", status_code=201)
    async def create_offer(
        self, transaction: AsyncSession, caller: Principal, data: OfferTerms, idempotency_key: IdempotencyKey
    ) -> Response[OfferPublic]:
        supplier_id = caller.require_supplier()
        result, replayed = await run_once(
            transaction,
            IdempotencyRecord,
            key=idempotency_key,
            scope=caller.scope + ":create_offer",
            request=data,
            create=lambda: services.create_offer(transaction, supplier_id, data),
            response_type=OfferPublic,
        )
        return _created(result, replayed)

    @get("/")
    async def list_offers(
        self,
        transaction: AsyncSession,
        caller: Principal,
        limit: Limit,
        offset: Offset,
        supplier_id: UUID | None = None,
        include_withdrawn: bool = False,
    ) -> list[OfferPublic]:
        """A supplier lists its own offers; an operator lists all, or one supplier's."""
        if caller.supplier_id is not None:
            supplier_id = caller.supplier_id
        offers = await services.list_offers(transaction, supplier_id, include_withdrawn, limit, offset)
        return [OfferPublic.model_validate(o) for o in offers]

    @get("/{offer_id:uuid}")
    async def get_offer(self, transaction: AsyncSession, caller: Principal, offer_id: UUID) -> OfferPublic:
        return OfferPublic.model_validate(await services.get_offer(transaction, offer_id, caller.supplier_id))

    @put("/{offer_id:uuid}")
    async def replace_offer(
        self, transaction: AsyncSession, caller: Principal, offer_id: UUID, data: OfferTerms
    ) -> OfferPublic:
        """Replace the offer's terms (reactivates a withdrawn offer)."""
        offer = await services.replace_offer(transaction, offer_id, caller.require_supplier(), data)
        return OfferPublic.model_validate(offer)

    @delete("/{offer_id:uuid}", status_code=200)
    async def withdraw_offer(self, transaction: AsyncSession, caller: Principal, offer_id: UUID) -> OfferPublic:
        """Withdraw the offer: it stays on record but is no longer eligible."""
        offer = await services.withdraw_offer(transaction, offer_id, caller.require_supplier())
        return OfferPublic.model_validate(offer)


class EligibleOfferController(Controller):
    path = "/api/v1/eligible-offers"
    tags = ["offers"]

    @get("/")
    async def eligible_offers(
        self,
        transaction: AsyncSession,
        caller: Principal,
        sku: str,
        needed_by: datetime,
        min_quality: Annotated[int, Parameter(ge=0, le=100)] = 0,
        regions: Annotated[list[str] | None, Parameter(description="Ships to at least one of these.")] = None,
    ) -> EligibleOffers:
        """Offers that can serve a need, with their suppliers' capacities: a matching problem's input (services)."""
        caller.require_operator()
        need = Need(sku=sku, needed_by=needed_by, min_quality=min_quality, regions=frozenset(regions or []))
        return await services.eligible_offers(transaction, need)
