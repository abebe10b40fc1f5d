"""Quote and speaker rows."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import NotFoundError
from app.domain.names import normalize_name
from app.domain.query import Query, analyze, matches, parse_query, prefilter
from app.storage.models import Quote, Speaker, can_exist
from app.storage.pagination import (
    bound_page,
    decode_cursor,
    encode_cursor,
    finish_page,
    keyset_after,
    moment,
    page_of,
    page_rows,
    row_id,
)
from app.storage.rows import read_rows


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def list_quotes(
    session: AsyncSession, *, speaker: str | None, q: str | None, since: datetime | None,
    until: datetime | None, feed_id: int | None, speaker_id: int | None, cursor: str | None, limit: int,
    min_confidence: float | None = None,
) -> tuple[list[Row[Any]], str | None]:
    params: dict[str, Any] = {
        "min_confidence": min_confidence, "speaker": normalize_name(speaker) if speaker else None,
        "speaker_id": speaker_id, "since": _aware(since), "until": _aware(until), "feed_id": feed_id,
        "page_rows": page_rows(limit)}
    if cursor:
        params["key_at"], params["key_id"] = decode_cursor(cursor, moment, row_id)
    shape = (min_confidence is not None, bool(speaker), speaker_id is not None, since is not None,
             until is not None, feed_id is not None, bool(cursor))
    if q:
        return await _search_quotes(session, _quote_filter(*shape), params, parse_query(q), limit)
    rows = await read_rows(session, _quote_page(*shape), params)
    return finish_page(rows, limit, lambda r: [r.published_at, r.id])


@cache
def _quote_filter(min_confidence: bool, speaker: bool, speaker_id: bool, since: bool, until: bool, feed: bool,
                  cursor: bool) -> Select[Any]:
    """The quotes' statement for the filters given, built once; their values are bound."""
    # Plain rows, not ORM objects: the API only serialises them.
    stmt = select(*Quote.__table__.c).order_by(Quote.published_at.desc(), Quote.id.desc())
    if min_confidence:
        stmt = stmt.where(Quote.confidence >= bindparam("min_confidence"))
    if speaker:
        sid = select(Speaker.id).where(Speaker.normalized_name == bindparam("speaker")).scalar_subquery()
        stmt = stmt.where(Quote.speaker_id == sid)
    if speaker_id:
        stmt = stmt.where(Quote.speaker_id == bindparam("speaker_id"))
    if since:
        stmt = stmt.where(Quote.published_at >= bindparam("since"))
    if until:
        stmt = stmt.where(Quote.published_at < bindparam("until"))
    if feed:
        stmt = stmt.where(Quote.feed_id == bindparam("feed_id"))
    if cursor:
        stmt = stmt.where(keyset_after([Quote.published_at, Quote.id], [bindparam("key_at"), bindparam("key_id")],
                                       descending=True))
    return stmt


@cache
def _quote_page(*shape: bool) -> Select[Any]:
    return bound_page(_quote_filter(*shape))


QUOTE_SCAN_ROWS = 1000


async def _search_quotes(session: AsyncSession, stmt: Select[Any], params: dict[str, Any], query: Query,
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
        batch = await read_rows(session, batch_stmt.limit(500), params)
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
    params: dict[str, Any] = {"page_rows": page_rows(limit)}
    if cursor:
        # a count fits where an id does
        params["key_count"], params["key_id"] = decode_cursor(cursor, row_id, row_id)
    if name:
        stmt = _speaker_filter(bool(cursor)).where(
            Speaker.normalized_name.contains(normalize_name(name), autoescape=True))
        rows = await read_rows(session, page_of(stmt, limit), params)
    else:
        rows = await read_rows(session, _speaker_page(bool(cursor)), params)
    return finish_page(rows, limit, lambda r: [r.quote_count, r.id])


@cache
def _speaker_filter(cursor: bool) -> Select[Any]:
    stmt = select(*Speaker.__table__.c).order_by(Speaker.quote_count.desc(), Speaker.id.desc())
    if cursor:
        stmt = stmt.where(keyset_after([Speaker.quote_count, Speaker.id], [bindparam("key_count"), bindparam("key_id")],
                                       descending=True))
    return stmt


@cache
def _speaker_page(cursor: bool) -> Select[Any]:
    """The page's statement, built once; the cursor's values are bound."""
    return bound_page(_speaker_filter(cursor))


async def get_speaker(session: AsyncSession, speaker_id: int) -> Speaker:
    speaker = await session.get(Speaker, speaker_id) if can_exist(speaker_id) else None
    if speaker is None:
        raise NotFoundError(f"speakers: no speaker with id {speaker_id}")
    return speaker
