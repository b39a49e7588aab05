"""Providers: the unit of work, the caller (a group leader by their key), and the catalogue's regions."""

import time
from collections.abc import Iterable
from typing import Any, Final
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from flexsupply.clients.suppliers import SuppliersClient
from flexsupply.contracts.errors import PeerUnavailable
from flexsupply.kit.auth import LEADER_KEY_PREFIX, Principal, Role, caller_of
from flexsupply.kit.db import Database
from flexsupply.kit.peers import peer_client
from flexsupply.kit.service import database_key, transaction_provider
from flexsupply.kit.settings import KitSettings
from flexsupply.matching import services

SERVICE = "matching"
provide_transaction = transaction_provider(SERVICE)
MISSING_NAME_SECONDS: Final = 5.0


async def resolve_leader(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Principal | None:
    """A group leader's key (flk_...); other tokens are left to the next resolver without touching the database."""
    if not token.startswith(f"{LEADER_KEY_PREFIX}_"):
        return None
    database: Database = connection.app.state[database_key(SERVICE)]
    async with database.transaction() as session:
        leader = await services.leader_for_api_key(session, token)
    return Principal(Role.LEADER, leader_id=leader.id, community_id=leader.community_id) if leader else None


def leaders_and_operators(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    caller = caller_of(connection)
    if caller is not None and caller.role not in (Role.LEADER, Role.OPERATOR):
        raise PermissionDeniedException("only group leaders and operators may do this")


def community_scope(caller: Principal) -> UUID | None:
    """The community a caller's work is limited to: a leader's own; None for an operator (every community)."""
    return caller.require_leader() if caller.role is Role.LEADER else None


class RegionCatalogue:
    """The delivery regions the suppliers' catalogue knows. Handlers ask before their unit of work touches the
    database, so no transaction is held across the call; a suppliers service that is down is a 503."""

    def __init__(self, settings: KitSettings, names_ttl_seconds: float = 60.0) -> None:
        self.settings = settings
        self.names_ttl_seconds = names_ttl_seconds
        self._names: dict[str, str] = {}
        self._names_until = 0.0
        self._asked_at = 0.0

    async def codes(self) -> frozenset[str]:
        async with peer_client(self.settings, "suppliers") as http:
            return frozenset(await SuppliersClient(http, attempts=2).regions())

    async def names(self, codes: Iterable[str] = ()) -> dict[str, str]:
        """Code -> name, for pages: kept a few minutes (a buyer's page must not wait on the catalogue each time),
        asked again within seconds for a code not known yet (a region just declared), and when the catalogue cannot
        be reached, the names known last (a page then shows the codes it never knew)."""
        now = time.monotonic()
        missing = any(code not in self._names for code in codes)
        if now < self._names_until and not (missing and now >= self._asked_at + MISSING_NAME_SECONDS):
            return self._names
        self._asked_at = now
        try:
            async with peer_client(self.settings, "suppliers") as http:
                self._names = await SuppliersClient(http, attempts=1).regions()
            self._names_until = now + self.names_ttl_seconds
        except PeerUnavailable:
            self._names_until = now + min(30.0, self.names_ttl_seconds)  # asked again soon
        return self._names
