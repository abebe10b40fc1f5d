"""Input we did not write: one odd field of a feed, a header, a page, a hub's or a receiver's
answer. Each goes through the real path (a real server on 127.0.0.1, the poll, the API) on the
suite's database, SQLite or PostgreSQL. The invariant: the feed's other articles are stored, the
odd value is stored normalised or its entry skipped with a warning, a later poll succeeds (no
feed stuck failing), and bad API input is a 4xx problem, never a 500.

PostgreSQL is where most of these failed: a btree entry holds at most 2704 bytes, so a GUID of
1,000 CJK characters (3 KB, though within VARCHAR(2048)) refused the whole poll's transaction,
every poll; text refuses NUL. feedparser raised on "&#xD800;" anywhere in a document on both."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from app.pipeline.websub import discover
from app.runtime import Runtime
from app.storage.models import Article, DeliveryAttempt, Feed, WebSubSubscription
from app.workers.deliver import DeliveryWorker
from app.workers.ingest import IngestWorker
from app.workers.websub import WebSubWorker
from tests.feedserver import FeedServer
from tests.test_ingest import add_feed, poll
from tests.test_webhooks import subscribe
from tests.webhook_receiver import WebhookReceiver
from tests.websub_hub import LiveHub
from tests.websub_live import Publisher, live_service, subscription

_RANDOM = random.Random(2704)


def wide(n: int) -> str:
    """n CJK characters in no pattern (PostgreSQL compresses a repeated one below its limit)."""
    return "".join(chr(_RANDOM.randrange(0x4E00, 0x9FFF)) for _ in range(n))


WIDE_GUID, WIDE_TAG, WIDE_HOST, WIDE_PATH = wide(1000), wide(900), wide(900), wide(650)
HEADING = "Tide table for the outer harbour"


# --------------------------------------------------------------------------- one odd entry


def rss(site: str, odd_item: str) -> bytes:
    good = (f"<item><title>Ferry timetable</title><link>{site}/ferry</link><guid>good-1</guid>"
            "<description>The ferry leaves at nine.</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Quay</title>'
            f"<link>{site}/</link>{good}{odd_item}</channel></rss>").encode()


def json_feed(site: str, odd_item: dict[str, Any]) -> bytes:
    good = {"id": "good-1", "url": f"{site}/ferry", "title": "Ferry timetable", "content_text": "At nine."}
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Quay",
                       "items": [good, odd_item]}).encode()  # ensure_ascii: a lone surrogate as \\ud800


def sitemap(site: str, odd_url: str) -> bytes:
    def record(url: str) -> str:
        return f"<url>{url}<news:news><news:publication_date>2026-11-20</news:publication_date></news:news></url>"
    return ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"{record(odd_url)}{record(f'<loc>{site}/ferry</loc>')}</urlset>").encode()


Check = Callable[[Article], bool]
# name: (document for the site, its Content-Type, the odd article as stored or None when skipped)
ENTRIES: dict[str, tuple[Callable[[str], bytes], str, Check | None]] = {
    "guid of 1,000 CJK characters, single-line title of 100 KB, author of 3,000 CJK characters": (
        lambda s: rss(s, f"<item><title>{'Tide' * 25_000}</title><author>{wide(3000)}</author><link>{s}/tide</link>"
                         f'<guid isPermaLink="false">{WIDE_GUID}</guid></item>'), "application/rss+xml",
        lambda a: a.guid is not None and a.guid.startswith("sha256:") and a.url.endswith("/tide")
        and len(a.title or "") == 1024 and len(a.byline or "") == 1024),
    "tag guid of 900 CJK characters and no link": (
        lambda s: rss(s, f'<item><title>{HEADING}</title><guid isPermaLink="false">tag:{WIDE_TAG}</guid>'
                         "<description>High water at noon.</description></item>"), "application/rss+xml",
        lambda a: a.canonical_url.startswith("feed:") and "sha256:" in a.canonical_url),
    "link to a host of 900 CJK characters": (
        lambda s: rss(s, f"<item><title>{HEADING}</title><link>http://{WIDE_HOST}.example/tide</link>"
                         "<guid>tide</guid></item>"), "application/rss+xml", None),
    "reference to a lone surrogate": (
        lambda s: rss(s, f"<item><title>Tide &#xD800; table</title><link>{s}/tide&#xDC00;</link>"
                         "<guid>tide</guid><description>High water &#55296; at noon.</description></item>"),
        "application/rss+xml", lambda a: a.title == "Tide \ufffd table" and "\ufffd" in (a.summary or "")),
    "reference past U+10FFFF": (
        lambda s: rss(s, f"<item><title>Tide &#x110000; table &#99999999999;</title><link>{s}/tide</link>"
                         "<guid>tide</guid></item>"), "application/rss+xml",
        lambda a: a.title == "Tide \ufffd table \ufffd"),
    "JSON Feed url with a lone surrogate": (
        lambda s: json_feed(s, {"id": "tide", "url": f"{s}/tide\ud800", "title": HEADING}), "application/feed+json",
        lambda a: a.guid == "tide" and "\ud800" not in a.url),
    "JSON Feed id of 1,000 CJK characters": (
        lambda s: json_feed(s, {"id": WIDE_GUID, "url": f"{s}/tide", "title": HEADING}), "application/feed+json",
        lambda a: a.guid is not None and a.guid.startswith("sha256:")),
    "JSON Feed url of 650 CJK characters (5.9 KB percent-encoded)": (
        lambda s: json_feed(s, {"id": "tide", "url": f"{s}/{WIDE_PATH}", "title": HEADING}), "application/feed+json",
        None),
    "JSON Feed title holding raw control characters": (
        lambda s: json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Quay", "items": [
            {"id": "good-1", "url": f"{s}/ferry", "title": "Ferry timetable", "content_text": "At nine."},
            {"id": "tide", "url": f"{s}/tide", "title": "PLACEHOLDER"}]}).encode().replace(b"PLACEHOLDER",
                                                                                          b"Tide\x0b table\x00"),
        "application/feed+json", lambda a: a.title == "Tide table"),
    "sitemap loc of 3 KB": (
        lambda s: sitemap(s, f"<loc>{s}/{'t' * 3000}</loc>"), "application/xml", None),
    "sitemap title with a raw control byte and a lone surrogate": (
        lambda s: sitemap(s, f"<loc>{s}/tide</loc><news:news><news:title>Tide\x0b &#xD800; table</news:title>"
                             "</news:news>"), "application/xml", lambda a: a.title == "Tide \ufffd table"),
}


async def articles_of(runtime: Runtime, feed_id: int) -> list[Article]:
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(Article).where(Article.feed_id == feed_id))).scalars())


@pytest.mark.parametrize("name", list(ENTRIES))
async def test_one_odd_entry_loses_no_other_article(runtime: Runtime, feed_server: FeedServer, name: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.settings, "fetch_articles", False)  # the feed's own content is enough here
    document, content_type, check = ENTRIES[name]
    site = feed_server.url("").rstrip("/")
    feed_server.route("/feed", body=document(site), headers={"Content-Type": content_type})
    feed_id = await add_feed(runtime, feed_server.url("/feed"))

    report, feed = await poll(runtime, feed_id)
    assert report.outcome == "ok", report.error
    stored = await articles_of(runtime, feed_id)
    odd = [a for a in stored if a.url != f"{site}/ferry"]
    assert len(stored) - len(odd) == 1  # the good neighbour
    if check is None:
        assert odd == [] and "skipped 1 entry" in (feed.parse_warning or ""), feed.parse_warning
    else:
        assert len(odd) == 1 and check(odd[0]), [(a.guid, a.url, a.title) for a in odd]

    feed_server.route("/feed", body=document(site) + b"\n", headers={"Content-Type": content_type})
    again, _ = await poll(runtime, feed_id)
    assert (again.outcome, again.created) == ("ok", 0), again.error  # and the same identity next time


# --------------------------------------------------------------------------- headers and redirects


VALIDATORS = {"ETag": '"' + "e" * 4000 + '"', "Last-Modified": "Fri, 20 Nov 2026 07:00:00 GMT" + " " * 4000}


@pytest.mark.parametrize("headers", [
    {"Link": '<{site}/hub/' + "h" * 4000 + '>; rel="hub"', **VALIDATORS},
    {"Link": '<{site}/hub>; rel="hub", <{site}/self/' + "s" * 4000 + '>; rel="self"'},
], ids=["hub link and validators of 4 KB", "self link of 4 KB"])
async def test_long_headers_are_dropped_not_stored(runtime: Runtime, feed_server: FeedServer,
                                                    headers: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.settings, "fetch_articles", False)
    site = feed_server.url("").rstrip("/")
    feed_server.route("/feed", body=rss(site, ""), headers={
        "Content-Type": "application/rss+xml", **{k: v.replace("{site}", site) for k, v in headers.items()}})
    report, feed = await poll(runtime, await add_feed(runtime, feed_server.url("/feed")))
    assert (report.outcome, report.created) == ("ok", 1), report.error
    assert feed.etag is None and feed.last_modified is None
    # a hub or topic too long to store is not taken (the topic falls back to the feed's URL)
    assert all(link is None or len(link) < 100 for link in (feed.websub_hub, feed.websub_topic))


def test_a_hub_whose_https_url_would_not_fit_is_not_taken() -> None:
    hub = "http://127.0.0.1/hub/" + "h" * (2048 - len("http://127.0.0.1/hub/"))  # 2,049 as https
    assert discover({"Link": f'<{hub}>; rel="hub"'}, None, "http://127.0.0.1/feed") is None
    assert discover({"Link": f'<{hub[:-1]}>; rel="hub"'}, None, "http://127.0.0.1/feed") is not None


async def test_a_redirect_to_a_url_too_wide_to_store_does_not_move_the_feed(
        runtime: Runtime, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.settings, "fetch_articles", False)
    site = feed_server.url("").rstrip("/")
    # 1,900 Latin-1 characters: within VARCHAR(2048), 3.8 KB of UTF-8 in uq_feeds_url
    target = "/moved/" + "".join(chr(_RANDOM.randrange(0xC0, 0x100)) for _ in range(1900))
    feed_server.route("/feed", status=301, headers={"Location": target})
    feed_server.route(quote(target), body=rss(site, ""), headers={"Content-Type": "application/rss+xml"})
    feed_id = await add_feed(runtime, feed_server.url("/feed"))
    for _ in range(3):  # the second poll would move a feed redirected twice alike
        report, feed = await poll(runtime, feed_id)
        assert report.outcome in ("ok", "unchanged"), report.error
    assert feed.url == feed_server.url("/feed") and len(await articles_of(runtime, feed_id)) == 1


# --------------------------------------------------------------------------- the API


async def test_discovery_of_a_feed_link_too_wide_to_store_is_a_422(client: httpx.AsyncClient,
                                                                    feed_server: FeedServer) -> None:
    path = "/feeds/" + WIDE_TAG
    feed_server.route("/home", body=f'<html><head><link rel="alternate" type="application/rss+xml" href="{path}">'
                                    "</head><body>Harbour news</body></html>", headers={"Content-Type": "text/html"})
    feed_server.route(quote(path), body=rss(feed_server.url("").rstrip("/"), ""),
                      headers={"Content-Type": "application/rss+xml"})
    answer = await client.post("/v1/feeds", json={"url": feed_server.url("/home")})
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json", answer.text


async def test_opml_import_skips_urls_too_wide_to_store(client: httpx.AsyncClient) -> None:
    opml = ('<?xml version="1.0"?><opml version="2.0"><body>'
            '<outline type="rss" text="Ferries" xmlUrl="http://127.0.0.1/ferries.xml"/>'
            f'<outline type="rss" text="Wide" xmlUrl="http://127.0.0.1/{WIDE_TAG}"/></body></opml>')
    imported = await client.post("/v1/feeds:import", content=opml.encode(), headers={"content-type": "text/x-opml"})
    assert imported.status_code == 200 and imported.json()["created"] == 1, imported.text
    assert [f["url"] for f in (await client.get("/v1/feeds")).json()["items"]] == ["http://127.0.0.1/ferries.xml"]


# --------------------------------------------------------------------------- answers from receivers and hubs


async def test_a_receiver_answering_nul_bytes_is_recorded_once(client: httpx.AsyncClient, receiver: WebhookReceiver,
                                                                runtime: Runtime, feed_server: FeedServer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.settings, "allow_http_webhooks", True)
    monkeypatch.setattr(runtime.settings, "fetch_articles", False)
    await subscribe(client, receiver, "odd")
    await subscribe(client, receiver, "plain")
    verify = receiver.handle

    def answer(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        status, extra, text = verify(path, headers, body)
        return (200, extra, b"ok\x00\xff" + "\ud800".encode("utf-8", "surrogatepass")) if path.endswith("/odd") \
            else (status, extra, text)

    monkeypatch.setattr(receiver, "handle", answer)
    feed_server.route("/feed", body=rss(feed_server.url("").rstrip("/"), ""),
                      headers={"Content-Type": "application/rss+xml"})
    await poll(runtime, await add_feed(runtime, feed_server.url("/feed")))
    await DeliveryWorker(runtime).run_until_idle()
    assert sorted(r.name for r in receiver.received) == ["odd", "plain"]  # each once: both outcomes recorded
    async with runtime.db.sessions() as session:
        excerpts = sorted((await session.execute(select(DeliveryAttempt.response_excerpt))).scalars(), key=str)
    assert excerpts == ["", "ok\ufffd\ufffd\ufffd\ufffd"]


async def add_subscription(runtime: Runtime, state: str) -> WebSubSubscription:
    now = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        feed = Feed(url="http://127.0.0.1:9/quay.xml", next_poll_at=now, created_at=now, updated_at=now)
        session.add(feed)
        await session.flush()
        sub = WebSubSubscription(feed_id=feed.id, hub_url="http://127.0.0.1:9/hub", topic_url=feed.url,
                                 token="t" * 43, secret="s" * 43, state=state, requested_at=now, next_action_at=now,
                                 attempts=0, pushes=0, created_at=now, updated_at=now)
        session.add(sub)
    return sub


@pytest.mark.parametrize(("params", "status"), [
    ({"hub.mode": "denied", "hub.reason": "quota\x00 reached"}, 200),
    ({"hub.mode": "subscribe", "hub.challenge": "c-1", "hub.lease_seconds": "999999999999"}, 200),
    ({"hub.mode": "subscribe", "hub.challenge": "c-1", "hub.lease_seconds": "\u00b2"}, 404),
], ids=["denial reason holding NUL", "lease of 31,700 years", "lease in superscript digits"])
async def test_odd_verifications_from_a_hub_are_answered(client: httpx.AsyncClient, runtime: Runtime,
                                                         params: dict[str, str], status: int) -> None:
    sub = await add_subscription(runtime, "subscribing")
    answer = await client.get(f"/websub/{sub.token}", params={**params, "hub.topic": sub.topic_url})
    assert answer.status_code == status, answer.text
    async with runtime.db.sessions() as session:
        after = (await session.execute(select(WebSubSubscription))).scalar_one()
    assert after.state == {200: "denied" if params["hub.mode"] == "denied" else "active", 404: "subscribing"}[status]
    assert "\x00" not in (after.last_error or "")


async def test_a_hub_refusing_with_nul_bytes_is_recorded(database_url: str, feed_server: FeedServer,
                                                         tmp_path: Path) -> None:
    hub = LiveHub(tmp_path).start()
    try:
        async with live_service(database_url) as svc:
            publisher = Publisher(feed_server, hub.url)
            publisher.add("Ferry timetable", "The ferry leaves at nine from the north quay on weekdays.")
            hub.failing, hub.failing_body = 400, "quota\x00 reached"
            response = await svc.http.post("/v1/feeds", json={"url": publisher.topic})
            feed_id = response.json()["id"]
            await IngestWorker(svc.runtime).poll_now(feed_id)
            await WebSubWorker(svc.runtime).run_once()
            sub = await subscription(svc.runtime, feed_id)
            assert sub is not None and sub.state == "failed", sub and (sub.state, sub.last_error)
            assert sub.last_error is not None and "quota reached" in sub.last_error
    finally:
        hub.stop()
