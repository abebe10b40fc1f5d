"""Webhook subscriptions: CRUD, secret rotation, and the cached matching index.

Every change bumps `version`; `index_stamp()` (count, max id, sum of versions) is one cheap
aggregate, so each worker's in-memory `SubscriptionIndex` is rebuilt exactly when any process
changed a subscription, and otherwise costs one query per dispatch round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import NotFoundError
from app.domain.subscriptions import SubscriptionIndex, SubscriptionSpec, generate_secret
from app.storage.models import Subscription, can_exist
from app.storage.pagination import decode_cursor, finish_page, page_of, row_id


async def create_subscription(session: AsyncSession, *, url: str, events: list[str], flt: dict[str, Any],
                              description: str | None, include_text: bool, now: datetime) -> Subscription:
    sub = Subscription(url=url, events=events, filter=flt, description=description, include_text=include_text,
                       secret=generate_secret(), paused=False, created_at=now, updated_at=now, version=1)
    session.add(sub)
    await session.flush()
    return sub


async def get_subscription(session: AsyncSession, subscription_id: int) -> Subscription:
    sub = await session.get(Subscription, subscription_id) if can_exist(subscription_id) else None
    if sub is None:
        raise NotFoundError(f"subscriptions: no subscription with id {subscription_id}")
    return sub


async def list_subscriptions(session: AsyncSession, *, cursor: str | None,
                             limit: int) -> tuple[list[Subscription], str | None]:
    stmt = select(Subscription).order_by(Subscription.id)
    if cursor:
        (after_id,) = decode_cursor(cursor, row_id)
        stmt = stmt.where(Subscription.id > after_id)
    rows = list((await session.execute(page_of(stmt, limit))).scalars())
    return finish_page(rows, limit, lambda r: [r.id])


async def update_subscription(session: AsyncSession, subscription_id: int, changes: dict[str, Any],
                              now: datetime) -> Subscription:
    """Apply `changes` (url, events, filter, paused, description, include_text). Resuming
    (`paused: false`) or a new URL also re-enables a subscription disabled for failing."""
    sub = await get_subscription(session, subscription_id)
    for key, value in changes.items():
        setattr(sub, key, value)
    if changes.get("paused") is False or "url" in changes:
        sub.disabled_reason = None
        sub.failing_since = None
    sub.updated_at = now
    sub.version = sub.version + 1
    await session.flush()
    return sub


async def delete_subscription(session: AsyncSession, subscription_id: int) -> None:
    sub = await get_subscription(session, subscription_id)
    await session.delete(sub)
    await session.flush()


async def rotate_secret(session: AsyncSession, subscription_id: int, *, now: datetime,
                        overlap_s: int) -> Subscription:
    """New secret; the old one keeps signing beside it for `overlap_s`, so receivers can switch."""
    sub = await get_subscription(session, subscription_id)
    sub.previous_secret = sub.secret
    sub.previous_secret_expires_at = now + timedelta(seconds=overlap_s)
    sub.secret = generate_secret()
    sub.updated_at = now
    sub.version = sub.version + 1
    await session.flush()
    return sub


def active_secrets(secret: str, previous: str | None, previous_expires_at: datetime | None,
                   now: datetime) -> list[str]:
    if previous and previous_expires_at is not None and previous_expires_at > now:
        return [secret, previous]
    return [secret]


# --------------------------------------------------------------------------- matching index


async def index_stamp(session: AsyncSession) -> tuple[int, int, int]:
    stmt = select(func.count(Subscription.id), func.coalesce(func.max(Subscription.id), 0),
                  func.coalesce(func.sum(Subscription.version), 0))
    count, max_id, versions = (await session.execute(stmt)).one()
    return int(count), int(max_id), int(versions)


async def load_index(session: AsyncSession) -> SubscriptionIndex:
    """Every subscription that may receive events: paused ones too (their deliveries wait for
    the resume), disabled ones not."""
    stmt = (select(Subscription.id, Subscription.events, Subscription.filter)
            .where(Subscription.disabled_reason.is_(None)))
    specs = []
    for sub_id, events, flt in (await session.execute(stmt)).all():
        try:
            specs.append(SubscriptionSpec.build(sub_id, events, flt))
        except Exception:  # a stored q the current parser rejects: match nothing rather than everything
            specs.append(SubscriptionSpec(id=sub_id, events=frozenset(), q=(flt or {}).get("q")))
    return SubscriptionIndex(specs)


@dataclass
class SubscriptionCache:
    """One worker's matching index, rebuilt when the stamp changes."""

    stamp: tuple[int, int, int] | None = None
    index: SubscriptionIndex | None = None
    rebuilds: int = 0

    async def get(self, session: AsyncSession) -> SubscriptionIndex:
        stamp = await index_stamp(session)
        if self.index is None or stamp != self.stamp:
            self.index = await load_index(session)
            self.stamp = stamp
            self.rebuilds += 1
        return self.index
