"""Writing what a poll found: articles (deduplicated), quotes, speakers and outbox events,
together with the feed's new state, in the caller's one transaction.

Exact duplicates (same feed GUID, canonical URL or body hash) update the stored article and
bump its revision; near-duplicates (SimHash within 3 bits, found through four 16-bit bands
that the database indexes) are stored and joined to the same story cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.feeds import FeedEntry
from app.domain.ingest import ArticleDraft, StoredBatch
from app.domain.names import normalize_name
from app.pipeline.dedup import hamming, simhash_bands
from app.storage.dialects import SpeakerMention, upsert_speakers
from app.storage.models import Article, Feed, Quote
from app.storage.outbox import article_event, quote_event, record_events
from app.storage.search import index_article

NEAR_DUPLICATE_BITS = 3


@dataclass(frozen=True, slots=True)
class KnownEntry:
    article_id: int
    title: str | None
    summary: str | None
    extraction: str
    extraction_attempts: int


async def known_entries(session: AsyncSession, feed_id: int, entries: Sequence[FeedEntry]) -> dict[str, KnownEntry]:
    """Entries of this feed already stored, by GUID: they need no page fetch unless edited."""
    guids = [e.guid for e in entries if e.guid]
    found: dict[str, KnownEntry] = {}
    for start in range(0, len(guids), 500):
        chunk = guids[start:start + 500]
        stmt = select(Article.guid, Article.id, Article.title, Article.summary, Article.extraction,
                      Article.extraction_attempts).where(Article.feed_id == feed_id, Article.guid.in_(chunk))
        for guid, article_id, title, summary, extraction, attempts in (await session.execute(stmt)).all():
            found[guid] = KnownEntry(article_id, title, summary, extraction, attempts)
    return found


def _bands(simhash: int | None) -> list[int | None]:
    return list(simhash_bands(simhash)) if simhash is not None else [None, None, None, None]


async def _find_exact(session: AsyncSession, feed_id: int | None, draft: ArticleDraft) -> Article | None:
    clauses = [Article.canonical_url == draft.canonical_url]
    if draft.guid and feed_id is not None:
        clauses.append((Article.feed_id == feed_id) & (Article.guid == draft.guid))
    if draft.body_hash and draft.extraction == "ok":
        clauses.append(Article.body_hash == draft.body_hash)
    stmt = select(Article).where(or_(*clauses)).order_by(Article.id).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _find_story(session: AsyncSession, draft: ArticleDraft) -> Article | None:
    if draft.simhash is None or not draft.text or len(draft.text) < 400:
        return None  # short texts share too many bits by chance to call them one story
    b0, b1, b2, b3 = _bands(draft.simhash)
    stmt = (select(Article).where(or_(Article.simhash_b0 == b0, Article.simhash_b1 == b1,
                                      Article.simhash_b2 == b2, Article.simhash_b3 == b3))
            .order_by(Article.id).limit(50))
    for candidate in (await session.execute(stmt)).scalars():
        if candidate.simhash is not None and hamming(candidate.simhash, draft.simhash) <= NEAR_DUPLICATE_BITS:
            return candidate
    return None


def _apply(article: Article, draft: ArticleDraft) -> None:
    article.url = draft.url
    article.title = draft.title
    article.summary = draft.summary
    article.text = draft.text
    article.byline = draft.byline
    article.language = draft.language
    article.body_hash = draft.body_hash
    article.simhash = draft.simhash
    article.simhash_b0, article.simhash_b1, article.simhash_b2, article.simhash_b3 = _bands(draft.simhash)
    article.extraction = draft.extraction
    article.quote_count = len(draft.quotes)


def _mentions(stored: Sequence[tuple[Article, ArticleDraft]]) -> list[SpeakerMention]:
    """Every speaker the stored articles quote, with counts, titles and the newest date."""
    seen: dict[str, SpeakerMention] = {}
    for article, draft in stored:
        for q in draft.quotes:
            key = normalize_name(q.speaker) if q.speaker else ""
            if not key:
                continue
            before = seen.get(key)
            if before is None:
                seen[key] = SpeakerMention(key, q.speaker or "", q.speaker_type or "person",
                                           (q.speaker_title,) if q.speaker_title else (), 1, article.published_at)
                continue
            titles = before.titles
            if q.speaker_title and q.speaker_title not in titles:
                titles = (*titles, q.speaker_title)
            seen[key] = replace(before, titles=titles, quotes=before.quotes + 1,
                                last_quoted_at=max(before.last_quoted_at, article.published_at))
    return list(seen.values())


async def _store_quotes(session: AsyncSession, stored: Sequence[tuple[Article, ArticleDraft]]) -> dict[int, list[Quote]]:
    """The quotes of all stored articles: speakers in one upsert (one lock order per
    transaction, so concurrent workers cannot deadlock on speaker rows), quotes in one
    executemany, then one read back for the ids the events need (the ORM would insert row by
    row: RETURNING with ordered batches is not available on SQLite)."""
    with_quotes = [(a, d) for a, d in stored if d.quotes]
    if not with_quotes:
        return {}
    speaker_ids = await upsert_speakers(session, _mentions(with_quotes))
    rows = [{"article_id": a.id, "speaker_id": speaker_ids.get(normalize_name(q.speaker)) if q.speaker else None,
             "feed_id": a.feed_id, "published_at": a.published_at, "text": q.text, "start": q.start,
             "end": q.end, "kind": q.kind, "speaker_name": q.speaker, "speaker_title": q.speaker_title,
             "speaker_type": q.speaker_type, "verb": q.verb, "channel": q.channel, "confidence": q.confidence}
            for a, d in with_quotes for q in d.quotes]
    await session.execute(insert(Quote), rows)
    stmt = (select(Quote).where(Quote.article_id.in_([a.id for a, _ in with_quotes]))
            .order_by(Quote.article_id, Quote.start, Quote.id))
    by_article: dict[int, list[Quote]] = {}
    for quote in (await session.execute(stmt)).scalars():
        by_article.setdefault(quote.article_id, []).append(quote)
    return by_article


def _changed(article: Article, draft: ArticleDraft) -> bool:
    return (article.title or "") != (draft.title or "") or article.body_hash != draft.body_hash


async def store_drafts(session: AsyncSession, feed_id: int | None, drafts: Sequence[ArticleDraft],
                       now: datetime) -> StoredBatch:
    """Insert new articles, update edited ones, then their quotes; the caller commits once."""
    created: list[Article] = []
    updated: list[Article] = []
    stored: list[tuple[Article, ArticleDraft]] = []  # every article whose quotes are (re)written
    for draft in drafts:
        if not draft.canonical_url.startswith(("http://", "https://")):
            # An entry without a link has only its feed-scoped GUID to go by: scope it, so the
            # same GUID in two unrelated feeds is not mistaken for one article.
            draft = replace(draft, canonical_url=f"feed:{feed_id}:{draft.canonical_url}")
        existing = await _find_exact(session, feed_id, draft)
        if existing is not None:
            retried = existing.extraction == "retry"
            if retried:
                existing.extraction_attempts += 1
            if not _changed(existing, draft) or (existing.extraction == "ok" and draft.extraction != "ok"):
                continue  # nothing new, or a worse copy of what we already have
            _apply(existing, draft)
            existing.updated_at = now
            # A page that could not be fetched before and now could is the same article with a
            # better text, not a new revision.
            if not (retried and (existing.title or "") == (draft.title or "")):
                existing.revision += 1
                updated.append(existing)
            await index_article(session, existing, draft.search)
            await session.execute(Quote.__table__.delete().where(Quote.article_id == existing.id))
            stored.append((existing, draft))
            continue
        story = await _find_story(session, draft)
        article = Article(feed_id=feed_id, guid=draft.guid, canonical_url=draft.canonical_url, source=draft.source,
                          published_at=draft.published_at, created_at=now, updated_at=now, revision=1,
                          extraction_attempts=1)
        _apply(article, draft)
        if story is not None:
            article.story_id = story.story_id or story.id
            article.duplicate_of = story.duplicate_of or story.id
        try:
            async with session.begin_nested():
                session.add(article)
                await session.flush()
        except IntegrityError:
            continue  # another worker stored the same canonical URL a moment ago
        if article.story_id is None:
            article.story_id = article.id
        await index_article(session, article, draft.search)
        created.append(article)
        stored.append((article, draft))
    quotes = await _store_quotes(session, stored)
    record_events(session, [article_event("article.updated", a) for a in updated], now=now)
    for article in created:
        record_events(session, [article_event("article.created", article)]
                      + [quote_event(q, article) for q in quotes.get(article.id, [])], now=now)
    await session.flush()
    return StoredBatch(tuple(a.id for a in created), tuple(a.id for a in updated),
                       sum(len(q) for q in quotes.values()))


async def save_feed_state(session: AsyncSession, feed_id: int, values: dict[str, object]) -> None:
    """Write the poll's outcome and release the lease, in the same transaction as the articles."""
    await session.execute(update(Feed).where(Feed.id == feed_id).values(lease_until=None, lease_owner=None, **values))
