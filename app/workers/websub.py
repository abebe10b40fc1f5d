"""The WebSub worker: store what hubs pushed, and keep subscriptions in the state we want.

Each round, in any number of processes at once (rows are claimed with leases):

    pushes         claim stored pushes -> lease the feed -> the polling pipeline stores the
                   document (app.workers.ingest.IngestWorker.store_pushed) and deletes the push
                   in the same transaction; a feed being polled right now is retried a moment later
    subscriptions  claim due rows -> decide (app.domain.websub.next_step) -> record the request,
                   send it to the hub, record the answer; the hub's verification reaches the API
    adoption       feeds that advertise a hub but have no subscription get one (a resumed feed,
                   or every such feed once NEWS_INGEST_PUBLIC_URL is set)

Nothing is held in memory between rounds; a worker that dies leaves leases that expire.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from datetime import timedelta

from app.domain.errors import ConflictError, FeedParseError, NotFoundError
from app.domain.refresh import FeedUpdate
from app.domain.websub import next_step
from app.pipeline.flow import FeedSnapshot, pushed_response, read_feed
from app.pipeline.schedule import backoff_delay
from app.pipeline.websub import HubClient, callback_url, subscription_form
from app.runtime import Runtime
from app.storage import websub as store
from app.storage.feeds import claim_feed
from app.storage.ingest import save_feed_state
from app.storage.models import Feed
from app.workers.ingest import IngestWorker

log = logging.getLogger("news_ingest.websub")

PUSH_BATCH = 8  # pushes claimed per round (each holds a document of up to max_body_bytes)
ACTION_BATCH = 16
ADOPT_EVERY_S = 30.0
BUSY_FEED_RETRY_S = 1.0  # a pushed feed that is being polled right now is tried again this soon
RETRY_BASE_S = 60.0


class WebSubWorker:
    def __init__(self, runtime: Runtime, *, hub_client: HubClient | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.ingest = IngestWorker(runtime)
        self._hub = hub_client

    @property
    def hub(self) -> HubClient:
        if self._hub is None:
            s = self.settings
            self._hub = HubClient(allowed_networks=s.allowed_ip_networks, user_agent=s.user_agent,
                                  timeout_s=s.request_timeout_s)
        return self._hub

    # ------------------------------------------------------------------ loop
    async def run(self, stop: asyncio.Event) -> None:
        next_adopt = 0.0
        try:
            while not stop.is_set():
                busy = False
                try:
                    busy = await self.store_pushes() > 0
                    busy = await self.act() > 0 or busy
                    if time.monotonic() >= next_adopt:
                        next_adopt = time.monotonic() + ADOPT_EVERY_S
                        await self.adopt()
                except Exception:  # database briefly unavailable: log, wait, try again
                    log.exception("websub: round failed")
                if not busy:
                    await self.runtime.wakeups.wait("websub", stop, self.settings.idle_sleep_s)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._hub is not None:
            await self._hub.aclose()
            self._hub = None

    async def run_once(self) -> int:
        """Tests and tools: one round of everything; how many pushes and subscriptions were handled."""
        done = await self.store_pushes() + await self.act()
        await self.adopt()
        return done

    # ------------------------------------------------------------------ pushes
    async def store_pushes(self) -> int:
        async with self.runtime.db.transaction() as session:
            jobs = await store.claim_pushes(session, now=self.runtime.clock(), owner=self.runtime.worker_id,
                                            lease_s=self.settings.lease_s, limit=PUSH_BATCH)
        by_feed: dict[int, list[store.PushJob]] = {}
        for job in jobs:
            by_feed.setdefault(job.feed_id, []).append(job)
        await asyncio.gather(*(self._store_feed_pushes(feed_jobs) for feed_jobs in by_feed.values()))
        return len(jobs)

    async def _store_feed_pushes(self, jobs: list[store.PushJob]) -> None:
        """The oldest push of one feed, under the feed's lease (so a poll and a push of one feed
        never store at once); the feed's later pushes go back to be claimed in the next round."""
        first, later = jobs[0], [j.id for j in jobs[1:]]
        now = self.runtime.clock()
        try:
            async with self.runtime.db.transaction() as session:
                feed = await claim_feed(session, first.feed_id, now=now, owner=self.runtime.worker_id,
                                        lease_s=self.settings.lease_s)
                await store.defer_pushes(session, later, until=now)
        except ConflictError:
            async with self.runtime.db.transaction() as session:
                await store.defer_pushes(session, [first.id, *later],
                                         until=now + timedelta(seconds=BUSY_FEED_RETRY_S))
            return
        except NotFoundError:  # the feed was deleted; its pushes went with it
            return
        try:
            snapshot = FeedSnapshot(id=feed.id, url=feed.websub_topic or feed.url, etag=None, last_modified=None,
                                    body_hash=feed.body_hash)
            fetched = await read_feed(snapshot, pushed_response(snapshot.url, first.body, first.content_type),
                                      self.runtime.fetcher, self.runtime.cpu.run,
                                      max_entries=self.settings.max_feed_entries)
            report = await self.ingest.store_pushed(feed, fetched, seen_at=first.received_at,
                                                    also=functools.partial(store.finish_push, push_id=first.id))
        except FeedParseError as exc:
            await self._push_failed(feed, first, str(exc), final=True)
            return
        except Exception as exc:  # a bug or the database: keep the push for another try
            log.exception("websub: storing a push failed", extra={"feed_id": feed.id})
            await self._push_failed(feed, first, f"websub: storing the pushed document failed: {exc}", final=False)
            return
        metrics = self.runtime.metrics
        metrics.articles.labels("created").inc(report.created)
        metrics.articles.labels("updated").inc(report.updated)
        log.info("websub: push stored", extra={"feed_id": feed.id, "outcome": report.outcome,
                                               "articles_created": report.created,
                                               "articles_updated": report.updated})

    async def _push_failed(self, feed: Feed, job: store.PushJob, error: str, *, final: bool) -> None:
        async with self.runtime.db.transaction() as session:
            dropped = await store.push_failed(session, job, error, now=self.runtime.clock(), final=final)
            await save_feed_state(session, feed.id, FeedUpdate())  # releases the feed's lease
        if dropped:
            log.warning("websub: pushed document dropped", extra={"feed_id": feed.id, "error": error[:300]})

    # ------------------------------------------------------------------ subscriptions
    async def act(self) -> int:
        async with self.runtime.db.transaction() as session:
            jobs = await store.claim_actions(session, now=self.runtime.clock(), owner=self.runtime.worker_id,
                                             lease_s=self.settings.lease_s, limit=ACTION_BATCH)
        await asyncio.gather(*(self._act(job) for job in jobs))
        return len(jobs)

    async def _act(self, job: store.ActionJob) -> None:
        s, metrics = self.settings, self.runtime.metrics
        now = self.runtime.clock()
        step = next_step(job.view, wanted=job.feed_active and s.public_url is not None, now=now)
        if step == "unsubscribe" and s.public_url is None:
            step = "drop"  # without a public URL there is no callback to confirm it; the lease will lapse
        backoff = backoff_delay(job.view.attempts + 1, base=RETRY_BASE_S, cap=float(s.max_backoff_s))
        if step == "drop":
            async with self.runtime.db.transaction() as session:
                await store.drop(session, job.id)
            log.info("websub: subscription forgotten", extra={"feed_id": job.feed_id, "hub": job.hub_url})
            return
        mode = "unsubscribe" if step == "unsubscribe" else "subscribe"
        if step == "verify_timeout":
            error = (f"websub: the hub accepted the {mode} request but did not verify it within "
                     f"{s.websub_verify_timeout_s} s")
            async with self.runtime.db.transaction() as session:
                await store.request_failed(session, job.id, now=now, error=error, backoff_s=backoff)
            metrics.websub_requests.labels(mode, "unverified").inc()
            log.warning("websub: no verification", extra={"feed_id": job.feed_id, "hub": job.hub_url})
            return
        assert s.public_url is not None
        subscribing = mode == "subscribe"
        form = subscription_form(mode, topic=job.topic_url, callback=callback_url(s.public_url, job.token),
                                 secret=job.secret if subscribing else None,
                                 lease_s=s.websub_lease_s if subscribing else None)
        sent_at = self.runtime.clock()
        async with self.runtime.db.transaction() as session:
            await store.begin_request(session, job.id, now=sent_at, lapsed=step == "lapse")
        answer = await self.hub.send(job.hub_url, form)  # no transaction is open meanwhile
        async with self.runtime.db.transaction() as session:
            if answer.accepted:
                await store.request_accepted(session, job.id, sent_at=sent_at, hub_url=answer.hub_url,
                                             verify_timeout_s=s.websub_verify_timeout_s)
            else:
                await store.request_failed(session, job.id, now=self.runtime.clock(),
                                           error=answer.error or "websub: the hub refused", backoff_s=backoff)
        metrics.websub_requests.labels(mode, "accepted" if answer.accepted else "failed").inc()
        log.info("websub: request sent", extra={"feed_id": job.feed_id, "hub": answer.hub_url, "mode": mode,
                                                "status": answer.status, "error": answer.error})

    async def adopt(self) -> int:
        if self.settings.public_url is None:
            return 0
        async with self.runtime.db.transaction() as session:
            return await store.adopt_feeds(session, now=self.runtime.clock(),
                                           allow_http=self.settings.websub_allow_http_hubs)
