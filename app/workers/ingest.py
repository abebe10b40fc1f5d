"""The polling worker: claim due feeds with a lease, refresh each, store what was found.

Reads top to bottom as: claim -> refresh (app.pipeline.refresh: one typed `Refresh`, drafts and
the feed's new state and schedule) -> store it in one transaction. A failure is recorded on the
feed (state, last error, backoff); it never escapes the loop and a feed is never dropped. A
batch the database refuses for a value in it is stored again article by article
(app.storage.salvage): the refused articles are left out, the rest and the feed's state stored.
A worker that dies leaves leases that expire. No policy lives here.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.domain.errors import FeedParseError, FetchError, NewsIngestError
from app.domain.feeds import FeedEntry
from app.domain.ingest import StoredBatch
from app.domain.refresh import FeedView, KnownEntry
from app.domain.refusals import refusal
from app.pipeline.flow import FeedFetch, StepBudgets
from app.pipeline.refresh import (
    Outcome,
    Refresh,
    RefreshPolicy,
    failed,
    failure_message,
    refresh_feed,
    refresh_pushed,
    with_refused,
)
from app.pipeline.schedule import SchedulePolicy
from app.runtime import Runtime
from app.storage import websub
from app.storage.dialects import is_transient, refused_value, storage_failure
from app.storage.feeds import claim_due_feeds, claim_feed, feed_view, get_feed
from app.storage.ingest import InTransaction, known_entries, save_feed_state, store_drafts
from app.storage.models import Feed
from app.storage.outbox import record_events
from app.storage.salvage import Refused, store_each
from app.storage.search_index import uses_tsvector

log = logging.getLogger("news_ingest.ingest")

STORE_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class PollReport:
    feed_id: int
    outcome: Outcome
    entries: int = 0
    created: int = 0
    updated: int = 0
    error: str | None = None


def _failure_message(exc: Exception) -> str:
    """What a feed's last_error says: our own errors as they are, a database error or a bug as a
    short component message (never SQL text; the whole error is in the log)."""
    if isinstance(exc, NewsIngestError):
        return failure_message(exc)
    return storage_failure(exc) or f"ingest: unexpected {type(exc).__name__}; see the service log"


class IngestWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = s = runtime.settings
        self.policy = RefreshPolicy(
            schedule=SchedulePolicy(min_interval_s=s.min_poll_interval_s, max_interval_s=s.max_poll_interval_s,
                                    websub_poll_interval_s=s.websub_poll_interval_s, max_backoff_s=s.max_backoff_s),
            max_feed_entries=s.max_feed_entries, max_entries_per_poll=s.max_entries_per_poll,
            fetch_pages=s.fetch_articles, tsvector=uses_tsvector(runtime.db.dialect),
            budgets=StepBudgets(extract_s=s.extract_budget_s, quotes_s=s.quotes_budget_s))

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
            refreshed = await get_feed(session, feed_id)
        return report, refreshed

    # ------------------------------------------------------------------ one feed
    async def refresh(self, feed: Feed) -> PollReport:
        view = feed_view(feed)
        robots = self.runtime.robots if self.settings.obey_robots_txt else None
        try:
            result = await refresh_feed(view, self.runtime.fetcher, self.runtime.cpu.run,
                                        lambda entries: self._known(view, entries), clock=self.runtime.clock,
                                        policy=self.policy, robots=robots)
            report = await self._store(view, result, via="poll")
        except Exception as exc:  # a bug or the database must not stop the loop; record it on the feed
            if not isinstance(exc, FetchError | FeedParseError):
                log.exception("ingest: unexpected error", extra={"feed_id": feed.id, "url": feed.url})
            result = failed(view, self.runtime.clock(), self.policy.schedule, message=_failure_message(exc),
                            kind=getattr(exc, "kind", None), retry_after=getattr(exc, "retry_after", None))
            report = await self._store(view, result, via="poll")
        metrics = self.runtime.metrics
        metrics.polls.labels(report.outcome).inc()
        metrics.articles.labels("created").inc(report.created)
        metrics.articles.labels("updated").inc(report.updated)
        log.debug("ingest: polled", extra={"feed_id": feed.id, "url": feed.url, "outcome": report.outcome,
                                           "articles_created": report.created, "articles_updated": report.updated})
        return report

    async def _known(self, feed: FeedView, entries: Sequence[FeedEntry]) -> Mapping[str, KnownEntry]:
        async with self.runtime.db.sessions() as session:
            return await known_entries(session, feed.id, entries)

    async def store_pushed(self, feed: Feed, fetched: FeedFetch, *, seen_at: datetime,
                           also: InTransaction) -> PollReport:
        """Store a document a WebSub hub pushed, exactly as a polled one is stored (same drafts,
        dedup, quotes, index and events, one transaction). `also` runs in that transaction (it
        deletes the stored push). The caller holds the feed's lease; this releases it."""
        view = feed_view(feed)
        robots = self.runtime.robots if self.settings.obey_robots_txt else None
        result = await refresh_pushed(view, fetched, lambda entries: self._known(view, entries),
                                      self.runtime.fetcher, self.runtime.cpu.run, seen_at=seen_at,
                                      policy=self.policy, robots=robots)
        return await self._store(view, result, via="push", also=also)

    async def _store(self, feed: FeedView, result: Refresh, *, via: Literal["poll", "push"],
                     also: InTransaction | None = None) -> PollReport:
        now = result.at if via == "poll" else self.runtime.clock()
        try:
            stored, refused = await self._write(feed, result, now, also=also, one_by_one=False)
        except Exception as exc:
            if not result.drafts or not refused_value(exc):
                raise
            # A value nobody foresaw, refused by the database: without it the rest can be stored.
            log.warning("ingest: the database refused the poll's articles, storing them one by one",
                        extra={"feed_id": feed.id, "url": feed.url, "error": storage_failure(exc)})
            stored, refused = await self._write(feed, result, now, also=also, one_by_one=True)
        for left_out in refused:
            draft = left_out.draft
            log.warning("ingest: article left out, the database refused it",
                        extra={"feed_id": feed.id, "url": draft.url, "guid": draft.guid, "error": left_out.error,
                               "reason": left_out.reason})
        if refused:
            self.runtime.metrics.articles.labels("refused").inc(len(refused))
        self._observe(stored, result.at, via)
        return PollReport(feed.id, result.outcome, result.entries, len(stored.created), len(stored.updated),
                          error=result.error)

    async def _write(self, feed: FeedView, result: Refresh, now: datetime, *, also: InTransaction | None,
                     one_by_one: bool) -> tuple[StoredBatch, list[Refused]]:
        """The refresh in one transaction: the drafts in one batch, or `one_by_one` (refused ones
        left out, remembered on the feed), then the feed's state, events and WebSub change."""
        hub = result.hub
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                async with self.runtime.db.transaction() as session:
                    stored, refused = StoredBatch((), (), 0), list[Refused]()
                    if one_by_one:
                        stored, refused = await store_each(session, feed.id, result.drafts, now, feed_url=feed.url,
                                                           seen_at=result.at)
                    elif result.outcome != "error":
                        stored = await store_drafts(session, feed.id, list(result.drafts), now, feed_url=feed.url,
                                                    seen_at=result.at)
                    if result.events:
                        await record_events(session, list(result.events), now=now)
                    update = with_refused(result, feed, [refusal(r.draft, now) for r in refused]) if refused \
                        else result.update
                    await save_feed_state(session, feed.id, update)
                    if hub is not None:
                        s = self.settings
                        await websub.hub_changed(session, feed.id, hub.links, now=now,
                                                 subscribe=s.public_url is not None,
                                                 allow_http=s.websub_allow_http_hubs)
                    if also is not None:
                        await also(session)
                return stored, refused
            except Exception as exc:
                # Two workers storing articles that quote the same people can deadlock on the
                # speaker rows; PostgreSQL aborts one, and running it again is the documented cure.
                if attempt == STORE_ATTEMPTS or not is_transient(exc):
                    raise
                log.warning("ingest: store conflict, retrying", extra={"feed_id": feed.id, "attempt": attempt})
                await asyncio.sleep(random.uniform(0.05, 0.25) * attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _observe(self, stored: StoredBatch, seen_at: datetime, via: str) -> None:
        metrics = self.runtime.metrics
        metrics.quotes.inc(stored.quotes)
        stored_at = self.runtime.clock()
        for published in stored.published:
            # An entry without a date was given seen_at as its date: it says nothing about lag.
            if published != seen_at:
                metrics.store_lag.labels(via).observe(max(0.0, (stored_at - published).total_seconds()))
        if stored.created or stored.updated:
            self.runtime.wakeups.notify("outbox")
