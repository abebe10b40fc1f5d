"""The CPU-bound part of ingestion for one entry: extract, fingerprint, find quotes.

Pure and picklable, so the flow can run it in a process pool and keep both cores busy.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from app.domain.feeds import FeedEntry
from app.domain.ingest import ArticleDraft
from app.domain.query import index_text, is_english
from app.pipeline.dedup import body_hash, canonical_url, simhash64
from app.pipeline.extract import extract_page
from app.pipeline.quotes import find_quotes

# Pages whose extracted text is shorter than this are treated as having yielded nothing
# (cookie walls, paywall stubs): the feed's own content is kept instead.
MIN_TEXT_CHARS = 200


def analyse_entry(entry: FeedEntry, html: bytes | None, page_url: str | None, fetched_ok: bool,
                  now: datetime, tsvector: bool = False) -> ArticleDraft:
    """`tsvector`: the search index text in PostgreSQL's form, else in SQLite's (FTS5 columns)."""
    link = entry.link or page_url or entry.guid
    page = extract_page(html, page_url or link) if html else None
    feed_text = entry.content or entry.summary
    if page is not None and len(page.text) >= MIN_TEXT_CHARS:
        text, extraction = page.text, "ok"
    else:
        text, extraction = feed_text, ("feed_only" if fetched_ok else "retry")
    canonical = canonical_url((page.canonical_url if page and page.canonical_url else None) or link)
    title = entry.title or (page.title if page else None)
    quotes = tuple(find_quotes(text, title)) if text else ()
    # The page's own declaration first; else what the feed says (JSON Feed, news sitemap).
    language = (page.language if page else None) or entry.language
    return ArticleDraft(
        guid=entry.guid,
        url=link,
        canonical_url=canonical,
        source=(urlsplit(canonical).hostname or "").removeprefix("www.") or None,
        title=title,
        summary=entry.summary,
        text=text,
        byline=entry.author or (page.byline if page else None),
        language=language,
        published_at=entry.published or (page.published if page and page.published else None) or now,
        body_hash=body_hash(text) if text else None,
        simhash=simhash64(text) if text else None,
        extraction=extraction,
        quotes=quotes,
        search=index_text(title, text or entry.summary, english=is_english(language), fts5=not tsvector,
                          tsvector=tsvector),
    )
