"""HTTP layer of the suppliers service: parse, authorise, call one use case, return a Public model."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from flexsupply.contracts.errors import NotFound
from flexsupply.contracts.offers import EligibleOffers, OfferTerms
from flexsupply.contracts.rules import REGION_CODE_PATTERN
from flexsupply.contracts.sourcing import RfqStatus, RoundResponses, RoundRfqs
from flexsupply.kit.auth import operators_only, suppliers_only
from flexsupply.kit.idempotency import IdempotencyKey
from flexsupply.kit.pagination import DEFAULT_LIMIT, Limit, Offset
from flexsupply.kit.service import Caller, Idempotent, Transaction
from flexsupply.suppliers import services
from flexsupply.suppliers.domain.catalogue import Need
from flexsupply.suppliers.schemas import (
    ApiKeyIntrospect,
    ApiKeyIntrospection,
    ApiKeyIssued,
    ApiKeyPublic,
    ApiKeyRotate,
    OfferPublic,
    QuoteCreate,
    QuotePublic,
    RegionPublic,
    RegionUpsert,
    RfqDecline,
    RfqPublic,
    RfqSummary,
    ScorecardPublic,
    SupplierCreate,
    SupplierCreated,
    SupplierPublic,
    SupplierUpdate,
    WebhookDeliveryPublic,
    WebhookSecretIssued,
    WebhookSecretRotate,
)


class RegionController(Controller):
    path = "/api/v1/regions"
    tags = ["regions"]

    @get("/")
    async def list_regions(self, transaction: Transaction, caller: Caller) -> list[RegionPublic]:
        """Regions that offers may ship to."""
        return [RegionPublic.model_validate(r) for r in await services.list_regions(transaction)]

    @put("/{code:str}", guards=[operators_only])
    async def upsert_region(
        self,
        transaction: Transaction,
        caller: Caller,
        # litestar checks a parameter's own constraints, not pydantic's (RegionCode's pattern would be ignored).
        code: Annotated[str, PathParameter(pattern=REGION_CODE_PATTERN)],
        data: JSONBody[RegionUpsert],
    ) -> RegionPublic:
        """Add or rename a delivery region (operators)."""
        return RegionPublic.model_validate(await services.upsert_region(transaction, code, data))


class SupplierController(Controller):
    """Operators register suppliers and manage their API keys."""

    path = "/api/v1/suppliers"
    tags = ["suppliers"]

    @post("/", status_code=201, guards=[operators_only])
    async def create_supplier(
        self,
        transaction: Transaction,
        caller: Caller,
        data: JSONBody[SupplierCreate],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[SupplierCreated]:
        """Register a supplier; the answer holds its API key and webhook secret, shown this once."""
        return await idempotency.respond(
            idempotency_key,
            "create_supplier",
            data,
            lambda: services.create_supplier(transaction, data),
            SupplierCreated,
        )

    @get("/", guards=[operators_only])
    async def list_suppliers(
        self, transaction: Transaction, caller: Caller, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[SupplierPublic]:
        return [SupplierPublic.model_validate(s) for s in await services.list_suppliers(transaction, limit, offset)]

    @get("/{supplier_id:uuid}", guards=[operators_only])
    async def get_supplier(
        self, transaction: Transaction, caller: Caller, supplier_id: FromPath[UUID]
    ) -> SupplierPublic:
        return SupplierPublic.model_validate(await services.get_supplier(transaction, supplier_id))

    @patch("/{supplier_id:uuid}", guards=[operators_only])
    async def update_supplier(
        self,
        transaction: Transaction,
        caller: Caller,
        supplier_id: FromPath[UUID],
        data: JSONBody[SupplierUpdate],
    ) -> SupplierPublic:
        return SupplierPublic.model_validate(await services.update_supplier(transaction, supplier_id, data))

    @get("/{supplier_id:uuid}/api-keys", guards=[operators_only])
    async def list_api_keys(
        self, transaction: Transaction, caller: Caller, supplier_id: FromPath[UUID]
    ) -> list[ApiKeyPublic]:
        return [ApiKeyPublic.model_validate(k) for k in await services.list_keys(transaction, supplier_id)]

    @post("/{supplier_id:uuid}/api-keys", status_code=201, guards=[operators_only])
    async def rotate_api_key(
        self,
        transaction: Transaction,
        caller: Caller,
        supplier_id: FromPath[UUID],
        data: JSONBody[ApiKeyRotate],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ApiKeyIssued]:
        """Issue a new key (shown once), revoking the others unless told not to."""
        return await idempotency.respond(
            idempotency_key,
            f"rotate_key:{supplier_id}",
            data,
            lambda: services.rotate_key(transaction, supplier_id, data.revoke_existing),
            ApiKeyIssued,
        )

    @post("/{supplier_id:uuid}/webhook-secret", status_code=201, guards=[operators_only])
    async def rotate_webhook_secret(
        self,
        transaction: Transaction,
        idempotency: Idempotent,
        supplier_id: FromPath[UUID],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[WebhookSecretIssued]:
        """Issue a new webhook signing secret (shown once); events are signed with it from now on."""
        return await idempotency.respond(
            idempotency_key,
            f"rotate_webhook_secret:{supplier_id}",
            WebhookSecretRotate(),
            lambda: services.rotate_webhook_secret(transaction, supplier_id),
            WebhookSecretIssued,
        )

    @delete("/{supplier_id:uuid}/api-keys/{key_id:uuid}", status_code=200, guards=[operators_only])
    async def revoke_api_key(
        self, transaction: Transaction, caller: Caller, supplier_id: FromPath[UUID], key_id: FromPath[UUID]
    ) -> ApiKeyPublic:
        return ApiKeyPublic.model_validate(await services.revoke_key(transaction, supplier_id, key_id))

    @get("/{supplier_id:uuid}/webhook-deliveries", guards=[operators_only])
    async def list_webhook_deliveries(
        self, transaction: Transaction, caller: Caller, supplier_id: FromPath[UUID]
    ) -> list[WebhookDeliveryPublic]:
        """Events sent to the supplier's webhook and whether they arrived (resend one at
        `POST /api/v1/webhook-deliveries/{id}/resend`)."""
        deliveries = await services.list_webhook_deliveries(transaction, supplier_id)
        return [WebhookDeliveryPublic.model_validate(d) for d in deliveries]

    @get("/{supplier_id:uuid}/scorecard")
    async def get_scorecard(
        self, transaction: Transaction, caller: Caller, supplier_id: FromPath[UUID]
    ) -> ScorecardPublic:
        """The supplier's delivery record and quality score: operators read any supplier's, a supplier its own
        (another's is 'not found', so ids reveal nothing)."""
        if caller.supplier_id is not None and caller.supplier_id != supplier_id:
            raise NotFound(f"supplier {supplier_id} not found")
        return await services.get_scorecard(transaction, supplier_id)


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["offers"]

    @get("/", guards=[suppliers_only])
    async def who_am_i(self, transaction: Transaction, caller: Caller) -> SupplierPublic:
        """The supplier this API key belongs to."""
        return SupplierPublic.model_validate(await services.get_supplier(transaction, caller.require_supplier()))


class OfferController(Controller):
    """A supplier's own catalogue; operators may read every offer."""

    path = "/api/v1/offers"
    tags = ["offers"]

    @post("/", status_code=201, guards=[suppliers_only])
    async def create_offer(
        self,
        transaction: Transaction,
        caller: Caller,
        data: JSONBody[OfferTerms],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[OfferPublic]:
        supplier_id = caller.require_supplier()
        return await idempotency.respond(
            idempotency_key,
            "create_offer",
            data,
            lambda: services.create_offer(transaction, supplier_id, data),
            OfferPublic,
        )

    @get("/")
    async def list_offers(
        self,
        transaction: Transaction,
        caller: Caller,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
        supplier_id: FromQuery[UUID | None] = None,
        include_withdrawn: FromQuery[bool] = False,
    ) -> list[OfferPublic]:
        """A supplier lists its own offers; an operator lists all, or one supplier's."""
        if caller.supplier_id is not None:
            supplier_id = caller.supplier_id
        offers = await services.list_offers(transaction, supplier_id, include_withdrawn, limit, offset)
        return [OfferPublic.model_validate(o) for o in offers]

    @get("/{offer_id:uuid}")
    async def get_offer(self, transaction: Transaction, caller: Caller, offer_id: FromPath[UUID]) -> OfferPublic:
        return OfferPublic.model_validate(await services.get_offer(transaction, offer_id, caller.supplier_id))

    @put("/{offer_id:uuid}", guards=[suppliers_only])
    async def replace_offer(
        self, transaction: Transaction, caller: Caller, offer_id: FromPath[UUID], data: JSONBody[OfferTerms]
    ) -> OfferPublic:
        """Replace the offer's terms (reactivates a withdrawn offer)."""
        offer = await services.replace_offer(transaction, offer_id, caller.require_supplier(), data)
        return OfferPublic.model_validate(offer)

    @delete("/{offer_id:uuid}", status_code=200, guards=[suppliers_only])
    async def withdraw_offer(self, transaction: Transaction, caller: Caller, offer_id: FromPath[UUID]) -> OfferPublic:
        """Withdraw the offer: it stays on record but is no longer eligible."""
        offer = await services.withdraw_offer(transaction, offer_id, caller.require_supplier())
        return OfferPublic.model_validate(offer)


class EligibleOfferController(Controller):
    path = "/api/v1/eligible-offers"
    tags = ["offers"]

    @get("/", guards=[operators_only])
    async def eligible_offers(
        self,
        transaction: Transaction,
        caller: Caller,
        sku: FromQuery[str],
        needed_by: FromQuery[datetime],
        min_quality: Annotated[int, QueryParameter(ge=0, le=100)] = 0,
        regions: Annotated[list[str] | None, QueryParameter(description="Ships to at least one of these.")] = None,
    ) -> EligibleOffers:
        """Offers that can serve a need, with their suppliers' capacities: a matching problem's input (services)."""
        need = Need(sku=sku, needed_by=needed_by, min_quality=min_quality, regions=frozenset(regions or []))
        return await services.eligible_offers(transaction, need)


class ApiKeyIntrospectionController(Controller):
    """Other services authenticate suppliers through this, so a supplier's key works on every service."""

    path = "/api/v1/api-keys/introspect"
    tags = ["suppliers"]

    @post("/", status_code=200, guards=[operators_only])
    async def introspect(
        self, transaction: Transaction, caller: Caller, data: JSONBody[ApiKeyIntrospect]
    ) -> ApiKeyIntrospection:
        """Whose API key this is: `active` false for an unknown or revoked key (services)."""
        supplier_id = await services.supplier_for_api_key(transaction, data.api_key)
        return ApiKeyIntrospection(active=supplier_id is not None, supplier_id=supplier_id)


class RfqController(Controller):
    """A supplier's requests for quotation: its inbox, and its answers (quotes and declines) until each deadline."""

    path = "/api/v1/rfqs"
    tags = ["rfqs"]
    guards = [suppliers_only]

    @get("/")
    async def list_rfqs(
        self,
        transaction: Transaction,
        caller: Caller,
        status: FromQuery[RfqStatus | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> list[RfqSummary]:
        """The supplier's own RFQs, newest first; `status` keeps the open, answered or expired ones."""
        return await services.list_rfqs(transaction, caller.require_supplier(), status, limit, offset)

    @get("/{rfq_id:uuid}")
    async def get_rfq(self, transaction: Transaction, caller: Caller, rfq_id: FromPath[UUID]) -> RfqPublic:
        """One of the supplier's RFQs with its items, deadline, quotes and decline (another supplier's: 404)."""
        return await services.get_rfq(transaction, rfq_id, caller.require_supplier())

    @post("/{rfq_id:uuid}/quotes", status_code=201)
    async def submit_quote(
        self,
        transaction: Transaction,
        caller: Caller,
        rfq_id: FromPath[UUID],
        data: JSONBody[QuoteCreate],
        idempotency: Idempotent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[QuotePublic]:
        """Quote one of the RFQ's skus: an offer's terms, validated as an offer's are, plus `valid_until`. A new
        quote for a sku supersedes the previous one (kept, marked superseded); quoting after declining withdraws
        the decline. A sku the RFQ does not ask about is a 400; after the reply deadline, a 409."""
        supplier_id = caller.require_supplier()
        return await idempotency.respond(
            idempotency_key,
            f"submit_quote:{rfq_id}",
            data,
            lambda: services.submit_quote(transaction, supplier_id, rfq_id, data),
            QuotePublic,
        )

    @post("/{rfq_id:uuid}/decline", status_code=200)
    async def decline_rfq(
        self, transaction: Transaction, caller: Caller, rfq_id: FromPath[UUID], data: JSONBody[RfqDecline]
    ) -> RfqPublic:
        """Decline the RFQ, saying why: its current quotes are withdrawn (kept, marked withdrawn). Declining again
        replaces the reason; a later quote withdraws the decline. After the reply deadline, a 409."""
        return await services.decline_rfq(transaction, caller.require_supplier(), rfq_id, data)


class RfqRoundController(Controller):
    """What matching reads of a sourcing round it opened (services, with the operator token)."""

    path = "/api/v1/rfq-rounds"
    tags = ["rfqs"]
    guards = [operators_only]

    @get("/{round_id:uuid}")
    async def get_round(self, transaction: Transaction, caller: Caller, round_id: FromPath[UUID]) -> RoundRfqs:
        """Every RFQ the round sent: its supplier, status and when it answered. 404 until the round's opening event
        has been handled here."""
        return await services.round_rfqs(transaction, round_id)

    @get("/{round_id:uuid}/responses")
    async def get_round_responses(
        self, transaction: Transaction, caller: Caller, round_id: FromPath[UUID]
    ) -> RoundResponses:
        """The round's current, still valid quotes (as offers: `id` is the quote's), the suppliers that declined,
        and the capacity of every supplier asked: the input matching plans the round with."""
        return await services.round_responses(transaction, round_id)


class WebhookDeliveryController(Controller):
    """A supplier's own webhook deliveries: every notice sent to it, whether it arrived, and a resend."""

    path = "/api/v1/webhook-deliveries"
    tags = ["suppliers"]

    @get("/", guards=[suppliers_only])
    async def list_own_webhook_deliveries(
        self, transaction: Transaction, caller: Caller
    ) -> list[WebhookDeliveryPublic]:
        """Every event sent, or still being sent, to this supplier's webhook, with its body, oldest first."""
        deliveries = await services.list_webhook_deliveries(transaction, caller.require_supplier())
        return [WebhookDeliveryPublic.model_validate(d) for d in deliveries]

    @post("/{delivery_id:uuid}/resend", status_code=202)
    async def resend_webhook_delivery(
        self, transaction: Transaction, caller: Caller, delivery_id: FromPath[UUID]
    ) -> WebhookDeliveryPublic:
        """Send the event again now, with the same `webhook-id`, on a fresh retry schedule (a supplier its own,
        another's is 404; operators any). 409 when the supplier has no webhook URL."""
        delivery = await services.resend_webhook(transaction, delivery_id, caller.supplier_id)
        return WebhookDeliveryPublic.model_validate(delivery)
