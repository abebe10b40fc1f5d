"""Webhook deliveries: fan-out of outbox events, claiming due deliveries with a lease, recording
attempts, and what the API shows.

Durability. Events are written in the article's transaction (app.storage.outbox). The
dispatcher claims undispatched events (FOR UPDATE SKIP LOCKED on PostgreSQL; see dialects)
and, in one transaction, inserts their Delivery rows and marks them dispatched: a crash
before that commit leaves the events undispatched for the next round; a crash after it
leaves pending deliveries. Deliveries are claimed the same way with a lease, so many workers
share them without sending one delivery twice at once; a worker that dies mid-send leaves
leases that expire, and the delivery is sent again with the same `webhook-id` (receivers
deduplicate on it, as the Standard Webhooks spec asks).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import NotFoundError
from app.domain.names import normalize_name
from app.domain.subscriptions import (
    PING,
    EventFacts,
    SubscriptionIndex,
    article_document,
    facts_of,
    ping_data,
)
from app.storage.dialects import claim_rows, dialect_insert
from app.storage.models import Article, Delivery, DeliveryAttempt, Event, Quote, Subscription, can_exist
from app.storage.outbox import new_event_id
from app.storage.pagination import decode_cursor, encode_cursor, page_of, row_id
from app.storage.subscriptions import active_secrets, get_subscription

DELIVERY_STATES = ("pending", "delivered", "failed", "dead")


# --------------------------------------------------------------------------- fan-out


async def dispatch_events(session: AsyncSession, index: SubscriptionIndex, *, now: datetime, owner: str,
                          lease_s: int, limit: int) -> tuple[int, int]:
    """Fan out up to `limit` undispatched events into deliveries. Returns (events, deliveries)."""
    due = and_(Event.dispatched_at.is_(None), or_(Event.lease_until.is_(None), Event.lease_until < now))
    ids = await claim_rows(session, Event, due=due, order_by=Event.created_at, limit=limit, owner=owner,
                           lease_until=now + timedelta(seconds=lease_s))
    if not ids:
        return 0, 0
    rows = (await session.execute(select(Event.id, Event.type, Event.payload).where(Event.id.in_(ids)))).all()
    # First pass: candidates from the index; note which article events need speakers or text.
    pending: list[tuple[str, EventFacts, list[Any], int | None]] = []
    need_speakers: set[int] = set()
    need_text: set[int] = set()
    for event_id, event_type, payload in rows:
        facts = facts_of(event_type, payload or {})
        candidates = index.candidates(facts)
        if not candidates:
            continue
        article_id = ((payload or {}).get("article") or {}).get("id")
        if event_type.startswith("article.") and article_id is not None:
            if any(c.speakers is not None for c in candidates):
                need_speakers.add(article_id)
            if any(c.matcher is not None for c in candidates):
                need_text.add(article_id)
        pending.append((event_id, facts, candidates, article_id))
    speakers = await _article_speakers(session, need_speakers) if need_speakers else {}
    documents = await _article_documents(session, need_text) if need_text else {}
    values: list[dict[str, Any]] = []
    for event_id, facts, candidates, article_id in pending:
        if article_id is not None and facts.type.startswith("article."):
            facts = EventFacts(facts.type, facts.feed_id, facts.language,
                               speakers.get(article_id, frozenset()), documents.get(article_id, ""))
        for spec in candidates:
            if SubscriptionIndex.accepts(spec, facts):
                values.append({"event_id": event_id, "subscription_id": spec.id, "state": "pending",
                               "attempts": 0, "next_attempt_at": now, "created_at": now})
    if values:
        # One executemany (batched into multi-row INSERTs by the driver layer); a row another
        # dispatcher already inserted for the same (event, subscription) is skipped.
        stmt = dialect_insert(session)(Delivery.__table__).on_conflict_do_nothing(
            index_elements=["event_id", "subscription_id"])
        await session.execute(stmt, values)
    await session.execute(update(Event).where(Event.id.in_(ids))
                          .values(dispatched_at=now, lease_until=None, lease_owner=None)
                          .execution_options(synchronize_session=False))
    return len(ids), len(values)


async def _article_speakers(session: AsyncSession, article_ids: set[int]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    stmt = select(Quote.article_id, Quote.speaker_name).where(Quote.article_id.in_(article_ids),
                                                              Quote.speaker_name.is_not(None))
    for article_id, name in (await session.execute(stmt)).all():
        found[article_id].add(normalize_name(name or ""))
    return {k: frozenset(v) for k, v in found.items()}


async def _article_documents(session: AsyncSession, article_ids: set[int]) -> dict[int, str]:
    stmt = select(Article.id, Article.title, Article.summary, Article.text).where(Article.id.in_(article_ids))
    return {i: article_document(t, s, x) for i, t, s, x in (await session.execute(stmt)).all()}


# --------------------------------------------------------------------------- claiming


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """Everything one attempt needs, read in the claiming round."""

    delivery_id: int
    subscription_id: int
    attempts: int
    event_id: str
    event_type: str
    event_created_at: datetime
    data: dict[str, Any]
    url: str
    secrets: tuple[str, ...]
    article_text: str | None
    include_text: bool


def _sendable_subscriptions() -> Any:
    return (select(Subscription.id)
            .where(Subscription.paused.is_(False), Subscription.disabled_reason.is_(None))
            .scalar_subquery())


async def claim_deliveries(session: AsyncSession, *, now: datetime, owner: str, lease_s: int,
                           limit: int) -> list[DeliveryJob]:
    due = and_(Delivery.state == "pending", Delivery.next_attempt_at <= now,
               or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
               Delivery.subscription_id.in_(_sendable_subscriptions()))
    ids = await claim_rows(session, Delivery, due=due, order_by=Delivery.next_attempt_at, limit=limit,
                           owner=owner, lease_until=now + timedelta(seconds=lease_s))
    if not ids:
        return []
    stmt = (select(Delivery.id, Delivery.subscription_id, Delivery.attempts, Event.id, Event.type,
                   Event.created_at, Event.payload, Subscription.url, Subscription.secret,
                   Subscription.previous_secret, Subscription.previous_secret_expires_at,
                   Subscription.include_text)
            .join(Event, Event.id == Delivery.event_id)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(Delivery.id.in_(ids)))
    rows = (await session.execute(stmt)).all()
    text_ids = {r[6].get("article", {}).get("id") for r in rows if r[11] and isinstance(r[6], dict)}
    text_ids.discard(None)
    texts: dict[int, str | None] = {}
    if text_ids:
        texts = dict((await session.execute(select(Article.id, Article.text).where(Article.id.in_(text_ids)))).all())
    jobs = []
    for (delivery_id, sub_id, attempts, event_id, event_type, created_at, payload, url, secret, prev,
         prev_expires, include_text) in rows:
        article_id = (payload or {}).get("article", {}).get("id") if isinstance(payload, dict) else None
        jobs.append(DeliveryJob(delivery_id, sub_id, attempts, event_id, event_type, created_at, payload or {},
                                url, tuple(active_secrets(secret, prev, prev_expires, now)),
                                texts.get(article_id) if article_id is not None else None, include_text))
    return jobs


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """The outcome of one attempt as the worker decided it (state and next time computed)."""

    delivery_id: int
    subscription_id: int
    state: str  # pending|delivered|failed|dead
    attempts: int
    next_attempt_at: datetime
    attempted_at: datetime
    status_code: int | None
    latency_ms: float | None
    excerpt: str | None
    error: str | None
    counted: bool = True  # False: not attempted (host rate limited locally), no attempt row


async def record_attempts(session: AsyncSession, records: Sequence[AttemptRecord], *, owner: str,
                          now: datetime, disable_after_s: int) -> list[int]:
    """Write outcomes in bulk (one executemany per statement). Only rows this worker still
    leases are updated. Returns ids of subscriptions disabled for failing too long."""
    if not records:
        return []
    table = Delivery.__table__
    stmt = (update(table)
            .where(table.c.id == bindparam("b_id"), table.c.lease_owner == owner)
            .values(state=bindparam("b_state"), attempts=bindparam("b_attempts"),
                    next_attempt_at=bindparam("b_next"), last_status=bindparam("b_status"),
                    last_error=bindparam("b_error"), delivered_at=bindparam("b_delivered"),
                    lease_until=None, lease_owner=None))
    await session.execute(stmt, [
        {"b_id": r.delivery_id, "b_state": r.state, "b_attempts": r.attempts, "b_next": r.next_attempt_at,
         "b_status": r.status_code, "b_error": r.error,
         "b_delivered": r.attempted_at if r.state == "delivered" else None}
        for r in records])
    attempts = [{"delivery_id": r.delivery_id, "attempted_at": r.attempted_at, "status_code": r.status_code,
                 "latency_ms": r.latency_ms, "response_excerpt": r.excerpt, "error": r.error}
                for r in records if r.counted]
    if attempts:
        await session.execute(insert(DeliveryAttempt), attempts)
    ok = {r.subscription_id for r in records if r.counted and r.state == "delivered"}
    bad = {r.subscription_id for r in records if r.counted and r.state != "delivered"} - ok
    if ok:
        await session.execute(update(Subscription)
                              .where(Subscription.id.in_(ok), Subscription.failing_since.is_not(None))
                              .values(failing_since=None).execution_options(synchronize_session=False))
    disabled: list[int] = []
    if bad:
        await session.execute(update(Subscription)
                              .where(Subscription.id.in_(bad), Subscription.failing_since.is_(None))
                              .values(failing_since=now).execution_options(synchronize_session=False))
        limit_at = now - timedelta(seconds=disable_after_s)
        errors = {r.subscription_id: r.error or f"HTTP {r.status_code}" for r in records if r.counted}
        candidates = (await session.execute(
            select(Subscription.id, Subscription.failing_since)
            .where(Subscription.id.in_(bad), Subscription.disabled_reason.is_(None),
                   Subscription.failing_since <= limit_at))).all()
        for sub_id, since in candidates:
            reason = (f"disabled: every delivery has failed since {since.isoformat() if since else '?'}; last error: "
                      f"{errors.get(sub_id, 'unknown')}")[:1000]
            await session.execute(update(Subscription).where(Subscription.id == sub_id)
                                  .values(disabled_reason=reason, version=Subscription.version + 1, updated_at=now)
                                  .execution_options(synchronize_session=False))
            disabled.append(sub_id)
    return disabled


# --------------------------------------------------------------------------- API side


async def list_deliveries(session: AsyncSession, subscription_id: int, *, state: str | None,
                          cursor: str | None, limit: int) -> tuple[list[tuple[Delivery, Event, list[DeliveryAttempt]]],
                                                                   str | None]:
    """Newest first, each with its event and attempts (oldest attempt first)."""
    await get_subscription(session, subscription_id)
    stmt = (select(Delivery, Event).join(Event, Event.id == Delivery.event_id)
            .where(Delivery.subscription_id == subscription_id).order_by(Delivery.id.desc()))
    if state is not None:
        stmt = stmt.where(Delivery.state == state)
    if cursor:
        (before_id,) = decode_cursor(cursor, row_id)
        stmt = stmt.where(Delivery.id < before_id)
    rows: list[tuple[Delivery, Event]] = [(d, e) for d, e in (await session.execute(page_of(stmt, limit))).all()]  # type: ignore[arg-type, misc]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1][0].id])
    attempts = await attempts_of(session, [d.id for d, _ in rows])
    return [(d, e, attempts.get(d.id, [])) for d, e in rows], next_cursor


async def attempts_of(session: AsyncSession, delivery_ids: list[int]) -> dict[int, list[DeliveryAttempt]]:
    out: dict[int, list[DeliveryAttempt]] = defaultdict(list)
    if delivery_ids:
        stmt = (select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(delivery_ids))
                .order_by(DeliveryAttempt.id))
        for attempt in (await session.execute(stmt)).scalars():
            out[attempt.delivery_id].append(attempt)
    return out


async def get_delivery(session: AsyncSession, delivery_id: int) -> tuple[Delivery, Event, list[DeliveryAttempt]]:
    row = None if not can_exist(delivery_id) else (await session.execute(select(Delivery, Event).join(Event, Event.id == Delivery.event_id)
                                 .where(Delivery.id == delivery_id))).one_or_none()
    if row is None:
        raise NotFoundError(f"deliveries: no delivery with id {delivery_id}")
    delivery, event = row
    return delivery, event, (await attempts_of(session, [delivery_id])).get(delivery_id, [])


async def redeliver(session: AsyncSession, delivery_id: int, *, now: datetime) -> int:
    """Queue the delivery again now (same event, same webhook-id); its attempts are kept."""
    delivery, _, _ = await get_delivery(session, delivery_id)
    delivery.state = "pending"
    delivery.next_attempt_at = now
    delivery.lease_until = None
    delivery.lease_owner = None
    await session.flush()
    return delivery.id


async def create_ping(session: AsyncSession, subscription_id: int, *, now: datetime) -> int:
    """A `ping` event for one subscription, already dispatched: its one delivery is due now."""
    await get_subscription(session, subscription_id)
    event = Event(id=new_event_id(), type=PING, payload=ping_data(subscription_id), created_at=now,
                  dispatched_at=now)
    session.add(event)
    await session.flush()
    delivery = Delivery(event_id=event.id, subscription_id=subscription_id, state="pending", attempts=0,
                        next_attempt_at=now, created_at=now)
    session.add(delivery)
    await session.flush()
    return delivery.id

