"""The transactional outbox: events are rows written in the same transaction as the change
they announce, so a crash after commit still notifies and a crash before commit notifies
nothing (the article does not exist either). Webhook workers fan them out to subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Row, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.storage.models import Article, Delivery, Event, Quote

# Rows per INSERT: each payload is encoded as JSON on the event loop before its statement runs,
# so a poll of many quoted articles is written in statements that each hold the loop briefly.
EVENTS_PER_STATEMENT = 500


def new_event_id() -> str:
    # The Standard Webhooks `webhook-id`: unique, stable across retries of one delivery.
    return f"msg_{uuid.uuid4().hex}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def article_payload(article: Article) -> dict[str, Any]:
    return {
        "id": article.id, "feed_id": article.feed_id, "url": article.url, "canonical_url": article.canonical_url,
        "title": article.title, "source": article.source, "published_at": _iso(article.published_at),
        "language": article.language, "story_id": article.story_id, "summary": article.summary,
        "revision": article.revision, "quote_count": article.quote_count,
    }


def article_event(event_type: str, article: Article) -> tuple[str, dict[str, Any]]:
    return event_type, {"article": article_payload(article)}


def quote_event(quote: Quote | Row[Any], article: Article,
                article_part: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """`quote` is a stored Quote, or a row of the quotes table (as ingestion's INSERT returns).
    `article_part`: the article's `article_payload`, made once for all of its quotes."""
    return "quote.created", {
        "quote": {"id": quote.id, "text": quote.text, "start": quote.start, "end": quote.end, "kind": quote.kind,
                  "speaker": quote.speaker_name, "speaker_id": quote.speaker_id,
                  "speaker_title": quote.speaker_title, "speaker_type": quote.speaker_type,
                  "verb": quote.verb, "channel": quote.channel, "confidence": quote.confidence},
        "article": article_part if article_part is not None else article_payload(article),
    }


async def record_events(session: AsyncSession, events: Iterable[tuple[str, dict[str, Any]]], *,
                        now: datetime) -> list[str]:
    """Add events to the outbox, EVENTS_PER_STATEMENT rows a statement, inside the caller's
    transaction; their ids. `events` is taken a statement's worth at a time, so a generator's
    events are made between statements, not all before the first."""
    ids: list[str] = []
    pending = iter(events)
    while chunk := list(islice(pending, EVENTS_PER_STATEMENT)):
        made = [new_event_id() for _ in chunk]
        await session.execute(insert(Event.__table__), [
            {"id": i, "type": t, "payload": p, "created_at": now} for i, (t, p) in zip(made, chunk, strict=True)])
        ids += made
    return ids


async def prune_events(session: AsyncSession, *, dispatched_before: datetime, limit: int) -> int:
    """Delete up to `limit` events dispatched before `dispatched_before` that no delivery still
    waits on; their deliveries and delivery attempts go with them (ON DELETE CASCADE). Returns
    how many events were deleted. Without this the outbox grows by one row per article and per
    quote, forever."""
    waiting = exists(select(Delivery.id).where(Delivery.event_id == Event.id, Delivery.state == "pending"))
    old = (select(Event.id).where(Event.dispatched_at < dispatched_before, ~waiting)
           .order_by(Event.dispatched_at).limit(limit))
    result = await session.execute(delete(Event).where(Event.id.in_(old.scalar_subquery()))
                                   .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
