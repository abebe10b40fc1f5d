"""The polling worker: claim due feeds with a lease, refresh each, store what was found.

Reads top to bottom as: claim -> refresh (app.pipeline.flow) -> store + schedule in one
transaction. A failure is recorded on the feed (state, last error, backoff); it never
escapes the loop and a feed is never dropped. A worker that dies leaves leases that expire.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from app.domain.errors import FeedParseError, FetchError, NewsIngestError
from app.domain.feeds import FeedEntry
from app.domain.ingest import ArticleDraft, StoredBatch
from app.domain.limits import clean_text
from app.pipeline.flow import FeedFetch, FeedSnapshot, build_drafts, fetch_feed, newest_entries
from app.pipeline.poll import backoff_delay, feed_health, next_poll_at
from app.pipeline.websub import discover
from app.runtime import Runtime
from app.storage import websub
from app.storage.dialects import is_transient, storage_failure
from app.storage.feeds import claim_due_feeds, claim_feed
from app.storage.ingest import InTransaction, known_entries, save_feed_state, store_drafts
from app.storage.models import Feed
from app.storage.outbox import record_events
from app.storage.search_index import uses_tsvector

log = logging.getLogger("news_ingest.ingest")

Outcome = Literal["ok", "not_modified", "unchanged", "error"]
DEGRADED_AFTER, FAILING_AFTER = 1, 5
MAX_PAGE_ATTEMPTS = 3
STORE_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class PollReport:
    feed_id: int
    outcome: Outcome
    entries: int = 0
    created: int = 0
    updated: int = 0
    error: str | None = None


def _snapshot(feed: Feed) -> FeedSnapshot:
    return FeedSnapshot(id=feed.id, url=feed.url, etag=feed.etag, last_modified=feed.last_modified,
                        body_hash=feed.body_hash)


def _failure_message(exc: Exception) -> str:
    """What a feed's last_error says: our own errors as they are, a database error or a bug as a
    short component message (never SQL text; the whole error is in the log)."""
    if isinstance(exc, NewsIngestError):
        return clean_text(str(exc)) or type(exc).__name__
    return storage_failure(exc) or f"ingest: unexpected {type(exc).__name__}; see the service log"


class IngestWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings

    # ------------------------------------------------------------------ loop
    async def run(self, stop: asyncio.Event) -> None:
        running: set[asyncio.Task[PollReport]] = set()
        limit = max(1, self.settings.worker_concurrency)
        while not stop.is_set():
            free = limit - len(running)
            feeds: list[Feed] = []
            if free > 0:
                try:
                    feeds = await self.claim(min(free, self.settings.poll_batch_size))
                except Exception:  # database briefly unavailable: log, wait, try again
                    log.exception("ingest: claiming feeds failed")
            for feed in feeds:
                task = asyncio.create_task(self.refresh(feed))
                running.add(task)
                task.add_done_callback(running.discard)
            if not feeds:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.idle_sleep_s)
                except TimeoutError:
                    pass
            elif free <= len(feeds):
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        if running:
            await asyncio.wait(running, timeout=30)

    async def claim(self, limit: int) -> list[Feed]:
        async with self.runtime.db.transaction() as session:
            return await claim_due_feeds(session, now=self.runtime.clock(), limit=limit,
                                         owner=self.runtime.worker_id, lease_s=self.settings.lease_s)

    async def poll_now(self, feed_id: int) -> tuple[PollReport, Feed]:
        async with self.runtime.db.transaction() as session:
            feed = await claim_feed(session, feed_id, now=self.runtime.clock(), owner=self.runtime.worker_id,
                                    lease_s=self.settings.lease_s)
        report = await self.refresh(feed)
        async with self.runtime.db.sessions() as session:
            refreshed = await session.get(Feed, feed_id)
        assert refreshed is not None
        return report, refreshed

    # ------------------------------------------------------------------ one feed
    async def refresh(self, feed: Feed) -> PollReport:
        metrics = self.runtime.metrics
        try:
            fetched = await fetch_feed(_snapshot(feed), self.runtime.fetcher, self.runtime.cpu.run,
                                       max_entries=self.settings.max_feed_entries)
            report = await self._store(feed, fetched)
        except (FetchError, FeedParseError) as exc:
            report = await self._record_failure(feed, exc)
        except Exception as exc:  # a bug must not stop the loop; record it on the feed
            log.exception("ingest: unexpected error", extra={"feed_id": feed.id, "url": feed.url})
            report = await self._record_failure(feed, exc)
        metrics.polls.labels(report.outcome).inc()
        metrics.articles.labels("created").inc(report.created)
        metrics.articles.labels("updated").inc(report.updated)
        log.debug("ingest: polled", extra={"feed_id": feed.id, "url": feed.url, "outcome": report.outcome,
                                           "articles_created": report.created, "articles_updated": report.updated})
        return report

    def _next_poll(self, feed: Feed, now: datetime, fetched: FeedFetch) -> tuple[datetime, int]:
        parsed = fetched.parsed
        at = next_poll_at(
            now,
            entry_times=[e.published for e in parsed.entries] if parsed else (),
            ttl_s=parsed.ttl_s if parsed else None,
            headers=fetched.response.headers,
            override_s=feed.poll_interval_override_s,
            min_interval_s=self.settings.min_poll_interval_s,
            max_interval_s=self.settings.max_poll_interval_s,
        )
        if parsed is None and feed.interval_s:
            # 304/unchanged says nothing about publishing frequency: keep the learned interval.
            at = max(at, now + timedelta(seconds=feed.interval_s)) if not feed.poll_interval_override_s else at
        if feed.push_until is not None and feed.push_until > now and not feed.poll_interval_override_s:
            # A hub pushes this feed (WebSub): poll only as a safety net, within the interval bounds.
            relaxed = min(self.settings.websub_poll_interval_s, self.settings.max_poll_interval_s)
            at = max(at, now + timedelta(seconds=relaxed))
        return at, int((at - now).total_seconds())

    async def _drafts(self, feed: Feed, entries: Sequence[FeedEntry],
                      now: datetime) -> tuple[list[ArticleDraft], bool]:
        """Drafts of the entries worth a page fetch, at most `max_entries_per_poll` of them (newest
        first), and whether any were left for a later poll."""
        async with self.runtime.db.sessions() as session:
            known = await known_entries(session, feed.id, entries) if entries else {}
        # Only new entries, entries whose title/summary the feed has edited, and entries whose
        # page could not be fetched last time (a few attempts) cost a page fetch. An entry
        # without a title (a sitemap URL) was titled from its page: that is no edit.
        todo = [e for e in entries if e.guid not in known
                or (e.title is not None and (known[e.guid].title or "") != e.title)
                or (known[e.guid].summary or "") != (e.summary or "")
                or (known[e.guid].extraction == "retry" and known[e.guid].extraction_attempts < MAX_PAGE_ATTEMPTS)]
        todo, deferred = newest_entries(todo, self.settings.max_entries_per_poll)
        robots = self.runtime.robots if self.settings.obey_robots_txt else None
        drafts = await build_drafts(todo, self.runtime.fetcher, self.runtime.cpu.run, now=now,
                                    fetch_pages=self.settings.fetch_articles,
                                    tsvector=uses_tsvector(self.runtime.db.dialect), robots=robots) if todo else []
        return drafts, deferred

    def _hub_change(self, feed: Feed, fetched: FeedFetch, values: dict[str, object],
                    now: datetime) -> InTransaction | None:
        """WebSub discovery (§4) on every parsed document: when the advertised hub or topic
        changed, record it and (re)subscribe in the poll's transaction."""
        links = discover(fetched.response.headers, fetched.parsed, fetched.response.url)
        hub, topic = (links.hub, links.topic) if links else (None, None)
        if (hub, topic) == (feed.websub_hub, feed.websub_topic):
            return None
        values.update(websub_hub=hub, websub_topic=topic)
        subscribe, allow_http = self.settings.public_url is not None, self.settings.websub_allow_http_hubs
        return lambda session: websub.hub_changed(session, feed.id, links, now=now, subscribe=subscribe,
                                                  allow_http=allow_http)

    async def _store(self, feed: Feed, fetched: FeedFetch) -> PollReport:
        now = self.runtime.clock()
        parsed = fetched.parsed
        entries = list(parsed.entries) if parsed else []
        drafts, deferred = await self._drafts(feed, entries, now)
        response = fetched.response
        next_at, interval = self._next_poll(feed, now, fetched)
        values: dict[str, object] = {
            "last_polled_at": now, "last_success_at": now, "next_poll_at": next_at, "interval_s": interval,
            "consecutive_failures": 0, "state": "ok", "polls": feed.polls + 1,
            "etag": response.etag or (feed.etag if fetched.outcome == "not_modified" else None),
            "last_modified": response.last_modified or (
                feed.last_modified if fetched.outcome == "not_modified" else None),
            "body_hash": fetched.body_hash,
        }
        if deferred:
            # Entries are waiting: the next poll comes soon and must read the document again,
            # not get a 304.
            values.update(etag=None, last_modified=None, body_hash=None,
                          next_poll_at=min(next_at, now + timedelta(seconds=self.settings.min_poll_interval_s)))
        if parsed is not None:
            values["parse_warning"] = parsed.warning
            if parsed.title and not feed.title:
                values["title"] = parsed.title
            if parsed.site_link and not feed.site_url:
                values["site_url"] = parsed.site_link
        values.update(self._redirect_values(feed, fetched))
        hub_change = self._hub_change(feed, fetched, values, now) if parsed is not None else None
        stored = await self._commit(feed, drafts, values, now=now, seen_at=now, via="poll", also=hub_change)
        total = len(entries) + (parsed.omitted if parsed else 0)
        return PollReport(feed.id, fetched.outcome, total, len(stored.created), len(stored.updated))

    async def store_pushed(self, feed: Feed, fetched: FeedFetch, *, seen_at: datetime,
                           also: InTransaction) -> PollReport:
        """Store a document a WebSub hub pushed, exactly as a polled one is stored (same drafts,
        dedup, quotes, index and events, one transaction), without touching the poll schedule
        or the feed's health. `also` runs in that transaction (it deletes the stored push).
        The caller holds the feed's lease; this releases it."""
        parsed = fetched.parsed
        entries = list(parsed.entries) if parsed else []
        # An entry without a date of its own is dated when the push arrived, as a polled one
        # is dated when its poll answered.
        drafts, _ = await self._drafts(feed, entries, seen_at)  # a longer push: the rest waits for a poll
        values: dict[str, object] = {}
        if parsed is not None and parsed.title and not feed.title:
            values["title"] = parsed.title
        stored = await self._commit(feed, drafts, values, now=self.runtime.clock(), seen_at=seen_at, via="push",
                                    also=also)
        return PollReport(feed.id, fetched.outcome, len(entries), len(stored.created), len(stored.updated))

    async def _commit(self, feed: Feed, drafts: list[ArticleDraft], values: dict[str, object], *, now: datetime,
                      seen_at: datetime, via: Literal["poll", "push"], also: InTransaction | None) -> StoredBatch:
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                async with self.runtime.db.transaction() as session:
                    stored = await store_drafts(session, feed.id, drafts, now, feed_url=feed.url, seen_at=seen_at)
                    if feed.state in ("failing", "gone") and via == "poll":
                        await record_events(session, [("feed.recovered", {"feed": {"id": feed.id, "url": feed.url}})],
                                      now=now)
                    await save_feed_state(session, feed.id, values)
                    if also is not None:
                        await also(session)
                break
            except Exception as exc:
                # Two workers storing articles that quote the same people can deadlock on the
                # speaker rows; PostgreSQL aborts one, and running it again is the documented cure.
                if attempt == STORE_ATTEMPTS or not is_transient(exc):
                    raise
                log.warning("ingest: store conflict, retrying", extra={"feed_id": feed.id, "attempt": attempt})
                await asyncio.sleep(random.uniform(0.05, 0.25) * attempt)
        metrics = self.runtime.metrics
        metrics.quotes.inc(stored.quotes)
        stored_at = self.runtime.clock()
        for published in stored.published:
            # An entry without a date was given seen_at as its date: it says nothing about lag.
            if published != seen_at:
                metrics.store_lag.labels(via).observe(max(0.0, (stored_at - published).total_seconds()))
        if stored.created or stored.updated:
            self.runtime.wakeups.notify("outbox")
        return stored

    def _redirect_values(self, feed: Feed, fetched: FeedFetch) -> dict[str, object]:
        # A permanent redirect moves the feed only when seen on two consecutive polls, so a
        # misconfigured server for a few minutes does not rewrite the stored URL for good.
        target = fetched.response.permanent_redirect
        if not target or target == feed.url:
            return {"redirect_candidate": None}
        if feed.redirect_candidate == target:
            return {"url": target, "redirect_candidate": None}
        return {"redirect_candidate": target}

    async def _record_failure(self, feed: Feed, exc: Exception) -> PollReport:
        now = self.runtime.clock()
        failures = feed.consecutive_failures + 1
        message = _failure_message(exc)
        kind = getattr(exc, "kind", None)
        values: dict[str, object] = {
            "last_polled_at": now, "last_error": message[:2000], "last_error_at": now,
            "consecutive_failures": failures, "polls": feed.polls + 1,
        }
        if kind == "gone":
            values["state"] = "gone"  # 410: stop polling; a PATCH or manual poll can revive it
            values["next_poll_at"] = now + timedelta(seconds=self.settings.max_poll_interval_s)
        else:
            delay = backoff_delay(failures, base=60.0, cap=float(self.settings.max_backoff_s),
                                  retry_after=getattr(exc, "retry_after", None))
            values["next_poll_at"] = now + timedelta(seconds=delay)
            values["state"] = feed_health(failures, degraded_after=DEGRADED_AFTER, failing_after=FAILING_AFTER)
        async with self.runtime.db.transaction() as session:
            if values["state"] in ("failing", "gone") and feed.state not in ("failing", "gone"):
                await record_events(session, [("feed.failing", {"feed": {"id": feed.id, "url": feed.url,
                                                                   "state": values["state"],
                                                                   "error": message[:500]}})], now=now)
            await save_feed_state(session, feed.id, values)
        return PollReport(feed.id, "error", error=message)
