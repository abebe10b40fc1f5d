"""The whole refresh of one feed, top to bottom, without the database:

    fetch the feed  ->  stop early if 304 or the body is byte-for-byte unchanged
    parse           ->  the newest entries (bozo feeds keep theirs, with a warning)   (in the pool)
    for new or edited entries, concurrently:
        fetch the page -> extract main text, fingerprint -> find quotes   (two steps in the pool)

Every CPU step runs in the pool within its time budget. A step over budget is abandoned and the
article keeps what the steps before it made, with the reason in `skipped`: a page whose
extraction overruns keeps the feed's own content, a text whose quotes overrun keeps its text.

Storing, indexing and notifying happen in one transaction in app/storage/ingest.py, driven
by app/workers/ingest.py. Nothing here commits or reads global state.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from app.domain.errors import CpuBudgetError, CpuStepError, FeedParseError, FetchError
from app.domain.feeds import FeedEntry, ParsedFeed
from app.domain.fetching import FetchResult
from app.domain.ingest import ArticleDraft, SkippedStep
from app.pipeline.analyse import analyse_entry, bare_draft, quotes_of
from app.pipeline.fetch import Fetcher
from app.pipeline.parse import read_feed
from app.pipeline.poll import parse_feed

log = logging.getLogger("news_ingest.flow")
# Budget overruns of one step within one poll after which the poll's remaining entries skip the
# step: a feed of hostile pages costs a few budgets, not one per entry.
MAX_OVERRUNS_PER_POLL = 2
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


class RunCpu(Protocol):
    """CpuPool.run: `fn(*args)` in the pool within the budget of `step`; raises CpuStepError."""

    def __call__(self, step: str, fn: Callable[..., Any], *args: Any,
                 skip: Callable[[], str | None] | None = None) -> Awaitable[Any]: ...


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


async def fetch_feed(feed: FeedSnapshot, fetcher: Fetcher, run_cpu: RunCpu, *, max_entries: int) -> FeedFetch:
    """Conditional GET, then parse (in the pool, keeping the newest `max_entries`) unless nothing
    changed. Raises FetchError / FeedParseError (also for a parse over its budget)."""
    response = await fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
    if response.not_modified:
        return FeedFetch("not_modified", response, None, feed.body_hash)
    digest = hashlib.sha256(response.body).hexdigest()
    if digest == feed.body_hash:
        # Servers without validators still send identical bytes: skip the parse entirely.
        return FeedFetch("unchanged", response, None, digest)
    try:
        parsed: ParsedFeed = await run_cpu("parse", read_feed, parse_feed, response.body, response.headers,
                                           response.url, max_entries)
    except CpuStepError as exc:
        raise FeedParseError(f"poll: {response.url}: {exc}") from exc
    return FeedFetch("ok", response, parsed, digest)


async def _fetch_page(fetcher: Fetcher, url: str | None) -> tuple[bytes | None, str | None, bool]:
    if not url:
        return None, None, False
    try:
        page = await fetcher.fetch(url, accept=PAGE_ACCEPT)
    except FetchError:
        return None, url, False
    return page.body, page.url, True


class _Overruns:
    """Budget overruns per kind of step within one poll (see MAX_OVERRUNS_PER_POLL)."""

    def __init__(self) -> None:
        self._count: Counter[str] = Counter()

    def note(self, kind: str, exc: CpuStepError) -> None:
        if isinstance(exc, CpuBudgetError):
            self._count[kind] += 1

    def skip(self, kind: str, step: str) -> Callable[[], str | None]:
        def reason() -> str | None:
            if self._count[kind] < MAX_OVERRUNS_PER_POLL:
                return None
            return f"{step}: skipped, {self._count[kind]} other entries of this poll ran over its time budget"
        return reason


async def build_drafts(
    entries: Sequence[FeedEntry], fetcher: Fetcher, run_cpu: RunCpu, *, now: datetime, fetch_pages: bool,
    tsvector: bool = False,
) -> list[ArticleDraft]:
    """Fetch each entry's page and analyse it; a page that fails keeps the feed's content.
    `tsvector`: the search index text in PostgreSQL's form (see analyse_entry)."""
    overruns = _Overruns()

    async def extract(entry: FeedEntry, html: bytes | None, page_url: str | None, ok: bool,
                      skipped: list[SkippedStep]) -> ArticleDraft:
        # The page first, then the feed's own content, then the title alone.
        for kind, source in (("page", html), ("feed", None)) if html is not None else (("feed", None),):
            try:
                draft: ArticleDraft = await run_cpu("extract", analyse_entry, entry, source, page_url, ok, now,
                                                    tsvector, skip=overruns.skip(kind, "extract"))
                return draft
            except CpuStepError as exc:
                overruns.note(kind, exc)
                if not skipped:
                    skipped.append(SkippedStep("extract", str(exc)))
        return bare_draft(entry, page_url, now, tsvector)

    async def one(entry: FeedEntry) -> ArticleDraft:
        html, page_url, ok = await _fetch_page(fetcher, entry.link) if fetch_pages else (None, None, True)
        skipped: list[SkippedStep] = []
        draft = await extract(entry, html, page_url, ok, skipped)
        if draft.text:
            try:
                quotes = await run_cpu("quotes", quotes_of, draft.text, draft.title,
                                       skip=overruns.skip("quotes", "quotes"))
                draft = replace(draft, quotes=quotes)
            except CpuStepError as exc:
                overruns.note("quotes", exc)
                skipped.append(SkippedStep("quotes", str(exc)))
        if not skipped:
            return draft
        for step in skipped:
            log.warning("ingest: step skipped", extra={"url": draft.url, "step": step.step, "reason": step.reason})
        return replace(draft, skipped=tuple(skipped))

    return list(await asyncio.gather(*(one(e) for e in entries)))
