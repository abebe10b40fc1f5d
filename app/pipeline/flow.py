"""The whole refresh of one feed, top to bottom, without the database:

    fetch the feed  ->  stop early if 304 or the body is byte-for-byte unchanged
    parse           ->  the newest entries: RSS, Atom, JSON Feed, sitemap (bozo feeds keep theirs,
                        with a warning); a sitemap index: its freshest children    (in the pool)
    for new or edited entries, concurrently:
        robots.txt allows? -> fetch the page -> extract main text, fingerprint -> find quotes
                                                       (one task in the pool, two budgets)

Every CPU step runs in the pool within its time budget. A step over budget is abandoned and the
article keeps what the steps before it made, with the reason in `skipped`: a page whose
extraction overruns keeps the feed's own content, a text whose quotes overrun keeps its text.

app/pipeline/refresh.py makes one typed result of these steps (with the feed's new state and
schedule); storing, indexing and notifying happen in one transaction in app/storage/ingest.py,
driven by app/workers/ingest.py. Nothing here commits or reads global state.
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
from app.domain.feeds import FeedEntry, ParsedFeed, newest_first
from app.domain.fetching import FetchResult
from app.domain.ingest import ArticleDraft, SkippedStep
from app.pipeline.analyse import Analysed, analyse_article, analyse_entry, bare_draft, quotes_of
from app.pipeline.fetch import Fetcher
from app.pipeline.parse import parse_newest
from app.pipeline.poll import parse_feed
from app.pipeline.robots import RobotsCache
from app.pipeline.sitemap import CHILDREN_PER_POLL, merge_sitemaps

log = logging.getLogger("news_ingest.flow")
# Budget overruns of one step within one poll after which the poll's remaining entries skip the
# step: a feed of hostile pages costs a few budgets, not one per entry.
MAX_OVERRUNS_PER_POLL = 2
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
REASON_CHARS = 500  # articles.extraction_reason


class RunCpu(Protocol):
    """CpuPool.run: `fn(*args)` in the pool within the budget of `step`; raises CpuStepError."""

    def __call__(self, step: str, fn: Callable[..., Any], *args: Any,
                 skip: Callable[[], str | None] | None = None,
                 late: Callable[[], tuple[Any, ...]] | None = None) -> Awaitable[Any]: ...


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
    return await read_feed(feed, response, fetcher, run_cpu, max_entries=max_entries)


def pushed_response(url: str, body: bytes, content_type: str | None) -> FetchResult:
    """A document a WebSub hub pushed, in the shape of a fetched one, so that it takes the same
    path as a polled document from here on (its Content-Type is the topic's, WebSub §7)."""
    return FetchResult(url=url, status=200, headers={"content-type": content_type} if content_type else {},
                       body=body)


async def _parse(run_cpu: RunCpu, response: FetchResult, max_entries: int) -> ParsedFeed:
    try:
        parsed: ParsedFeed = await run_cpu("parse", parse_newest, parse_feed, response.body, response.headers,
                                           response.url, max_entries)
    except CpuStepError as exc:
        raise FeedParseError(f"poll: {response.url}: {exc}") from exc
    return parsed


async def read_feed(feed: FeedSnapshot, response: FetchResult, fetcher: Fetcher, run_cpu: RunCpu, *,
                    max_entries: int) -> FeedFetch:
    """Stop early if 304 or the bytes are the ones last seen; otherwise parse in the pool, keeping
    the newest `max_entries` (a sitemap index: with its freshest children, fetched). Raises
    FeedParseError (also for a parse over its budget), FetchError."""
    if response.not_modified:
        return FeedFetch("not_modified", response, None, feed.body_hash)
    digest: str | None = hashlib.sha256(response.body).hexdigest()
    if digest == feed.body_hash:
        # Servers without validators still send identical bytes: skip the parse entirely.
        return FeedFetch("unchanged", response, None, digest)
    parsed = await _parse(run_cpu, response, max_entries)
    if parsed.sitemaps:
        parsed, fresh = await read_sitemap_index(parsed, fetcher, run_cpu, max_entries=max_entries)
        if not fresh:
            # Children without <lastmod> can change while the index stays byte for byte the
            # same: forget the validators so the next poll reads the children again.
            response = replace(response, etag=None, last_modified=None)
            digest = None
    return FeedFetch("ok", response, parsed, digest)


async def read_sitemap_index(index: ParsedFeed, fetcher: Fetcher, run_cpu: RunCpu, *,
                             max_entries: int) -> tuple[ParsedFeed, bool]:
    """Fetch the freshest few children of a sitemap index and read them as one feed. Returns it
    and whether an unchanged index will mean unchanged children: every child read, and each
    with a <lastmod>. A child that fails is noted in the warning; all failing is an error."""
    chosen = index.sitemaps[:CHILDREN_PER_POLL]

    async def one(url: str) -> ParsedFeed:
        return await _parse(run_cpu, await fetcher.fetch(url), max_entries)

    results = await asyncio.gather(*(one(ref.url) for ref in chosen), return_exceptions=True)
    children: list[ParsedFeed] = []
    problems: list[str] = []
    failures: list[FetchError | FeedParseError] = []
    for ref, result in zip(chosen, results, strict=True):
        if isinstance(result, ParsedFeed):
            children.append(result)
        elif isinstance(result, FetchError | FeedParseError):
            failures.append(result)
            problems.append(f"sitemap {ref.url}: {result}")
        else:
            raise result  # a bug: recorded on the feed like any other
    if failures and not children:
        raise failures[0]
    return merge_sitemaps(index, children, problems), not failures and all(ref.lastmod for ref in chosen)


def newest_entries(entries: Sequence[FeedEntry], limit: int) -> tuple[list[FeedEntry], bool]:
    """At most `limit` entries, the newest (undated ones last), in document order; and whether
    any were left for a later poll."""
    if len(entries) <= limit:
        return list(entries), False
    keep = {id(e) for e in newest_first(entries)[:limit]}
    return [e for e in entries if id(e) in keep], True


@dataclass(frozen=True, slots=True)
class PageFetch:
    body: bytes | None
    url: str | None
    ok: bool  # False: worth another try later (fetch failed, robots.txt unreachable)
    blocked: bool = False  # robots.txt disallows the page
    reason: str | None = None


async def fetch_page(fetcher: Fetcher, url: str | None, robots: RobotsCache | None = None) -> PageFetch:
    """An entry's page, unless robots.txt (when `robots` is given) says not to fetch it."""
    if not url:  # no page of its own: the feed's content is all there is, not a retry
        return PageFetch(None, None, True)
    if robots is not None:
        decision = await robots.check(url)
        if not decision.allowed:
            blocked = decision.outcome == "disallowed"
            return PageFetch(None, url, ok=blocked, blocked=blocked, reason=(decision.reason or "")[:REASON_CHARS])
    try:
        page = await fetcher.fetch(url, accept=PAGE_ACCEPT)
    except FetchError as exc:
        return PageFetch(None, url, False, reason=(str(exc) or exc.kind)[:REASON_CHARS])
    return PageFetch(page.body, page.url, True)


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


@dataclass(frozen=True, slots=True)
class StepBudgets:
    """Seconds each phase of an article's pool task may take (Settings' extract and quotes budgets)."""

    extract_s: float = 10.0
    quotes_s: float = 5.0


async def build_drafts(
    entries: Sequence[FeedEntry], fetcher: Fetcher, run_cpu: RunCpu, *, now: datetime, fetch_pages: bool,
    tsvector: bool = False, robots: RobotsCache | None = None, budgets: StepBudgets | None = None,
) -> list[ArticleDraft]:
    """Fetch each entry's page and analyse it; a page that fails, or that robots.txt keeps us
    from (`robots`; None: not consulted), keeps the feed's content and says why.
    `tsvector`: the search index text in PostgreSQL's form (see analyse_entry).

    Extraction and quotes go to the pool as one task per article ("analyse"), each phase within
    its own budget. When the task as a whole overruns in a worker process, a phase's deadline
    could not stop it: a call into C that never returned, which is parsing the page (quotes are
    Python and regular expressions, which the deadline stops), so the next source is tried
    rather than the same extraction again. Where no deadline reaches (in-process mode's
    threads), the source is done again as two tasks, "extract" then "quotes"."""
    overruns = _Overruns()
    limits = budgets or StepBudgets()

    async def in_two_steps(entry: FeedEntry, source: bytes | None, page_url: str | None, ok: bool, kind: str,
                           skipped: list[SkippedStep]) -> ArticleDraft:
        draft: ArticleDraft = await run_cpu("extract", analyse_entry, entry, source, page_url, ok, now, tsvector,
                                            skip=overruns.skip(kind, "extract"))
        if draft.text:
            try:
                quotes = await run_cpu("quotes", quotes_of, draft.text, draft.title,
                                       skip=overruns.skip("quotes", "quotes"))
                draft = replace(draft, quotes=quotes)
            except CpuStepError as exc:
                overruns.note("quotes", exc)
                skipped.append(SkippedStep("quotes", str(exc)))
        return draft

    async def analysed(entry: FeedEntry, source: bytes | None, page_url: str | None, ok: bool, kind: str,
                       skipped: list[SkippedStep]) -> ArticleDraft:
        """The draft of one source with its quotes; CpuStepError if its extraction did not finish."""
        decided: list[str | None] = []

        def quotes_skipped() -> tuple[str | None]:  # asked once the task has its pool slot
            decided.append(overruns.skip("quotes", "quotes")())
            return (decided[-1],)

        try:
            result: Analysed = await run_cpu("analyse", analyse_article, analyse_entry, quotes_of, entry, source,
                                             page_url, ok, now, tsvector, limits.extract_s, limits.quotes_s,
                                             skip=overruns.skip(kind, "extract"), late=quotes_skipped)
        except CpuBudgetError as overrun:
            if overrun.killed:
                raise CpuBudgetError("extract", limits.extract_s) from None
            return await in_two_steps(entry, source, page_url, ok, kind, skipped)
        if result.draft is None:  # extraction stopped at its deadline
            raise CpuBudgetError("extract", limits.extract_s)
        draft = result.draft
        if result.overran == "quotes":
            exc = CpuBudgetError("quotes", limits.quotes_s)
            overruns.note("quotes", exc)
            skipped.append(SkippedStep("quotes", str(exc)))
        elif draft.text and decided and decided[-1]:
            skipped.append(SkippedStep("quotes", decided[-1]))
        return draft

    async def extract(entry: FeedEntry, html: bytes | None, page_url: str | None, ok: bool,
                      skipped: list[SkippedStep]) -> ArticleDraft:
        # The page first, then the feed's own content, then the title alone.
        for kind, source in (("page", html), ("feed", None)) if html is not None else (("feed", None),):
            try:
                return await analysed(entry, source, page_url, ok, kind, skipped)
            except CpuStepError as exc:
                overruns.note(kind, exc)
                if not skipped:
                    skipped.append(SkippedStep("extract", str(exc)))
        return bare_draft(entry, page_url, now, tsvector)

    async def one(entry: FeedEntry) -> ArticleDraft:
        page = await fetch_page(fetcher, entry.link, robots) if fetch_pages else PageFetch(None, None, True)
        skipped: list[SkippedStep] = []
        draft = await extract(entry, page.body, page.url, page.ok, skipped)
        if page.blocked:
            draft = replace(draft, extraction="blocked", extraction_reason=page.reason)
        elif draft.extraction == "retry" and page.reason:
            draft = replace(draft, extraction_reason=page.reason)
        if not skipped:
            return draft
        for step in skipped:
            log.warning("ingest: step skipped", extra={"url": draft.url, "step": step.step, "reason": step.reason})
        return replace(draft, skipped=tuple(skipped))

    return list(await asyncio.gather(*(one(e) for e in entries)))
