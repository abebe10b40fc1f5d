"""The webhook worker: fan out outbox events, claim due deliveries with a lease, send each
(signed, through the SSRF guard), record the outcomes in bulk.

Reads as: dispatch -> claim -> send (bounded: N in flight per process, M per receiving host)
-> record. Sends finish into a list that the loop writes in one transaction per round, so
a thousand deliveries cost a handful of statements, not a thousand transactions. A worker
killed mid-send leaves leases that expire (`webhook_lease_s`); the deliveries are sent again
with the same webhook-id. Retry policy and signing live in app.pipeline.notify. Once a minute
the worker also deletes events older than `event_retention_s` that no delivery waits on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from app.pipeline.notify import (
    SendResult,
    WebhookSender,
    build_body,
    classify,
    retry_delay,
    signed_headers,
    with_article_text,
)
from app.runtime import Runtime
from app.storage.deliveries import (
    AttemptRecord,
    DeliveryJob,
    claim_deliveries,
    dispatch_events,
    record_attempts,
)
from app.storage.outbox import prune_events
from app.storage.subscriptions import SubscriptionCache

log = logging.getLogger("news_ingest.deliver")

PRUNE_EVERY_S = 60.0
PRUNE_BATCH = 5000  # events per delete transaction; a round stops early when one batch is short
PRUNE_MAX_BATCHES = 50
FLUSH_AFTER_S = 0.05  # outcomes are written when half a batch has finished, or after this long


def make_sender(runtime: Runtime) -> WebhookSender:
    s = runtime.settings
    return WebhookSender(allowed_networks=s.allowed_ip_networks, timeout_s=s.webhook_timeout_s,
                         connect_timeout_s=s.connect_timeout_s, per_host=s.webhook_per_host_concurrency, excerpt_bytes=s.webhook_response_excerpt_bytes,
                         user_agent=s.user_agent, clock=runtime.clock)


def decide(job: DeliveryJob, result: SendResult, now: datetime, *, schedule: list[float],
           jitter: float) -> tuple[AttemptRecord, str]:
    """The delivery's next state after one attempt, and the metrics outcome."""
    if result.deferred:
        wait = result.retry_after if result.retry_after is not None else 1.0
        return AttemptRecord(job.delivery_id, job.subscription_id, "pending", job.attempts,
                             now + timedelta(seconds=wait), now, None, None, None, result.error,
                             counted=False), "deferred"
    attempts = job.attempts + 1
    outcome = classify(result.status, result.error_kind)
    state, next_at, metric = "delivered", now, "delivered"
    if outcome == "failed":
        state, metric = "failed", "failed"
    elif outcome == "retry":
        delay = retry_delay(attempts, schedule, retry_after=result.retry_after, jitter=jitter)
        if delay is None:
            state, metric = "dead", "dead"
        else:
            state, next_at, metric = "pending", now + timedelta(seconds=delay), "retry"
    error = result.error
    if error is None and outcome != "delivered":
        error = f"notify: receiver answered {result.status}"
    return AttemptRecord(job.delivery_id, job.subscription_id, state, attempts, next_at, now, result.status,
                         result.latency_ms, result.excerpt, error), metric


