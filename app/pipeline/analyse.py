"""The CPU-bound part of ingestion for one entry, in two phases with budgets of their own:

    analyse_entry(...) -> ArticleDraft     extract, fingerprint, search tokens ("extract")
    quotes_of(text, title) -> quotes       find the quotes ("quotes")
    analyse_article(...) -> Analysed       both, in one hand-over to the pool, each phase within
                                           its own budget (app.pipeline.deadline)

Pure and picklable, so the flow runs them in a process pool and keeps both cores busy. Two
phases with two budgets, so an article whose quotes overrun their budget still keeps its text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from app.domain.articles import ExtractedPage
from app.domain.feeds import FeedEntry
from app.domain.ingest import ArticleDraft
from app.domain.limits import (
    MAX_CHANNEL_CHARS,
    MAX_HOST_CHARS,
    MAX_NAME_CHARS,
    MAX_QUOTES_PER_ARTICLE,
    MAX_SUMMARY_CHARS,
    MAX_VERB_CHARS,
    clip,
    key_fits,
)
from app.domain.names import normalize_name
from app.domain.query import index_text, is_english
from app.domain.quotes import Quote
from app.domain.sites import same_site
from app.pipeline.deadline import Overrun, soft_deadline
from app.pipeline.dedup import body_hash, canonical_url, simhash64
from app.pipeline.extract import extract_page
from app.pipeline.quotes import find_quotes

# Below this many characters a page's text is taken only when it says more than the feed does:
# cookie walls and paywall stubs are short, but so are news briefs, whose text (and quotes) the
# feed may not carry at all.
MIN_TEXT_CHARS = 200
BARE_TITLE_CHARS = 1000  # of the title indexed by bare_draft, which runs on the event loop


def load_modules() -> None:
    """Run in each new worker of the API's pool before its first step: unpickling this function
    imports this module (trafilatura, the quote finder), so no step's budget pays for the imports.
    That pool starts on a request's first use, and the request waits for it: the quote finder's
    word tables are left to the first quotes it finds."""


def warm_up() -> None:
    """Run in each new ingestion pool worker before its first step: the imports (as
    `load_modules`), and one small text's quotes load the word lists the quote finder reads on
    first use (on a loaded machine that took longer than a test's half-second quotes budget)."""
    find_quotes('"We open at nine," Jane Roe said.', None)


# Publication dates outside this window are a publisher's mistake (year 9999 pinned an article at
# the top of every newest-first list for good): the next source is asked, then the poll's time.
EARLIEST_PUBLISHED = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)


def _published(entry: FeedEntry, page: ExtractedPage | None, now: datetime) -> datetime:
    for moment in (entry.published, page.published if page else None):
        if moment is not None and EARLIEST_PUBLISHED <= moment <= now + FUTURE_TOLERANCE:
            return moment
    return now


def _text(entry: FeedEntry, page: ExtractedPage | None, fetched_ok: bool) -> tuple[str | None, str]:
    """The more complete of the page's text and the feed's, and how it was obtained."""
    feed_text = entry.content or entry.summary
    if page is not None and (len(page.text) >= MIN_TEXT_CHARS or len(page.text) > len(feed_text or "")):
        return page.text, "ok"
    return feed_text, ("feed_only" if fetched_ok else "retry")


def _canonical(entry: FeedEntry, page: ExtractedPage | None, page_url: str | None) -> str:
    """The page's canonical URL when it names one on its own site (a page may not speak for
    another site's article: a foreign rel=canonical replaced a stored article's text), else the
    entry's link; an entry without one is known by its GUID (scoped to the feed when stored)."""
    declared = page.canonical_url if page else None
    if declared and same_site(declared, page_url or entry.link):
        canonical = canonical_url(declared)
        if key_fits(canonical):
            return canonical
    return canonical_url(entry.link) if entry.link else entry.guid


def _storable(quote: Quote) -> Quote:
    """A quote whose fields fit their columns: a "name" too long for one is no name."""
    speaker, title, kind = quote.speaker, quote.speaker_title, quote.speaker_type
    if speaker and (len(speaker) > MAX_NAME_CHARS or len(normalize_name(speaker)) > MAX_NAME_CHARS):
        speaker = title = kind = None
    if title and len(title) > MAX_NAME_CHARS:
        title = None
    verb, channel = clip(quote.verb, MAX_VERB_CHARS), clip(quote.channel, MAX_CHANNEL_CHARS)
    if (speaker, title, kind, verb, channel) == (quote.speaker, quote.speaker_title, quote.speaker_type,
                                                 quote.verb, quote.channel):
        return quote  # every field fits, as nearly always: no copy (dataclasses.replace is slow)
    return replace(quote, speaker=speaker, speaker_title=title, speaker_type=kind, verb=verb, channel=channel)


def _source(*urls: str) -> str | None:
    for url in urls:
        host = (urlsplit(url).hostname or "").removeprefix("www.") if url.startswith(("http://", "https://")) else ""
        if host:
            return host if len(host) <= MAX_HOST_CHARS else None
    return None


