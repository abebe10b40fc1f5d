"""What the WebSub tests share: the service on a real port (so a hub can call it back), a
publisher whose feed advertises the hub, and helpers to drive the workers one round at a time.

    async with live_service(database_url, **settings) as svc:   # uvicorn on 127.0.0.1, no workers
        svc.runtime, svc.http (API client, admin key), svc.url
    publisher = Publisher(feed_server, hub_url)                  # /feed.xml with Link: hub, self
    publisher.add("Harbour bridge reopens", text)                # a new item and its page
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select

from app.main import create_app
from app.runtime import Runtime
from app.storage.keys import create_key
from app.storage.models import Feed, WebSubSubscription
from tests.conftest import make_settings, wipe
from tests.feedserver import FeedServer, Recorded, Reply


@dataclass
class Service:
    runtime: Runtime
    http: httpx.AsyncClient
    url: str


@asynccontextmanager
async def live_service(database_url: str, **overrides: Any) -> AsyncIterator[Service]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    values: dict[str, Any] = {"public_url": url, "websub_allow_http_hubs": True, **overrides}
    runtime = Runtime.from_settings(make_settings(database_url, **values))
    await wipe(runtime)
    async with runtime.db.transaction() as session:
        _, admin = await create_key(session, scope="admin", name="websub-test", now=runtime.clock())
    app = create_app(runtime=runtime)
    # uvicorn.Config sets its loggers' levels for the whole process; tests that run later (their
    # order is alphabetical) expect them as they were.
    levels = {name: logging.getLogger(name).level for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", ws="none", log_config=None, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: _started(server), timeout_s=10)
    try:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {admin}"}) as http:
            yield Service(runtime, http, url)
    finally:
        server.should_exit = True
        await task
        sock.close()
        await runtime.close()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def _started(server: uvicorn.Server) -> bool:
    return bool(server.started)


@dataclass
class Item:
    guid: str
    title: str
    text: str
    published: datetime


@dataclass
class Publisher:
    """A news site on the feed server: one RSS feed that advertises `hub_url` in Link headers
    (and, with `in_document`, as atom:link elements instead), and a page per item."""

    server: FeedServer
    hub_url: str | None
    path: str = "/feed.xml"
    in_document: bool = False
    items: list[Item] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.route(self.path, handler=self._feed)

    @property
    def topic(self) -> str:
        return self.server.url(self.path)

    def page_url(self, guid: str) -> str:
        return self.server.url(f"/news/{guid}.html")

    def add(self, title: str, text: str, *, published: datetime | None = None) -> Item:
        item = Item(f"item-{len(self.items) + 1}{self.path.replace('/', '-')}", title, text,
                    published or datetime.now(UTC))
        page = (f"<html><head><title>{escape(title)}</title></head><body><article><h1>{escape(title)}</h1>"
                + "".join(f"<p>{escape(p)}</p>" for p in text.split("\n")) + "</article></body></html>")
        self.server.route(f"/news/{item.guid}.html", body=page.encode(), headers={"Content-Type": "text/html"})
        self.items.append(item)
        return item

    def _feed(self, _req: Recorded) -> Reply:
        links = ""
        headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
        if self.hub_url and self.in_document:
            links = (f'<atom:link rel="hub" href="{self.hub_url}"/>'
                     f'<atom:link rel="self" href="{self.topic}" type="application/rss+xml"/>')
        elif self.hub_url:
            headers["Link"] = f'<{self.hub_url}>; rel="hub", <{self.topic}>; rel="self"'
        entries = "".join(
            f"<item><title>{escape(i.title)}</title><link>{self.page_url(i.guid)}</link><guid>{i.guid}</guid>"
            f"<pubDate>{format_datetime(i.published)}</pubDate><description>{escape(i.text[:200])}</description></item>"
            for i in reversed(self.items))
        body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
                'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Lakeside Courier</title>'
                f"<link>{self.server.url('/')}</link>{links}{entries}</channel></rss>")
        return Reply(200, body.encode(), headers)


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout_s: float = 15.0, step: Callable[[], Awaitable[Any]]
                     | None = None) -> Any:
    """Run `step` (if any) and `check` until `check` returns something truthy; fail after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        if step is not None:
            await step()
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def subscription(runtime: Runtime, feed_id: int) -> WebSubSubscription | None:
    async with runtime.db.sessions() as session:
        rows = (await session.execute(select(WebSubSubscription).where(WebSubSubscription.feed_id == feed_id)
                                      .order_by(WebSubSubscription.id.desc()))).scalars().all()
    return rows[0] if rows else None


async def feed_row(runtime: Runtime, feed_id: int) -> Feed:
    async with runtime.db.sessions() as session:
        feed = await session.get(Feed, feed_id)
    assert feed is not None
    return feed
