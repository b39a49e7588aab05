"""Providers: the unit of work and the caller."""

from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.kit import auth
from flexsupply.kit.service import service_settings, transaction_provider
from flexsupply.suppliers import services

SERVICE = "suppliers"
provide_transaction = transaction_provider(SERVICE)


async def provide_caller(request: Request, state: State, transaction: AsyncSession) -> auth.Principal:
    token = auth.bearer_token(request)
    if auth.is_operator_token(token, service_settings(state, SERVICE).require_operator_token()):
        return auth.Principal(auth.Role.OPERATOR)
    supplier_id = await services.supplier_for_api_key(transaction, token)
    if supplier_id is None:
        raise NotAuthorizedException("the API key is unknown or revoked")
    return auth.Principal(auth.Role.SUPPLIER, supplier_id)
