"""Feed use cases: register (with discovery), OPML in and out, poll now."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app.domain.errors import (
    BlockedAddressError,
    ConflictError,
    CpuStepError,
    DuplicateFeedError,
    FeedParseError,
    FetchError,
    InvalidRequestError,
)
from app.domain.feeds import OpmlOutline
from app.pipeline.guard import check_url_allowed
from app.pipeline.parse import Candidate, read_candidate
from app.pipeline.poll import candidate_feed_urls, parse_opml_of, render_opml
from app.runtime import Runtime
from app.storage import feeds as store
from app.storage import websub
from app.storage.database import Session
from app.storage.freshness import median_lag
from app.storage.models import Feed, WebSubSubscription
from app.workers.ingest import IngestWorker, PollReport

IMPORT_CHECKS_AT_ONCE = 16  # address checks (DNS) of an OPML import in flight at once
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
               "text/xml;q=0.9, */*;q=0.5")
ROBOTS_SITEMAPS_TRIED = 2  # after the feeds: sitemaps its robots.txt lists, news sitemaps first


async def check_outgoing_url(runtime: Runtime, url: str) -> None:
    """Refuse URLs that are malformed or point at blocked addresses. A name that does not
    resolve right now is accepted: the poller records the error and keeps trying, which is what
    a user registering a feed whose site is down for a moment expects."""
    try:
        await check_url_allowed(url, runtime.settings.allowed_ip_networks)
    except BlockedAddressError as exc:
        raise InvalidRequestError(f"{exc} (outgoing requests may not reach private, loopback or link-local "
                                  "addresses unless NEWS_INGEST_ALLOWED_NETWORKS allows them)") from exc
    except FetchError as exc:
        if exc.kind not in ("dns", "timeout"):
            raise InvalidRequestError(str(exc)) from exc


async def _inspect(runtime: Runtime, url: str) -> tuple[Candidate, str]:
    """Fetch `url` and read it in the API's CPU pool: a feed, or the feed links of a page."""
    response = await runtime.fetcher.fetch(url, accept=FEED_ACCEPT)
    try:
        candidate: Candidate = await runtime.api_cpu.run("parse", read_candidate, response.body,
                                                         response.headers, response.url)
    except CpuStepError:  # too costly to read: not a feed we want
        candidate = Candidate(False)
    return candidate, response.url


async def _robots_sitemaps(runtime: Runtime, url: str) -> list[str]:
    """The sitemaps the site's robots.txt lists, news sitemaps (by name) first."""
    listed = await runtime.robots.sitemaps(url)
    return sorted(listed, key=lambda u: "news" not in u.lower())[:ROBOTS_SITEMAPS_TRIED]


async def discover(runtime: Runtime, url: str) -> str:
    """The feed URL for `url`: itself when it is a feed (RSS, Atom, JSON Feed, sitemap), else
    what its page advertises, else a common path (/feed, /rss.xml, ...) that answers with a
    feed, else a sitemap its robots.txt lists (feeds first: they carry summaries and content).
    At most `discovery_candidates` feeds and ROBOTS_SITEMAPS_TRIED sitemaps are tried, all
    within one `discovery_deadline_s`.

    Unreachable URLs (and ones that do not answer in time) are kept as given: the poller records
    the error and retries, which is what a user registering a feed that is down for a moment
    expects."""
    settings = runtime.settings
    deadline = asyncio.get_running_loop().time() + settings.discovery_deadline_s
    try:
        async with asyncio.timeout_at(deadline):
            first, final_url = await _inspect(runtime, url)
    except TimeoutError:
        return url
    except FetchError as exc:
        if exc.kind == "blocked_address":
            raise InvalidRequestError(str(exc)) from exc
        return url
    if first.is_feed:
        return url
    candidates = list(dict.fromkeys(first.links + tuple(candidate_feed_urls(final_url))))
    try:
        async with asyncio.timeout_at(deadline):
            for candidate in candidates[:settings.discovery_candidates]:
                if await _answers_with_feed(runtime, candidate):
                    return candidate
            for candidate in await _robots_sitemaps(runtime, final_url):
                if await _answers_with_feed(runtime, candidate):
                    return candidate
    except TimeoutError:
        raise InvalidRequestError(f"feeds: {url} is not a feed, and none of the feeds it leads to answered "
                                  f"within {settings.discovery_deadline_s:g} s") from None
    raise InvalidRequestError(f"feeds: {url} is neither a feed nor a page that links to one")


async def _answers_with_feed(runtime: Runtime, url: str) -> bool:
    try:
        found, _ = await _inspect(runtime, url)
    except FetchError:
        return False
    return found.is_feed