class DeliveryWorker:
    def __init__(self, runtime: Runtime, *, sender: WebhookSender | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.cache = SubscriptionCache()
        self._sender = sender
        self._done: list[tuple[AttemptRecord, str]] = []
        self._done_since = 0.0
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(runtime.settings.webhook_concurrency)

    @property
    def sender(self) -> WebhookSender:
        if self._sender is None:
            self._sender = make_sender(self.runtime)
        return self._sender

    # ------------------------------------------------------------------ loop
    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        running: set[asyncio.Task[None]] = set()
        batch = s.webhook_batch_size
        idle = s.idle_sleep_s
        next_dispatch = 0.0
        next_prune = time.monotonic() + PRUNE_EVERY_S
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + PRUNE_EVERY_S
                        await self.prune()
                    if time.monotonic() >= next_dispatch:
                        events, _ = await self.dispatch()
                        # Poll the outbox at the idle interval when it is empty, at once when not.
                        next_dispatch = 0.0 if events else time.monotonic() + idle
                    # Claim in batches (one statement per batch); sends wait for one of the
                    # `webhook_concurrency` slots. Claim again when half the batch is done.
                    if len(running) + len(self._done) <= batch // 2:
                        jobs = await self.claim(batch - len(running) - len(self._done))
                        deadline = self._send_deadline()
                        for job in jobs:
                            task = asyncio.create_task(self._send(job, deadline))
                            running.add(task)
                            task.add_done_callback(running.discard)
                    # Write outcomes in bulk: when enough have finished, when the oldest has
                    # waited FLUSH_AFTER_S, or when nothing else is in flight.
                    if self._done and (len(self._done) >= batch // 2 or not running
                                       or time.monotonic() - self._done_since >= FLUSH_AFTER_S):
                        await self.flush()
                except Exception:  # database briefly unavailable: log, wait, try again
                    log.exception("deliver: round failed")
                    await asyncio.sleep(idle)
                self._wake.clear()
                timeout = FLUSH_AFTER_S if (running or self._done) else idle
                if next_dispatch == 0.0:
                    continue
                try:
                    await asyncio.wait_for(self._wake_or_stop(stop), timeout=timeout)
                except TimeoutError:
                    pass
                outbox = self.runtime.wakeups.event("outbox")
                if outbox.is_set():  # this process just stored events: fan them out now, not after `idle`
                    outbox.clear()
                    next_dispatch = 0.0
        finally:
            if running:
                await asyncio.wait(running, timeout=s.webhook_timeout_s + 1)
            if self._done:
                try:
                    await self.flush()
                except Exception:  # leases expire; the deliveries are sent again
                    log.exception("deliver: final flush failed")
            if self._sender is not None:
                await self._sender.aclose()
                self._sender = None

    async def _wake_or_stop(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait()),
                   asyncio.ensure_future(self.runtime.wakeups.event("outbox").wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    # ------------------------------------------------------------------ steps
    async def prune(self) -> int:
        """Delete old events (with their deliveries and log) in short transactions; returns how many."""
        before = self.runtime.clock() - timedelta(seconds=self.settings.event_retention_s)
        total = 0
        for _ in range(PRUNE_MAX_BATCHES):
            async with self.runtime.db.transaction() as session:
                deleted = await prune_events(session, dispatched_before=before, limit=PRUNE_BATCH)
            total += deleted
            if deleted < PRUNE_BATCH:
                break
        if total:
            log.info("deliver: pruned old events", extra={"events": total})
        return total

    async def dispatch(self) -> tuple[int, int]:
        s = self.settings
        async with self.runtime.db.transaction() as session:
            index = await self.cache.get(session)
            return await dispatch_events(session, index, now=self.runtime.clock(), owner=self.runtime.worker_id,
                                         lease_s=s.webhook_lease_s, limit=s.webhook_dispatch_batch_size)

    async def claim(self, limit: int) -> list[DeliveryJob]:
        async with self.runtime.db.transaction() as session:
            return await claim_deliveries(session, now=self.runtime.clock(), owner=self.runtime.worker_id,
                                          lease_s=self.settings.webhook_lease_s, limit=limit)

    def _send_deadline(self) -> float:
        # A claimed delivery still waiting for a slot when its lease is about to run out is
        # handed back unsent: past the lease another worker may claim and send it too.
        s = self.settings
        return time.monotonic() + max(s.webhook_lease_s * 0.5, s.webhook_lease_s - s.webhook_timeout_s - 1)

    async def _send(self, job: DeliveryJob, deadline: float | None = None) -> None:
        try:
            async with self._slots:
                if deadline is not None and time.monotonic() > deadline:
                    result = SendResult(None, 0.0, deferred=True, retry_after=0.0,
                                        error="deliver: lease ran out before a slot was free; handed back")
                else:
                    result = await self.send(job, start_by=deadline)
        except Exception as exc:  # a bug must not lose the delivery: record it as a retryable error
            log.exception("deliver: unexpected error", extra={"delivery_id": job.delivery_id})
            result = SendResult(None, 0.0, error=f"notify: unexpected error: {type(exc).__name__}: {exc}"[:500])
        now = self.runtime.clock()
        if not self._done:
            self._done_since = time.monotonic()
        record, metric = decide(job, result, now, schedule=list(self.settings.webhook_retry_schedule_s),
                                jitter=self.settings.webhook_retry_jitter)
        self._done.append((record, metric))
        if metric == "delivered":
            self.runtime.metrics.delivery_lag.labels(job.event_type).observe(
                max(0.0, (now - job.event_created_at).total_seconds()))
        self._wake.set()

    async def send(self, job: DeliveryJob, *, start_by: float | None = None) -> SendResult:
        data = with_article_text(job.data, job.article_text) if job.include_text else job.data
        body = build_body(job.event_type, job.event_created_at, data)
        timestamp = int(self.runtime.clock().timestamp())
        headers = signed_headers(job.event_id, timestamp, body, job.secrets)
        return await self.sender.post(job.url, headers, body, start_by=start_by)

    async def flush(self) -> None:
        done, self._done = self._done, []
        records = [r for r, _ in done]
        try:
            async with self.runtime.db.transaction() as session:
                disabled = await record_attempts(session, records, owner=self.runtime.worker_id,
                                                 now=self.runtime.clock(),
                                                 disable_after_s=self.settings.webhook_disable_after_s)
        except Exception:
            self._done = done + self._done  # try again next round (the leases still hold)
            raise
        counter = self.runtime.metrics.deliveries
        for record, metric in done:
            counter.labels(metric).inc()
            if metric != "delivered":
                log.debug("deliver: attempt", extra={"delivery_id": record.delivery_id, "state": record.state,
                                                     "attempt": record.attempts, "status": record.status_code,
                                                     "error": record.error})
        for sub_id in disabled:
            log.warning("deliver: subscription disabled after failing too long", extra={"subscription_id": sub_id})

    async def run_until_idle(self, *, timeout_s: float = 30.0) -> None:
        """Tests and tools: dispatch and deliver until nothing is due (sequentially)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            events, _ = await self.dispatch()
            jobs = await self.claim(self.settings.webhook_batch_size)
            if jobs:
                await asyncio.gather(*(self._send(job) for job in jobs))
            if self._done:
                await self.flush()
            if not events and not jobs:
                return
        raise TimeoutError("deliver: work still due after the timeout")
