"""HTTP layer of the fulfilment service: parse, authorise, call one use case, return a Public model."""

from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath

from flexsupply.fulfilment import services
from flexsupply.fulfilment.schemas import AwardedPackagePublic
from flexsupply.kit.auth import operators_only
from flexsupply.kit.pagination import Limit, Offset
from flexsupply.kit.service import Caller, Transaction


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
        rows = await services.list_awarded_packages(transaction, limit, offset)
        return [AwardedPackagePublic.model_validate(row) for row in rows]

    @get("/{package_id:uuid}")
    async def get_awarded_package(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]
    ) -> AwardedPackagePublic:
        """One awarded package: firm quantities, allocations and reserves per supplier."""
        return AwardedPackagePublic.model_validate(await services.get_awarded_package(transaction, package_id))


CONTROLLERS = [AwardedPackageController]
