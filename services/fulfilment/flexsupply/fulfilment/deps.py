"""Providers: the unit of work and the caller."""

from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException

from flexsupply.kit import auth
from flexsupply.kit.service import service_settings, transaction_provider

SERVICE = "fulfilment"
provide_transaction = transaction_provider(SERVICE)


async def provide_caller(request: Request, state: State) -> auth.Principal:
    if auth.is_operator_token(auth.bearer_token(request), service_settings(state, SERVICE).require_operator_token()):
        return auth.Principal(auth.Role.OPERATOR)
    raise NotAuthorizedException("unknown token")
