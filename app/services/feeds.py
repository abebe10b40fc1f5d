"""Feed use cases: register (with discovery), OPML in and out, poll now."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app.domain.errors import (
    ConflictError,
    CpuStepError,
    DuplicateFeedError,
    FeedParseError,
    FetchError,
    InvalidRequestError,
)
from app.domain.feeds import OpmlOutline
from app.pipeline.guard import check_host_allowed, check_url_allowed, refusal, screen_urls
from app.pipeline.parse import Candidate, read_candidate
from app.pipeline.poll import candidate_feed_urls, opml_document, parse_opml_of, render_feed_rows
from app.runtime import Runtime
from app.storage import feeds as store
from app.storage import websub
from app.storage.database import Session
from app.storage.freshness import median_lag
from app.storage.models import Feed, WebSubSubscription
from app.workers.ingest import IngestWorker, PollReport

IMPORT_CHECKS_AT_ONCE = 16  # address checks (DNS) of an OPML import in flight at once
IMPORT_FEEDS_PER_TRANSACTION = 500  # rows of one INSERT; each slice of an import commits on its own
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
               "text/xml;q=0.9, */*;q=0.5")
ROBOTS_SITEMAPS_TRIED = 2  # after the feeds: sitemaps its robots.txt lists, news sitemaps first


async def check_outgoing_url(runtime: Runtime, url: str) -> None:
    """Refuse URLs that are malformed or point at blocked addresses. A name that does not
    resolve right now is accepted: the poller records the error and keeps trying, which is what
    a user registering a feed whose site is down for a moment expects."""
    try:
        await check_url_allowed(url, runtime.settings.allowed_ip_networks)
    except FetchError as exc:
        if (refused := refusal(exc)) is not None:
            raise InvalidRequestError(refused) from exc


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
    """Why each URL is refused (None: it is not). What can be told without the network (the
    URL's form, an address given as a number) is told in the API's pool; then each distinct
    host that is a name is resolved, IMPORT_CHECKS_AT_ONCE at a time. Checked one by one on the
    event loop, 20,000 addresses kept it busy without a pause, and the database's threads (on
    SQLite, every query) waited for the GIL until the last was checked."""
    allowed = runtime.settings.allowed_ip_networks
    try:
        screened = await runtime.api_cpu.run("parse", screen_urls, urls, allowed)
    except CpuStepError as exc:
        raise InvalidRequestError(str(exc)) from exc
    verdicts: dict[tuple[str, int], str | None] = dict.fromkeys(s for s in screened if isinstance(s, tuple))
    todo = iter(list(verdicts))

    async def checker() -> None:
        for host, port in todo:
            try:
                await check_host_allowed(host, port, allowed)
            except FetchError as exc:
                verdicts[host, port] = refusal(exc)

    await asyncio.gather(*(checker() for _ in range(min(IMPORT_CHECKS_AT_ONCE, len(verdicts)))))
    refused = [verdicts[s] if isinstance(s, tuple) else s for s in screened]
    return [f"{url}: {r}" if r is not None else None for url, r in zip(urls, refused, strict=True)]


async def import_opml(runtime: Runtime, document: bytes, progress: Callable[[int], object] | None = None, *,
                      read: Callable[[bytes], bytes] | None = None) -> tuple[int, int, list[str]]:
    """Register every feed of an OPML document. Imports trust the listed URLs as feeds (no
    discovery round-trip per feed) but still refuse blocked addresses. The document is read in
    the CPU pool (`read` first takes it out of a request body there) and the addresses checked
    before anything is written; then IMPORT_FEEDS_PER_TRANSACTION feeds are written a statement
    and a transaction: on SQLite a transaction holds the one write lock, so other writers wait for
    one slice, not for the whole import (which, a statement per feed, took 10 s for 20,000). An
    import stopped part-way keeps the slices written; importing again counts them as existing."""
    try:
        outlines: list[OpmlOutline] = await runtime.api_cpu.run("parse", parse_opml_of, read, document)
    except (FeedParseError, CpuStepError) as exc:
        raise InvalidRequestError(str(exc)) from exc
    async with runtime.db.reading() as session:
        known = await store.registered_urls(session, [o.url for o in outlines])
    fresh = [o for o in outlines if o.url not in known]
    refusals = await _refusals(runtime, [o.url for o in fresh])
    invalid = [r for r in refusals if r is not None]
    accepted = [(o.url, o.title) for o, refused in zip(fresh, refusals, strict=True) if refused is None]
    created = 0
    for start in range(0, len(accepted), IMPORT_FEEDS_PER_TRANSACTION):
        async with runtime.db.transaction() as session:
            # A URL registered meanwhile (another request) is skipped, and counted nowhere.
            inserted = await store.insert_new_feeds(session, accepted[start:start + IMPORT_FEEDS_PER_TRANSACTION],
                                                    now=runtime.clock())
        created += inserted
        if progress is not None:
            progress(inserted)
    return created, len(outlines) - len(fresh), invalid


async def export_opml(runtime: Runtime, session: Session) -> bytes:
    """Every feed as OPML, each page of feeds rendered in the API's pool as it is read: rendered
    on the event loop, 20,000 feeds held it 0.5 s; on a thread, competing for the GIL, ~150 ms."""
    parts = [await runtime.api_cpu.run("render", render_feed_rows, page) async for page in store.feed_outlines(session)]
    return opml_document(b"".join(parts))


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
