"""Feed use cases: register (with discovery), OPML in and out, poll now."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import (
    BlockedAddressError,
    ConflictError,
    FeedParseError,
    FetchError,
    InvalidRequestError,
)
from app.domain.feeds import OpmlOutline
from app.pipeline.fetch import check_url_allowed
from app.pipeline.poll import candidate_feed_urls, discover_feed_urls, parse_feed, parse_opml, render_opml
from app.runtime import Runtime
from app.storage import feeds as store
from app.storage import websub
from app.storage.freshness import median_lag
from app.storage.models import Feed, WebSubSubscription
from app.workers.ingest import IngestWorker, PollReport

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
               "text/xml;q=0.9, */*;q=0.5")
ROBOTS_SITEMAPS_TRIED = 5


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


async def _is_feed(runtime: Runtime, url: str) -> tuple[bool, bytes, str]:
    response = await runtime.fetcher.fetch(url, accept=FEED_ACCEPT)
    try:
        parse_feed(response.body, response.headers, response.url)
    except FeedParseError:
        return False, response.body, response.url
    return True, response.body, response.url


async def _robots_sitemaps(runtime: Runtime, url: str) -> list[str]:
    """The sitemaps the site's robots.txt lists, news sitemaps (by name) first."""
    listed = await runtime.robots.sitemaps(url)
    return sorted(listed, key=lambda u: "news" not in u.lower())[:ROBOTS_SITEMAPS_TRIED]


async def discover(runtime: Runtime, url: str) -> str:
    """The feed URL for `url`: itself when it is a feed (RSS, Atom, JSON Feed, sitemap), else
    what its page advertises, else a common path (/feed, /rss.xml, ...) that answers with a
    feed, else a sitemap its robots.txt lists (feeds first: they carry summaries and content).
    Unreachable URLs are kept as given: the poller records the error and retries, which is
    what a user registering a feed that is down for a moment expects."""
    try:
        is_feed, body, final_url = await _is_feed(runtime, url)
    except FetchError as exc:
        if exc.kind == "blocked_address":
            raise InvalidRequestError(str(exc)) from exc
        return url
    if is_feed:
        return url
    for candidate in discover_feed_urls(body, final_url) + candidate_feed_urls(final_url):
        if await _answers_with_feed(runtime, candidate):
            return candidate
    for candidate in await _robots_sitemaps(runtime, final_url):
        if await _answers_with_feed(runtime, candidate):
            return candidate
    raise InvalidRequestError(f"feeds: {url} is neither a feed nor a page that links to one")


async def _answers_with_feed(runtime: Runtime, url: str) -> bool:
    try:
        ok, _, _ = await _is_feed(runtime, url)
    except FetchError:
        return False
    return ok


async def register_feed(runtime: Runtime, session: AsyncSession, *, url: str, title: str | None,
                        interval_override_s: int | None) -> Feed:
    await check_outgoing_url(runtime, url)
    if await store.find_feed_by_url(session, url) is not None:
        raise ConflictError(f"feeds: {url} is already registered")
    feed_url = await discover(runtime, url)
    return await store.create_feed(session, url=feed_url, title=title, interval_override_s=interval_override_s,
                                   now=runtime.clock())


async def import_opml(runtime: Runtime, session: AsyncSession, document: bytes,
                      progress: object | None = None) -> tuple[int, int, list[str]]:
    """Register every feed of an OPML document. Imports trust the listed URLs as feeds (no
    discovery round-trip per feed) but still refuse blocked addresses."""
    try:
        outlines = parse_opml(document)
    except FeedParseError as exc:
        raise InvalidRequestError(str(exc)) from exc
    created = existing = 0
    invalid: list[str] = []
    for outline in outlines:
        if await store.find_feed_by_url(session, outline.url) is not None:
            existing += 1
            continue
        try:
            await check_outgoing_url(runtime, outline.url)
        except InvalidRequestError as exc:
            invalid.append(f"{outline.url}: {exc}")
            continue
        await store.create_feed(session, url=outline.url, title=outline.title, interval_override_s=None,
                                now=runtime.clock())
        created += 1
        if callable(progress):
            progress(1)
    return created, existing, invalid


async def export_opml(session: AsyncSession) -> bytes:
    feeds = await store.all_feeds(session)
    return render_opml([OpmlOutline(url=f.url, title=f.title, site_url=f.site_url) for f in feeds])


async def poll_now(runtime: Runtime, feed_id: int) -> tuple[PollReport, Feed]:
    return await IngestWorker(runtime).poll_now(feed_id)


async def update_feed(runtime: Runtime, session: AsyncSession, feed_id: int, changes: dict[str, Any]) -> Feed:
    """Change a feed; pausing it also unsubscribes it from its WebSub hub (resuming subscribes again)."""
    feed = await store.update_feed(session, feed_id, changes, now=runtime.clock())
    if changes.get("paused"):
        await websub.retire_feed(session, feed_id, now=runtime.clock())
    return feed


async def delete_feed(runtime: Runtime, session: AsyncSession, feed_id: int) -> None:
    """Forget a feed (its articles stay); its WebSub hub is told to stop pushing it."""
    await store.get_feed(session, feed_id)  # NotFoundError first, for ids no row can have too
    await websub.retire_feed(session, feed_id, now=runtime.clock())
    await store.delete_feed(session, feed_id)


async def feed_detail(runtime: Runtime, session: AsyncSession,
                      feed_id: int) -> tuple[Feed, WebSubSubscription | None, float | None, int]:
    """The feed, its current WebSub subscription and its median lag (seconds, sample size)."""
    feed = await store.get_feed(session, feed_id)
    subscription = await websub.feed_subscription(session, feed_id)
    lag, sample = await median_lag(session, feed_id)
    return feed, subscription, lag, sample
