"""API keys: shown once, stored as a SHA-256 hash (the keys are random 256-bit secrets, so a
fast hash is enough; a slow KDF protects low-entropy passwords, which these are not)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.errors import NotFoundError
from app.storage.models import ApiKey

SCOPES = ("read", "admin")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(session: AsyncSession, *, scope: str, name: str | None, now: datetime) -> tuple[ApiKey, str]:
    if scope not in SCOPES:
        raise ValueError(f"keys: scope must be one of {', '.join(SCOPES)}")
    plain = "ni_" + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=plain[:10], key_hash=hash_key(plain), scope=scope, created_at=now)
    session.add(row)
    await session.flush()
    return row, plain


async def find_active_key(session: AsyncSession, plain: str) -> ApiKey | None:
    row = (await session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(plain)))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return row


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.execute(select(ApiKey).order_by(ApiKey.id))).scalars())


async def revoke_key(session: AsyncSession, key_id: int, *, now: datetime) -> ApiKey:
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFoundError(f"keys: no API key with id {key_id}")
    row.revoked_at = row.revoked_at or now
    return row


class KeyScopes:
    """The scope of each API key a process has recently seen, so a read does not pay a second
    database session to look its key up.

    A key is trusted for `ttl_s` after it was read from the database: a key revoked from any
    process (the CLI, another server) is refused by every process within `ttl_s`. Unknown and
    revoked keys are never remembered, so a new key works at once and guessing keys cannot
    fill the memory; at most `max_keys` keys are held. `ttl_s=0` looks every key up.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, ttl_s: float, max_keys: int = 1000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._max_keys = max_keys
        self._clock = clock
        self._known: dict[str, tuple[str, float]] = {}  # key hash -> (scope, checked at)

    async def scope_of(self, plain: str) -> str | None:
        digest = hash_key(plain)
        now = self._clock()
        known = self._known.get(digest)
        if known is not None and now - known[1] < self._ttl_s:
            return known[0]
        async with self._sessions() as session:
            row = (await session.execute(select(ApiKey.scope, ApiKey.revoked_at)
                                         .where(ApiKey.key_hash == digest))).one_or_none()
        if row is None or row.revoked_at is not None:
            self._known.pop(digest, None)
            return None
        if self._ttl_s > 0:
            if len(self._known) >= self._max_keys:
                self._known.clear()  # rare (a thousand live keys in one process); all are re-read
            self._known[digest] = (row.scope, now)
        return str(row.scope)
