"""No network I/O inside a write transaction (issue 12): a slow or hostile remote host met while
registering a feed, importing OPML or checking a webhook receiver must not hold the SQLite write
lock (every other write would wait) nor keep a connection idle in transaction on PostgreSQL.
Discovery is capped: a few candidates, one deadline."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.config import Settings
from app.runtime import Runtime
from app.storage.feeds import create_feed
from tests.conftest import make_settings
from tests.feedserver import FeedServer, Recorded, Reply
from tests.probes import wait_until

SLOW_HOST = "slow-dns.example"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, allow_http_webhooks=True, discovery_candidates=3, discovery_deadline_s=4.0)


async def add_feed(runtime: Runtime, url: str) -> int:
    async with runtime.db.transaction() as session:
        return (await create_feed(session, url=url, title=None, interval_override_s=None, now=runtime.clock())).id


async def idle_in_transaction(runtime: Runtime) -> int:
    """Sessions of this database holding a transaction open while doing nothing (PostgreSQL)."""
    if runtime.db.dialect != "postgresql":
        return 0
    async with runtime.db.engine.connect() as conn:
        return int(await conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%'")) or 0)


async def assert_writes_go_on(runtime: Runtime, client: httpx.AsyncClient, feed_id: int) -> None:
    """While the request under test waits on the network: another write is served at once and
    no connection sits idle in a transaction."""
    async with asyncio.timeout(5):
        patched = await client.patch(f"/v1/feeds/{feed_id}", json={"paused": True})
    assert patched.status_code == 200 and patched.json()["paused"] is True
    assert await idle_in_transaction(runtime) == 0


async def test_registering_a_url_that_never_answers_does_not_hold_other_writes(
        runtime: Runtime, client: httpx.AsyncClient, feed_server: FeedServer) -> None:
    release = threading.Event()

    def never_answers(_req: Recorded) -> Reply:
        release.wait(30)
        return Reply(200, b'<rss version="2.0"><channel><title>Late</title></channel></rss>',
                     {"Content-Type": "application/rss+xml"})

    feed_server.route("/slow", handler=never_answers)
    other = await add_feed(runtime, feed_server.url("/other.xml"))
    register = asyncio.create_task(client.post("/v1/feeds", json={"url": feed_server.url("/slow")}))
    try:
        await wait_until(lambda: bool(feed_server.requests_to("/slow")))  # registration waits on the network
        await assert_writes_go_on(runtime, client, other)
    finally:
        release.set()
    response = await register
    assert response.status_code == 201 and response.json()["url"] == feed_server.url("/slow")


@pytest.fixture
async def slow_dns(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, asyncio.Event]:
    """The resolver of this event loop answers for SLOW_HOST (127.0.0.1) only once released."""
    loop = asyncio.get_running_loop()
    resolving, release = asyncio.Event(), asyncio.Event()
    real = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != SLOW_HOST:
            return await real(host, port, *args, **kwargs)
        resolving.set()
        await release.wait()
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 9))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return resolving, release


OPML = (f'<?xml version="1.0"?><opml version="2.0"><body><outline text="Slow" xmlUrl="http://{SLOW_HOST}/feed.xml"/>'
        "</body></opml>")


@pytest.mark.parametrize("operation", ["register-feed", "import-opml", "create-subscription", "move-subscription"])
async def test_a_slow_name_lookup_does_not_hold_other_writes(
        runtime: Runtime, client: httpx.AsyncClient, slow_dns: tuple[asyncio.Event, asyncio.Event],
        operation: str) -> None:
    resolving, release = slow_dns
    other = await add_feed(runtime, "http://127.0.0.1:9/other.xml")
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["article.created"]}
    subscription = (await client.post("/v1/subscriptions", json=hook)).json()["id"]
    request: Callable[[], Coroutine[Any, Any, httpx.Response]] = {
        "register-feed": lambda: client.post("/v1/feeds", json={"url": f"http://{SLOW_HOST}/feed.xml"}),
        "import-opml": lambda: client.post("/v1/feeds:import", content=OPML,
                                           headers={"content-type": "text/x-opml"}),
        "create-subscription": lambda: client.post("/v1/subscriptions",
                                                   json={**hook, "url": f"http://{SLOW_HOST}/hook"}),
        "move-subscription": lambda: client.patch(f"/v1/subscriptions/{subscription}",
                                                  json={"url": f"http://{SLOW_HOST}/hook"}),
    }[operation]
    task = asyncio.create_task(request())
    try:
        async with asyncio.timeout(5):
            await resolving.wait()
        await assert_writes_go_on(runtime, client, other)
    finally:
        release.set()
    response = await task
    assert response.status_code in (200, 201), response.text


async def test_discovery_tries_a_few_candidates_only(runtime: Runtime, client: httpx.AsyncClient,
                                                     feed_server: FeedServer) -> None:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="/missing-{n}.xml">' for n in range(10))
    feed_server.route("/", body=f"<html><head>{links}</head><body>home</body></html>",
                      headers={"Content-Type": "text/html"})
    response = await client.post("/v1/feeds", json={"url": feed_server.url("/")})
    assert response.status_code == 422 and "neither a feed nor a page" in response.json()["detail"]
    tried = [r.path for r in feed_server.requests if r.path not in ("/", "/robots.txt")]
    assert tried == ["/missing-0.xml", "/missing-1.xml", "/missing-2.xml"]
    # then the sitemaps robots.txt lists (none here), asked once
    assert [r.path for r in feed_server.requests].count("/robots.txt") == 1


async def test_discovery_stops_at_its_deadline(runtime: Runtime, client: httpx.AsyncClient,
                                               feed_server: FeedServer) -> None:
    release = threading.Event()
    feed_server.route("/", body='<html><head><link rel="alternate" type="application/rss+xml" href="/slow.xml">'
                                "</head><body>home</body></html>", headers={"Content-Type": "text/html"})
    feed_server.route("/slow.xml", handler=lambda _req: (release.wait(30), Reply(404))[1])
    try:
        async with asyncio.timeout(20):  # the deadline is 4 s (room for a loaded machine); a fetch alone may take 5 s
            response = await client.post("/v1/feeds", json={"url": feed_server.url("/")})
    finally:
        release.set()
    assert response.status_code == 422
    assert "answered within 4 s" in response.json()["detail"]
