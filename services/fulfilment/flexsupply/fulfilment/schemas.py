"""Bodies only the fulfilment API uses."""

from datetime import datetime
from uuid import UUID

from sqlmodel import SQLModel

from flexsupply.contracts.events import AwardedAllocation, AwardedReserve


class AwardedPackagePublic(SQLModel):
    package_id: UUID
    sku: str
    needed_by: datetime
    currency: str
    firm_quantities: dict[str, int]
    allocations: list[AwardedAllocation]
    reserves: list[AwardedReserve]
    received_at: datetime
