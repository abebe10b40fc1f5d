"""Who may change a stored article: its own feed, or a feed on the article's site. A page
elsewhere that declares the article's URL as its canonical one, or a feed elsewhere that lists
the article, once rewrote it; now each is an article of its own, in the same story when it is a
copy. Two sites on one machine: 127.0.0.1 and 127.0.0.2 (hosts without a registrable domain are
compared whole)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from app.domain.sites import same_site, site_of
from app.runtime import Runtime
from app.storage.models import Article
from tests.feedserver import FeedServer
from tests.test_ingest import add_feed, poll, serve_team_site

STORY = ("The harbour board voted on Tuesday to rebuild the eastern breakwater before the winter storms, "
         "at a cost of four million, after the autumn tides flooded the fish market twice. Board chair "
         "Maren Dahl said \u201cwe cannot wait another season\u201d and asked the council for a loan. ")


@pytest.fixture
def elsewhere() -> Iterator[FeedServer]:
    server = FeedServer(host="127.0.0.2").start()
    try:
        yield server
    finally:
        server.stop()


def rss(items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Elsewhere</title>{items}</channel></rss>'.encode()


async def the_ferry(runtime: Runtime) -> Article:
    async with runtime.db.sessions() as session:
        return (await session.execute(select(Article).where(Article.guid == "harbour-0001"))).scalar_one()


async def test_a_page_elsewhere_cannot_claim_a_stored_article(runtime: Runtime, feed_server: FeedServer,
                                                              elsewhere: FeedServer) -> None:
    await poll(runtime, await add_feed(runtime, serve_team_site(feed_server)))
    before = await the_ferry(runtime)
    elsewhere.route("/feed.xml", body=rss(f"<item><title>Ferry news</title><link>{elsewhere.url('/ferry')}</link>"
                                          "<guid>e-1</guid></item>"), headers={"Content-Type": "application/rss+xml"})
    elsewhere.route("/ferry", body=f'<html><head><link rel="canonical" href="{before.canonical_url}"></head>'
                                   f"<body><article><p>{STORY}</p></article></body></html>",
                    headers={"Content-Type": "text/html"})
    report, _ = await poll(runtime, await add_feed(runtime, elsewhere.url("/feed.xml")))
    assert report.created == 1 and report.updated == 0
    after = await the_ferry(runtime)
    assert (after.text, after.title, after.revision, after.url) == (before.text, before.title, 1, before.url)
    async with runtime.db.sessions() as session:
        theirs = (await session.execute(select(Article).where(Article.guid == "e-1"))).scalar_one()
    assert theirs.canonical_url == elsewhere.url("/ferry")  # a canonical URL on another site is ignored
    assert "breakwater" in (theirs.text or "") and theirs.story_id != before.story_id


async def test_a_feed_elsewhere_listing_a_stored_article_gets_its_own_copy(runtime: Runtime,
                                                                         feed_server: FeedServer,
                                                                         elsewhere: FeedServer,
                                                                         client: httpx.AsyncClient) -> None:
    await poll(runtime, await add_feed(runtime, serve_team_site(feed_server)))
    before = await the_ferry(runtime)
    listing = (f"<item><title>Ferries cancelled for good</title><link>{before.url}</link><guid>e-2</guid>"
               "<description>Nothing sails again.</description></item>")
    elsewhere.route("/feed.xml", body=rss(listing), headers={"Content-Type": "application/rss+xml"})
    other_feed = await add_feed(runtime, elsewhere.url("/feed.xml"))
    report, _ = await poll(runtime, other_feed)
    assert report.updated == 0 and report.created == 1
    after = await the_ferry(runtime)
    assert (after.title, after.summary, after.revision) == (before.title, before.summary, 1)
    async with runtime.db.sessions() as session:
        theirs = (await session.execute(select(Article).where(Article.feed_id == other_feed))).scalar_one()
    assert theirs.title == "Ferries cancelled for good" and theirs.url == before.url
    assert theirs.story_id == before.story_id and theirs.duplicate_of == before.id
    # the listing edited: its own article changes, the original does not
    elsewhere.route("/feed.xml", body=rss(listing.replace("for good", "for ever")),
                    headers={"Content-Type": "application/rss+xml"})
    report, _ = await poll(runtime, other_feed)
    assert (report.created, report.updated) == (0, 1)
    assert (await the_ferry(runtime)).revision == 1
    shown = (await client.get(f"/v1/articles/{before.id}")).json()
    assert shown["title"] == before.title and shown["revision"] == 1
    collapsed = (await client.get("/v1/articles", params={"collapse": "story", "q": "ferry"})).json()
    assert len({a["story_id"] for a in collapsed["items"]}) == len(collapsed["items"])


async def test_a_listing_elsewhere_that_adds_nothing_stores_nothing(runtime: Runtime, feed_server: FeedServer,
                                                                   elsewhere: FeedServer) -> None:
    await poll(runtime, await add_feed(runtime, serve_team_site(feed_server)))
    before = await the_ferry(runtime)
    same = f"<item><title>{before.title}</title><link>{before.url}</link><guid>e-3</guid></item>"
    elsewhere.route("/feed.xml", body=rss(same), headers={"Content-Type": "application/rss+xml"})
    report, _ = await poll(runtime, await add_feed(runtime, elsewhere.url("/feed.xml")))
    assert (report.created, report.updated) == (0, 0)


@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://www.example.co.uk/a", "https://news.example.co.uk/b", True),
    ("https://example.co.uk/a", "https://other.co.uk/a", False),  # the suffix is no site
    ("https://alice.github.io/a", "https://bob.github.io/a", False),  # nor is a private one
    ("http://127.0.0.1:8000/a", "http://127.0.0.1:9000/a", True),
    ("http://127.0.0.1/a", "http://127.0.0.2/a", False),
    ("https://EXAMPLE.com./a", "http://example.com/b", True),
    ("javascript:alert(1)", "https://example.com/", False),
])
def test_same_site_is_the_registrable_domain(a: str, b: str, same: bool) -> None:
    assert same_site(a, b) is same
    assert site_of("https://news.example.co.uk/x") == "example.co.uk"
