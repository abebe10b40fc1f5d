"""Scale-out: two `news-ingest worker` processes share 200 feeds through the database and
never poll one feed twice within its interval; a worker killed mid-lease loses nothing."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from app.runtime import Runtime
from app.storage.feeds import create_feed
from app.storage.models import Feed
from tests.feedserver import FeedServer

BIN = Path(sys.executable).with_name("news-ingest")
RSS = ('<?xml version="1.0"?><rss version="2.0"><channel><title>F{n}</title>'
       '<item><title>Item {n}</title><link>http://example.org/{n}</link><guid>g{n}</guid></item>'
       "</channel></rss>")


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DATABASE_URL=database_url, NEWS_INGEST_ALLOWED_NETWORKS="127.0.0.0/8",
               NEWS_INGEST_FETCH_ARTICLES="false", NEWS_INGEST_EXTRACT_PROCESSES="0",
               NEWS_INGEST_IDLE_SLEEP_S="0.1", NEWS_INGEST_LEASE_S="5", NEWS_INGEST_POLL_BATCH_SIZE="8")
    return subprocess.Popen([str(BIN), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_two_workers_share_feeds_without_double_polls(runtime: Runtime, database_url: str,
                                                            feed_server: FeedServer) -> None:
    n_feeds = 200
    for n in range(n_feeds):
        feed_server.route(f"/feed/{n}", body=RSS.format(n=n), headers={"Content-Type": "application/rss+xml"},
                          delay=0.01)
    async with runtime.db.transaction() as session:
        for n in range(n_feeds):
            await create_feed(session, url=feed_server.url(f"/feed/{n}"), title=None, interval_override_s=None,
                              now=runtime.clock())
    workers = [_worker(database_url), _worker(database_url)]
    try:
        deadline = time.monotonic() + 90
        while True:
            async with runtime.db.sessions() as session:
                done = await session.scalar(select(func.count(Feed.id)).where(Feed.polls >= 1))
            if done == n_feeds:
                break
            assert time.monotonic() < deadline, f"only {done} of {n_feeds} feeds polled"
            await asyncio.sleep(0.2)
    finally:
        # SIGTERM: a worker stops claiming and finishes what it holds, then exits. Once both
        # have exited, every request either made has reached the server.
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=30)
    assert [w.returncode for w in workers] == [0, 0]
    hits = collections.Counter(r.path for r in feed_server.requests if r.path.startswith("/feed/"))
    assert len(hits) == n_feeds
    assert max(hits.values()) == 1, [p for p, c in hits.items() if c > 1][:5]
    async with runtime.db.sessions() as session:
        feeds = (await session.execute(select(Feed))).scalars().all()
    assert {f.lease_owner for f in feeds} == {None}  # every lease released
    assert {f.polls for f in feeds} == {1}
    # ... and none was due again while the workers ran: the next poll is minutes away.
    soonest = min(f.next_poll_at.replace(tzinfo=f.next_poll_at.tzinfo or UTC) for f in feeds)
    assert soonest > datetime.now(UTC) + timedelta(minutes=4)


async def test_a_dead_workers_lease_expires_and_the_feed_is_polled(runtime: Runtime, database_url: str,
                                                                   feed_server: FeedServer) -> None:
    feed_server.route("/feed/slow", body=RSS.format(n=1), headers={"Content-Type": "application/rss+xml"},
                      delay=30)
    async with runtime.db.transaction() as session:
        feed = await create_feed(session, url=feed_server.url("/feed/slow"), title=None, interval_override_s=None,
                                 now=runtime.clock())
    victim = _worker(database_url)
    try:
        deadline = time.monotonic() + 30
        while not feed_server.requests_to("/feed/slow"):
            assert time.monotonic() < deadline, "the worker never claimed the feed"
            await asyncio.sleep(0.1)
    finally:
        victim.kill()  # SIGKILL while the poll is in flight: the lease stays behind
        victim.wait()
    async with runtime.db.sessions() as session:
        stuck = await session.get(Feed, feed.id)
    assert stuck is not None and stuck.lease_owner is not None and stuck.polls == 0
    # The server answers quickly now; a fresh worker picks the feed up once the lease expires.
    feed_server.route("/feed/slow", body=RSS.format(n=1), headers={"Content-Type": "application/rss+xml"})
    async with runtime.db.transaction() as session:  # age the lease instead of waiting 5 s
        await session.execute(update(Feed).where(Feed.id == feed.id)
                              .values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    rescuer = _worker(database_url)
    try:
        deadline = time.monotonic() + 30
        while True:
            async with runtime.db.sessions() as session:
                polled = await session.get(Feed, feed.id)
            if polled is not None and polled.polls == 1:
                break
            assert time.monotonic() < deadline, "the expired lease was not taken over"
            await asyncio.sleep(0.2)
    finally:
        rescuer.send_signal(signal.SIGTERM)
        rescuer.wait(timeout=30)
    assert polled.lease_owner is None and polled.last_success_at is not None
