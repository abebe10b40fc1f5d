"""The whole refresh of one feed, top to bottom, without the database:

    fetch the feed  ->  stop early if 304 or the body is byte-for-byte unchanged
    parse           ->  entries (bozo feeds keep theirs, with a warning)
    for new or edited entries, concurrently:
        fetch the page -> extract main text -> fingerprint -> find quotes   (CPU part in a pool)

Storing, indexing and notifying happen in one transaction in app/storage/ingest.py, driven
by app/workers/ingest.py. Nothing here commits or reads global state.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.domain.errors import FetchError
from app.domain.feeds import FeedEntry, ParsedFeed
from app.domain.fetching import FetchResult
from app.domain.ingest import ArticleDraft
from app.pipeline.analyse import analyse_entry
from app.pipeline.fetch import Fetcher
from app.pipeline.poll import parse_feed

RunCpu = Callable[..., Awaitable[Any]]
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    """What a poll needs to know about a feed, read before the network work starts."""

    id: int
    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None


@dataclass(frozen=True, slots=True)
class FeedFetch:
    outcome: Literal["ok", "not_modified", "unchanged"]
    response: FetchResult
    parsed: ParsedFeed | None
    body_hash: str | None


async def fetch_feed(feed: FeedSnapshot, fetcher: Fetcher) -> FeedFetch:
    """Conditional GET, then parse unless nothing changed. Raises FetchError / FeedParseError."""
    response = await fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
    return read_feed(feed, response)


def pushed_response(url: str, body: bytes, content_type: str | None) -> FetchResult:
    """A document a WebSub hub pushed, in the shape of a fetched one, so that it takes the same
    path as a polled document from here on (its Content-Type is the topic's, WebSub §7)."""
    return FetchResult(url=url, status=200, headers={"content-type": content_type} if content_type else {},
                       body=body)


def read_feed(feed: FeedSnapshot, response: FetchResult) -> FeedFetch:
    """Stop early if 304 or the bytes are the ones last seen; otherwise parse. Raises FeedParseError."""
    if response.not_modified:
        return FeedFetch("not_modified", response, None, feed.body_hash)
    digest = hashlib.sha256(response.body).hexdigest()
    if digest == feed.body_hash:
        # Servers without validators still send identical bytes: skip the parse entirely.
        return FeedFetch("unchanged", response, None, digest)
    parsed = parse_feed(response.body, response.headers, response.url)
    return FeedFetch("ok", response, parsed, digest)


async def _fetch_page(fetcher: Fetcher, url: str | None) -> tuple[bytes | None, str | None, bool]:
    if not url:
        return None, None, False
    try:
        page = await fetcher.fetch(url, accept=PAGE_ACCEPT)
    except FetchError:
        return None, url, False
    return page.body, page.url, True


async def build_drafts(
    entries: Sequence[FeedEntry], fetcher: Fetcher, run_cpu: RunCpu, *, now: datetime, fetch_pages: bool,
    tsvector: bool = False,
) -> list[ArticleDraft]:
    """Fetch each entry's page and analyse it; a page that fails keeps the feed's content.
    `tsvector`: the search index text in PostgreSQL's form (see analyse_entry)."""

    async def one(entry: FeedEntry) -> ArticleDraft:
        html, page_url, ok = await _fetch_page(fetcher, entry.link) if fetch_pages else (None, None, True)
        draft: ArticleDraft = await run_cpu(analyse_entry, entry, html, page_url, ok, now, tsvector)
        return draft

    return list(await asyncio.gather(*(one(e) for e in entries)))
