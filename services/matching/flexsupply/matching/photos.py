"""Use cases of a package's product photo: kept by the service (a table row), served at a public URL."""

from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import NotFound
from flexsupply.kit.clock import utc_now
from flexsupply.matching import services
from flexsupply.matching.domain.photo import photo_type
from flexsupply.matching.models import PackagePhoto
from flexsupply.matching.schemas import PackagePublic


async def set_package_photo(
    session: AsyncSession, package_id: UUID, community_id: UUID | None, data: bytes
) -> PackagePublic:
    """Replace the package's photo (at any status: a photo is not one of the terms suppliers quoted on)."""
    media_type = photo_type(data)
    package = await services.get_package(session, package_id, community_id, lock=True)
    if package.photo_id is not None and (old := await session.get(PackagePhoto, package.photo_id)) is not None:
        await session.delete(old)
    photo = PackagePhoto(package_id=package.id, content_type=media_type, data=data)
    session.add(photo)
    package.photo_id, package.updated_at = photo.id, utc_now()
    await session.flush()
    return services.package_public(package)


async def package_photo(session: AsyncSession, photo_id: UUID) -> PackagePhoto:
    photo = await session.get(PackagePhoto, photo_id)
    if photo is None:
        raise NotFound(f"no photo {photo_id}")
    return photo