def analyse_entry(entry: FeedEntry, html: bytes | None, page_url: str | None, fetched_ok: bool,
                  now: datetime, tsvector: bool = False) -> ArticleDraft:
    """Everything but the quotes (`quotes_of`). `html` None: the feed's own content.
    `tsvector`: the search index text in PostgreSQL's form, else in SQLite's (FTS5 columns).

    `url` is the entry's own page; an entry without one (no link, a javascript: link, a GUID
    that is no URL) points at the feed's site (`FeedEntry.home`) and keeps the feed's content."""
    url = entry.link or entry.home or entry.guid
    page = extract_page(html, page_url or url) if html else None
    text, extraction = _text(entry, page, fetched_ok)
    canonical = _canonical(entry, page, page_url)
    title = entry.title or (page.title if page else None)
    # The page's own declaration first; else what the feed says (xml:lang, JSON Feed, news sitemap).
    language = (page.language if page else None) or entry.language
    return ArticleDraft(
        guid=entry.guid,
        url=url,
        canonical_url=canonical,
        source=_source(canonical, url),
        title=title,
        summary=clip(entry.summary, MAX_SUMMARY_CHARS),  # the text, whole, is `text`
        text=text,
        byline=entry.author or (page.byline if page else None),
        language=language,
        published_at=_published(entry, page, now),
        body_hash=body_hash(text) if text else None,
        simhash=simhash64(text) if text else None,
        extraction=extraction,
        search=index_text(title, text or entry.summary, english=is_english(language), fts5=not tsvector,
                          tsvector=tsvector),
    )


def quotes_of(text: str, title: str | None) -> tuple[Quote, ...]:
    """The quotes an article stores: the first MAX_QUOTES_PER_ARTICLE, cut here in the worker, so
    that a text of quote marks costs the event loop (unpickling, storing, one event per quote)
    no more than a long interview does."""
    return tuple(_storable(q) for q in find_quotes(text, title)[:MAX_QUOTES_PER_ARTICLE])


Analyse = Callable[[FeedEntry, bytes | None, str | None, bool, datetime, bool], ArticleDraft]
FindQuotes = Callable[[str, str | None], tuple[Quote, ...]]


@dataclass(frozen=True, slots=True)
class Analysed:
    """What `analyse_article` made: the draft (None when extraction overran its budget), and
    which phase ran over its budget, if one did ("extract" or "quotes": the draft has no quotes)."""

    draft: ArticleDraft | None
    overran: str | None = None


def analyse_article(analyse: Analyse, find: FindQuotes, entry: FeedEntry, html: bytes | None,
                    page_url: str | None, fetched_ok: bool, now: datetime, tsvector: bool,
                    extract_s: float, quotes_s: float, quotes_skipped: str | None) -> Analysed:
    """`analyse` (analyse_entry), then `find` (quotes_of) on the text, in one pool task: each of
    the two handed over separately cost the service process a pickled page or text, a pebble
    round trip and an event-loop wake-up per article. Each phase stops at its own budget
    (`extract_s`, `quotes_s`; soft deadlines, the worker lives on). `quotes_skipped`: the reason
    the quotes are not searched at all (decided when the task took its pool slot)."""
    try:
        with soft_deadline(extract_s):
            draft = analyse(entry, html, page_url, fetched_ok, now, tsvector)
    except Overrun:
        return Analysed(None, "extract")
    if not draft.text or quotes_skipped:
        return Analysed(draft)
    try:
        with soft_deadline(quotes_s):
            quotes = find(draft.text, draft.title)
    except Overrun:
        return Analysed(draft, "quotes")
    return Analysed(replace(draft, quotes=quotes))


def quotes_json(text: str, title: str | None) -> bytes:
    """The quotes of `text` as a JSON array of `Quote.to_dict()` objects, encoded where they are
    found (a pool worker): 200 KB of quote marks gives 34,000 quotes, and turning them into
    response models on the event loop held it for half a second (bench/hostile.py)."""
    found = (_storable(q).to_dict() for q in find_quotes(text, title))  # nothing is stored: every quote
    return json.dumps(list(found), separators=(",", ":")).encode()


def quotes_json_of(read: Callable[[bytes], tuple[str, str | None]], body: bytes) -> bytes:
    """`quotes_json` of the text and title that `read` finds in a request body: an outsider's
    JSON is parsed here, in the worker, as costly to parse as its author makes it."""
    return quotes_json(*read(body))


def bare_draft(entry: FeedEntry, page_url: str | None, now: datetime, tsvector: bool = False) -> ArticleDraft:
    """The entry with its title and link only: what is stored when even the feed's own content
    could not be analysed within the budget. Cheap enough for the event loop (the title is cut)."""
    url = entry.link or entry.home or entry.guid
    canonical = _canonical(entry, None, page_url)
    title = entry.title[:BARE_TITLE_CHARS] if entry.title else None
    return ArticleDraft(
        guid=entry.guid, url=url, canonical_url=canonical, source=_source(canonical, url),
        title=title, summary=None, text=None, byline=None, language=entry.language,
        published_at=_published(entry, None, now), body_hash=None, simhash=None, extraction="feed_only",
        search=index_text(title, None, english=is_english(entry.language), fts5=not tsvector, tsvector=tsvector),
    )
