"""Providers: how a supplier's API key becomes the caller."""

from typing import Any

from litestar.connection import ASGIConnection

from flexsupply.kit.auth import Principal, Role
from flexsupply.kit.db import Database
from flexsupply.kit.service import database_key, transaction_provider
from flexsupply.suppliers import services

SERVICE = "suppliers"
provide_transaction = transaction_provider(SERVICE)


async def resolve_supplier(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Principal | None:
    database: Database = connection.app.state[database_key(SERVICE)]
    async with database.transaction() as session:
        supplier_id = await services.supplier_for_api_key(session, token)
    return Principal(Role.SUPPLIER, supplier_id=supplier_id) if supplier_id else None
