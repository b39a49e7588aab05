"""Staff accounts: who may log in to the board. Passwords are kept as argon2id hashes (argon2-cffi), never as text.

Hashing takes tens of milliseconds of CPU and memory on purpose, so it runs off the event loop. An unknown email
costs a login as much as a wrong password (a hash is verified either way), so timing tells no one which emails
have accounts.
"""

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import InvalidField
from flexsupply.fulfilment.models import StaffAccount
from flexsupply.kit.clock import utc_now

# argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, 64 MiB, 3 passes); it names them in each hash,
# so raising them later rehashes each password at its next login.
HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


class StaffExists(Exception):
    """An account with this email exists already."""


@dataclass(frozen=True)
class StaffMember:
    """A logged-in member of staff, as the board's session keeps them."""

    id: UUID
    email: str
    name: str

    @property
    def actor(self) -> str:
        """Who did it, as recorded in histories."""
        return f"staff:{self.email}"[:100]


def normalize_email(email: str) -> str:
    normalized = email.strip().lower()
    local, _, domain = normalized.partition("@")
    if not local or "." not in domain or len(normalized) > 254 or any(c.isspace() for c in normalized):
        raise InvalidField("email", "is not an email address")
    return normalized


def check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidField("password", f"needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")


@functools.cache
def _decoy_hash() -> str:
    """A hash no password is known for, verified when the email is unknown."""
    return HASHER.hash("no account has this password; it only costs the same time")


# Passwords verified by this process: what a locked login must not add to (it is the work a guesser makes us do).
PASSWORD_CHECKS: Counter[str] = Counter()


def _verify(password_hash: str, password: str) -> bool:
    PASSWORD_CHECKS["argon2"] += 1
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def create_account(session: AsyncSession, email: str, name: str, password: str) -> StaffAccount:
    normalized = normalize_email(email)
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise InvalidField("name", "needs 1 to 100 printable characters")
    check_password(password)
    existing = await session.exec(select(StaffAccount.id).where(StaffAccount.email == normalized))
    if existing.first() is not None:
        raise StaffExists(f"a staff account for {normalized} exists already")
    password_hash = await anyio.to_thread.run_sync(HASHER.hash, password)
    account = StaffAccount(email=normalized, name=name, password_hash=password_hash)
    session.add(account)
    await session.flush()
    return account


async def authenticate(session: AsyncSession, email: str, password: str) -> StaffMember | None:
    """The member of staff these credentials belong to, or None; the same work whichever part is wrong."""
    try:
        normalized = normalize_email(email)
    except InvalidField:
        normalized = ""
    account = None
    if normalized:
        account = (await session.exec(select(StaffAccount).where(StaffAccount.email == normalized))).first()
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    stored = account.password_hash if account is not None else _decoy_hash()
    if not await anyio.to_thread.run_sync(_verify, stored, password) or account is None:
        return None
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = await anyio.to_thread.run_sync(HASHER.hash, password)
    return StaffMember(id=account.id, email=account.email, name=account.name)


async def session_is_current(session: AsyncSession, staff_id: UUID, since: datetime) -> bool:
    """A board session begun at `since` still stands: its account exists and has not logged out since."""
    account = await session.get(StaffAccount, staff_id)
    return account is not None and (account.sessions_valid_after is None or since > account.sessions_valid_after)


async def end_sessions(session: AsyncSession, staff_id: UUID) -> None:
    """Log out everywhere: every session of this account begun until now is over."""
    account = await session.get(StaffAccount, staff_id, with_for_update=True)
    if account is not None:
        account.sessions_valid_after = utc_now()
