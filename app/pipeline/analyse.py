"""The CPU-bound part of ingestion for one entry, in two steps with budgets of their own:

    analyse_entry(...) -> ArticleDraft     extract, fingerprint, search tokens ("extract")
    quotes_of(text, title) -> quotes       find the quotes ("quotes")

Pure and picklable, so the flow runs them in a process pool and keeps both cores busy. Two
steps, so an article whose quotes overrun their budget still keeps its text.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from app.domain.feeds import FeedEntry
from app.domain.ingest import ArticleDraft
from app.domain.query import index_text, is_english
from app.domain.quotes import Quote
from app.pipeline.dedup import body_hash, canonical_url, simhash64
from app.pipeline.extract import extract_page
from app.pipeline.quotes import find_quotes

# Pages whose extracted text is shorter than this are treated as having yielded nothing
# (cookie walls, paywall stubs): the feed's own content is kept instead.
MIN_TEXT_CHARS = 200
BARE_TITLE_CHARS = 1000  # of the title indexed by bare_draft, which runs on the event loop


def warm_up() -> None:
    """Run in each new pool worker before its first step: unpickling this function imports this
    module (trafilatura, the quote finder), so no step's budget pays for the imports."""


def analyse_entry(entry: FeedEntry, html: bytes | None, page_url: str | None, fetched_ok: bool,
                  now: datetime, tsvector: bool = False) -> ArticleDraft:
    """Everything but the quotes (`quotes_of`). `html` None: the feed's own content.
    `tsvector`: the search index text in PostgreSQL's form, else in SQLite's (FTS5 columns)."""
    link = entry.link or page_url or entry.guid
    page = extract_page(html, page_url or link) if html else None
    feed_text = entry.content or entry.summary
    if page is not None and len(page.text) >= MIN_TEXT_CHARS:
        text, extraction = page.text, "ok"
    else:
        text, extraction = feed_text, ("feed_only" if fetched_ok else "retry")
    canonical = canonical_url((page.canonical_url if page and page.canonical_url else None) or link)
    title = entry.title or (page.title if page else None)
    language = page.language if page else None
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
        search=index_text(title, text or entry.summary, english=is_english(language), fts5=not tsvector,
                          tsvector=tsvector),
    )


def quotes_of(text: str, title: str | None) -> tuple[Quote, ...]:
    return tuple(find_quotes(text, title))


def bare_draft(entry: FeedEntry, page_url: str | None, now: datetime, tsvector: bool = False) -> ArticleDraft:
    """The entry with its title and link only: what is stored when even the feed's own content
    could not be analysed within the budget. Cheap enough for the event loop (the title is cut)."""
    link = entry.link or page_url or entry.guid
    canonical = canonical_url(link)
    title = entry.title[:BARE_TITLE_CHARS] if entry.title else None
    return ArticleDraft(
        guid=entry.guid, url=link, canonical_url=canonical,
        source=(urlsplit(canonical).hostname or "").removeprefix("www.") or None,
        title=title, summary=None, text=None, byline=None, language=None,
        published_at=entry.published or now, body_hash=None, simhash=None, extraction="feed_only",
        search=index_text(title, None, english=True, fts5=not tsvector, tsvector=tsvector),
    )
