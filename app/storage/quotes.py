"""Quote and speaker rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import NotFoundError
from app.domain.names import normalize_name
from app.domain.query import Query, analyze, matches, parse_query, prefilter
from app.storage.models import Quote, Speaker, can_exist
from app.storage.pagination import (
    decode_cursor,
    encode_cursor,
    finish_page,
    keyset_after,
    moment,
    page_of,
    row_id,
)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def list_quotes(
    session: AsyncSession, *, speaker: str | None, q: str | None, since: datetime | None,
    until: datetime | None, feed_id: int | None, speaker_id: int | None, cursor: str | None, limit: int,
    min_confidence: float | None = None,
) -> tuple[list[Row[Any]], str | None]:
    # Plain rows, not ORM objects: the API only serialises them.
    stmt = select(*Quote.__table__.c).order_by(Quote.published_at.desc(), Quote.id.desc())
    if min_confidence is not None:
        stmt = stmt.where(Quote.confidence >= min_confidence)
    if speaker:
        sid = select(Speaker.id).where(Speaker.normalized_name == normalize_name(speaker)).scalar_subquery()
        stmt = stmt.where(Quote.speaker_id == sid)
    if speaker_id is not None:
        stmt = stmt.where(Quote.speaker_id == speaker_id)
    if since is not None:
        stmt = stmt.where(Quote.published_at >= _aware(since))
    if until is not None:
        stmt = stmt.where(Quote.published_at < _aware(until))
    if feed_id is not None:
        stmt = stmt.where(Quote.feed_id == feed_id)
    if cursor:
        after, quote_id = decode_cursor(cursor, moment, row_id)
        stmt = stmt.where(keyset_after([Quote.published_at, Quote.id], [after, quote_id], descending=True))
    if q:
        return await _search_quotes(session, stmt, parse_query(q), limit)
    rows = list((await session.execute(page_of(stmt, limit))).all())
    return finish_page(rows, limit, lambda r: [r.published_at, r.id])


QUOTE_SCAN_ROWS = 1000


async def _search_quotes(session: AsyncSession, stmt: Select[Any], query: Query,
                         limit: int) -> tuple[list[Row[Any]], str | None]:
    """Quote search evaluates the query language in Python over a bounded, newest-first window.

    Quotes are short and a request usually narrows them (speaker, dates), so no second full-text
    index is kept: at most QUOTE_SCAN_ROWS rows are read per request. When the window runs out
    before the page is full, the page is short and its cursor continues where the scan stopped.
    """
    possible = prefilter(query)
    found: list[Row[Any]] = []
    scanned = 0
    last: Row[Any] | None = None
    while scanned < QUOTE_SCAN_ROWS:
        batch_stmt = stmt
        if last is not None:
            batch_stmt = stmt.where(keyset_after([Quote.published_at, Quote.id], [last.published_at, last.id],
                                                 descending=True))
        batch = list((await session.execute(batch_stmt.limit(500))).all())
        for row in batch:
            scanned += 1
            last = row
            if possible(row.text) and matches(query, analyze(None, row.text)):
                found.append(row)
                if len(found) > limit:
                    page = found[:limit]
                    return page, encode_cursor([page[-1].published_at, page[-1].id])
        if len(batch) < 500:
            return found, None
    return found, encode_cursor([last.published_at, last.id]) if last is not None else None


async def list_speakers(session: AsyncSession, *, name: str | None, cursor: str | None,
                        limit: int) -> tuple[list[Row[Any]], str | None]:
    stmt = select(*Speaker.__table__.c).order_by(Speaker.quote_count.desc(), Speaker.id.desc())
    if name:
        stmt = stmt.where(Speaker.normalized_name.contains(normalize_name(name), autoescape=True))
    if cursor:
        count, speaker_id = decode_cursor(cursor, row_id, row_id)  # a count fits where an id does
        stmt = stmt.where(keyset_after([Speaker.quote_count, Speaker.id], [count, speaker_id], descending=True))
    rows = list((await session.execute(page_of(stmt, limit))).all())
    return finish_page(rows, limit, lambda r: [r.quote_count, r.id])


async def get_speaker(session: AsyncSession, speaker_id: int) -> Speaker:
    speaker = await session.get(Speaker, speaker_id) if can_exist(speaker_id) else None
    if speaker is None:
        raise NotFoundError(f"speakers: no speaker with id {speaker_id}")
    return speaker