async def register_feed(runtime: Runtime, *, url: str, title: str | None, interval_override_s: int | None) -> Feed:
    """Check and discover first, then write: no network I/O inside the write transaction (on
    SQLite it holds the one write lock; anywhere it holds a connection idle in transaction)."""
    await check_outgoing_url(runtime, url)
    async with runtime.db.reading() as session:
        if (existing := await store.find_feed_by_url(session, url)) is not None:
            raise DuplicateFeedError(existing.id, existing.url)
    feed_url = await discover(runtime, url)
    try:
        async with runtime.db.transaction() as session:
            return await store.create_feed(session, url=feed_url, title=title,
                                           interval_override_s=interval_override_s, now=runtime.clock())
    except DuplicateFeedError:
        raise
    except ConflictError:
        # A concurrent registration won the race: name its feed, as for any duplicate.
        async with runtime.db.reading() as session:
            if (existing := await store.find_feed_by_url(session, feed_url)) is not None:
                raise DuplicateFeedError(existing.id, existing.url) from None
        raise


async def _refusals(runtime: Runtime, urls: list[str]) -> list[str | None]:
    """Why each URL is refused (None: it is not), IMPORT_CHECKS_AT_ONCE checks at a time. A few
    workers, not a task per URL: 20,000 tasks made at once, and the checks of IP literals that
    never wait, held the event loop in one go."""
    refusals: list[str | None] = [None] * len(urls)
    todo = iter(enumerate(urls))

    async def checker() -> None:
        for n, url in todo:
            try:
                await check_outgoing_url(runtime, url)
            except InvalidRequestError as exc:
                refusals[n] = f"{url}: {exc}"
            await asyncio.sleep(0)  # an address given as a number is checked without waiting

    await asyncio.gather(*(checker() for _ in range(IMPORT_CHECKS_AT_ONCE)))
    return refusals


async def import_opml(runtime: Runtime, document: bytes, progress: Callable[[int], object] | None = None, *,
                      read: Callable[[bytes], bytes] | None = None) -> tuple[int, int, list[str]]:
    """Register every feed of an OPML document. Imports trust the listed URLs as feeds (no
    discovery round-trip per feed) but still refuse blocked addresses. The document is read in
    the CPU pool (`read` first takes it out of a request body there) and the addresses checked
    before the one write transaction."""
    try:
        outlines: list[OpmlOutline] = await runtime.api_cpu.run("parse", parse_opml_of, read, document)
    except (FeedParseError, CpuStepError) as exc:
        raise InvalidRequestError(str(exc)) from exc
    async with runtime.db.reading() as session:
        known = await store.registered_urls(session, [o.url for o in outlines])
    fresh = [o for o in outlines if o.url not in known]
    refusals = await _refusals(runtime, [o.url for o in fresh])
    invalid = [r for r in refusals if r is not None]
    created = 0
    async with runtime.db.transaction() as session:
        for outline, refused in zip(fresh, refusals, strict=True):
            if refused is not None:
                continue
            try:
                await store.create_feed(session, url=outline.url, title=outline.title, interval_override_s=None,
                                        now=runtime.clock())
            except ConflictError:  # registered meanwhile
                continue
            created += 1
            if progress is not None:
                progress(1)
    return created, len(outlines) - len(fresh), invalid


def _render(feeds: list[tuple[str, str | None, str | None]]) -> bytes:
    return render_opml([OpmlOutline(url=url, title=title, site_url=site_url) for url, title, site_url in feeds])


async def export_opml(session: Session) -> bytes:
    """Every feed as OPML, written on a thread (it hands the interpreter back to the event loop
    every 5 ms): 20,000 feeds took 0.5 s of the loop's time in one go."""
    return await asyncio.to_thread(_render, await store.feed_outlines(session))


async def poll_now(runtime: Runtime, feed_id: int) -> tuple[PollReport, Feed]:
    return await IngestWorker(runtime).poll_now(feed_id)


async def update_feed(runtime: Runtime, session: Session, feed_id: int, changes: dict[str, Any]) -> Feed:
    """Change a feed; pausing it also unsubscribes it from its WebSub hub (resuming subscribes again)."""
    feed = await store.update_feed(session, feed_id, changes, now=runtime.clock())
    if changes.get("paused"):
        await websub.retire_feed(session, feed_id, now=runtime.clock())
    return feed


async def delete_feed(runtime: Runtime, session: Session, feed_id: int) -> None:
    """Forget a feed (its articles stay); its WebSub hub is told to stop pushing it."""
    await store.get_feed(session, feed_id)  # NotFoundError first, for ids no row can have too
    await websub.retire_feed(session, feed_id, now=runtime.clock())
    await store.delete_feed(session, feed_id)


async def feed_detail(runtime: Runtime, session: Session,
                      feed_id: int) -> tuple[Feed, WebSubSubscription | None, float | None, int]:
    """The feed, its current WebSub subscription and its median lag (seconds, sample size)."""
    feed = await store.get_feed(session, feed_id)
    subscription = await websub.feed_subscription(session, feed_id)
    lag, sample = await median_lag(session, feed_id)
    return feed, subscription, lag, sample
