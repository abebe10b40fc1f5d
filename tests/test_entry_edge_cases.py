"""Entries that are odd but real: dates far in the future, links that are no web page, one GUID
twice in a document, news briefs shorter than a paragraph, a language the feed alone declares."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.runtime import Runtime
from app.storage.models import Article
from tests.feedserver import FeedServer
from tests.test_ingest import add_feed, poll

BRIEF = ("Harbour master Lena Varga said \u201cthe night ferry sails again on Monday\u201d after the "
         "storm repairs.")  # 95 characters: a news brief, its whole text
STORY = ("The harbour board voted on Tuesday to rebuild the eastern breakwater before the winter storms, at "
         "a cost of four million, after the autumn tides flooded the fish market twice this year. ")


def rss(site: str, items: str, channel: str = "") -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Quay</title><link>{site}/</link>{channel}'
            f"{items}</channel></rss>").encode()


def html(text: str, head: str = "") -> bytes:
    return f"<html><head>{head}</head><body><article><p>{text}</p></article></body></html>".encode()


async def stored(runtime: Runtime) -> dict[str | None, Article]:
    async with runtime.db.sessions() as session:
        return {a.guid: a for a in (await session.execute(select(Article))).scalars()}


async def test_dates_far_in_the_future_are_not_believed(runtime: Runtime, feed_server: FeedServer) -> None:
    site = feed_server.url("").rstrip("/")
    items = (f"<item><title>From the future</title><link>{site}/a</link><guid>a</guid>"
             "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>"
             f"<item><title>Page from the future</title><link>{site}/b</link><guid>b</guid></item>"
             f"<item><title>Today</title><link>{site}/c</link><guid>c</guid>"
             f"<pubDate>{(datetime.now(UTC) - timedelta(hours=1)).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>"
             "</item>")
    feed_server.route("/feed.xml", body=rss(site, items), headers={"Content-Type": "application/rss+xml"})
    for path, text in (("/a", STORY), ("/b", STORY.replace("Tuesday", "Monday")), ("/c", STORY.replace("four", "two"))):
        head = '<meta property="article:published_time" content="2099-06-01T00:00:00Z">' if path == "/b" else ""
        feed_server.route(path, body=html(text * 2, head), headers={"Content-Type": "text/html"})
    before = datetime.now(UTC)
    await poll(runtime, await add_feed(runtime, feed_server.url("/feed.xml")))
    articles = await stored(runtime)
    for guid in ("a", "b"):  # the feed's date and the page's alike: the poll's time instead
        assert before - timedelta(seconds=5) <= articles[guid].published_at <= datetime.now(UTC), guid
    assert articles["c"].published_at < before


async def test_an_entry_without_a_web_page_points_at_the_site(runtime: Runtime, feed_server: FeedServer) -> None:
    site = feed_server.url("").rstrip("/")
    items = ('<item><title>Tide table</title><link>javascript:void(0)</link><guid isPermaLink="false">'
             "tag:quay.example,2026:tides</guid><description>High water at 06:12 and 18:40.</description></item>"
             f"<item><title>Breakwater</title><link>javascript:void(0)</link><guid>{site}/breakwater</guid></item>")
    feed_server.route("/feed.xml", body=rss(site, items), headers={"Content-Type": "application/rss+xml"})
    feed_server.route("/breakwater", body=html(STORY * 2), headers={"Content-Type": "text/html"})
    await poll(runtime, await add_feed(runtime, feed_server.url("/feed.xml")))
    articles = await stored(runtime)
    tides = articles["tag:quay.example,2026:tides"]
    assert tides.url == f"{site}/"  # the feed's site, not the bare GUID
    assert tides.text == "High water at 06:12 and 18:40." and tides.extraction == "feed_only"
    assert tides.source == "127.0.0.1"
    breakwater = articles[f"{site}/breakwater"]  # an http(s) GUID is the entry's permalink
    assert breakwater.url == f"{site}/breakwater" and breakwater.extraction == "ok"
    assert not [r for r in feed_server.requests if "javascript" in r.path or "tag:" in r.path]


@pytest.mark.parametrize("full_first", [True, False])
async def test_of_one_guid_twice_the_full_copy_is_kept(runtime: Runtime, feed_server: FeedServer,
                                                       full_first: bool) -> None:
    site = feed_server.url("").rstrip("/")
    full = f"<item><title>Breakwater</title><link>{site}/full</link><guid>bw</guid></item>"
    bare = (f"<item><title>Breakwater</title><link>{site}/gone</link><guid>bw</guid>"
            "<description>The board voted.</description></item>")
    feed_server.route("/feed.xml", body=rss(site, full + bare if full_first else bare + full),
                      headers={"Content-Type": "application/rss+xml"})
    feed_server.route("/full", body=html(STORY * 2), headers={"Content-Type": "text/html"})
    feed_server.route("/gone", body=b"<html><body></body></html>", headers={"Content-Type": "text/html"})
    report, _ = await poll(runtime, await add_feed(runtime, feed_server.url("/feed.xml")))
    assert report.created == 1
    article = (await stored(runtime))["bw"]
    assert article.extraction == "ok" and "breakwater" in (article.text or "")


async def test_a_short_page_is_kept_when_the_feed_says_less(runtime: Runtime, feed_server: FeedServer) -> None:
    site = feed_server.url("").rstrip("/")
    feed_server.route("/feed.xml", body=rss(site, f"<item><title>Ferry</title><link>{site}/brief</link>"
                                                  "<guid>brief</guid></item>"),
                      headers={"Content-Type": "application/rss+xml"})
    feed_server.route("/brief", body=html(BRIEF), headers={"Content-Type": "text/html"})
    report, _ = await poll(runtime, await add_feed(runtime, feed_server.url("/feed.xml")))
    article = (await stored(runtime))["brief"]
    assert article.text == BRIEF and article.extraction == "ok"
    assert article.quote_count == 1


async def test_the_feeds_language_is_used_without_a_page(runtime: Runtime, feed_server: FeedServer,
                                                         client: httpx.AsyncClient,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    site = feed_server.url("").rstrip("/")
    items = "".join(f"<item><title>Item {n}</title><link>{site}/{n}</link><guid>{n}</guid>"
                    f"<description>Harbour note {n}.</description></item>" for n in range(3))
    feed_server.route("/feed.xml", body=rss(site, items, "<language>en-gb</language>"),
                      headers={"Content-Type": "application/rss+xml"})
    monkeypatch.setattr(runtime.settings, "fetch_articles", False)
    await poll(runtime, await add_feed(runtime, feed_server.url("/feed.xml")))
    found = (await client.get("/v1/articles", params={"language": "en"})).json()["items"]
    assert len(found) == 3 and {a["language"] for a in found} == {"en-gb"}
    assert (await client.get("/v1/articles", params={"language": "fr"})).json()["items"] == []


async def test_collapsing_a_story_dated_past_2106_keeps_only_its_newest(runtime: Runtime,
                                                                        client: httpx.AsyncClient) -> None:
    """SQLite's search key in SQL clamps dates to 1970..2106 as Python's does; unclamped, the
    newer article's key matched no index row and its older story-mate was shown too. PostgreSQL
    keeps no key (the index is a column of the row): the same answer, checked the same way."""
    import app.storage.ingest as storing
    from tests.test_quotes_api import draft

    base = draft("Harbour master Olga Petrenko said \u201cthe quay reopens Monday.\u201d")
    old = dataclasses.replace(base, canonical_url="https://harbour.example/quay-old", guid="old", body_hash="old",
                              published_at=datetime(2026, 1, 1, tzinfo=UTC))
    new = dataclasses.replace(base, canonical_url="https://harbour.example/quay-new", guid="new", body_hash="new",
                              published_at=datetime(2200, 1, 1, tzinfo=UTC))
    async with runtime.db.transaction() as session:
        first, second = (await storing.store_drafts(session, None, [old, new], runtime.clock())).created
        await session.execute(update(Article).where(Article.id == second).values(story_id=first, duplicate_of=first))
    hits = (await client.get("/v1/articles", params={"q": "quay", "collapse": "story"})).json()["items"]
    assert [a["id"] for a in hits] == [second]


async def test_patch_include_text_null_is_the_default(client: httpx.AsyncClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.subscriptions as service

    async def allowed(*_args: object) -> None:
        return None

    monkeypatch.setattr(service, "check_receiver_url", allowed)
    created = (await client.post("/v1/subscriptions", json={"url": "https://127.0.0.1/hook", "include_text": True,
                                                            "events": ["article.created"]})).json()
    patched = await client.patch(f"/v1/subscriptions/{created['id']}", json={"include_text": None})
    assert patched.status_code == 200, patched.text
    assert patched.json()["include_text"] is False
    refused = await client.patch(f"/v1/subscriptions/{created['id']}", json={"url": None})
    assert refused.status_code == 422  # url, events and paused are not nullable, and the document says so
