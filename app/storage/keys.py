"""API keys: shown once, stored as a SHA-256 hash (the keys are random 256-bit secrets, so a
fast hash is enough; a slow KDF protects low-entropy passwords, which these are not)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
