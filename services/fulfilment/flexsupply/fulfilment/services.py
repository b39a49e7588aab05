"""Use cases of the fulfilment service, each over the caller's session: they flush, never commit."""

from collections.abc import Sequence
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import NotFound
from flexsupply.contracts.events import PackageAwarded
from flexsupply.fulfilment.models import AwardedPackage


async def record_awarded_package(session: AsyncSession, event: PackageAwarded, event_id: UUID) -> bool:
    """Record what production is to make; a redelivered event changes nothing. Returns whether it was new."""
    if await session.get(AwardedPackage, event.package_id) is not None:
        return False
    payload = event.model_dump(mode="json")
    session.add(
        AwardedPackage(
            package_id=event.package_id,
            sku=event.sku,
            needed_by=event.needed_by,
            currency=event.currency,
            firm_quantities=event.firm_quantities,
            allocations=payload["allocations"],
            reserves=payload["reserves"],
            event_id=event_id,
        )
    )
    await session.flush()
    return True


async def get_awarded_package(session: AsyncSession, package_id: UUID) -> AwardedPackage:
    awarded = await session.get(AwardedPackage, package_id)
    if awarded is None:
        raise NotFound(f"no awarded package {package_id} has reached fulfilment")
    return awarded


async def list_awarded_packages(session: AsyncSession, limit: int, offset: int) -> Sequence[AwardedPackage]:
    query = select(AwardedPackage).order_by(col(AwardedPackage.received_at).desc()).limit(limit).offset(offset)
    return (await session.exec(query)).all()
