"""More sources end to end, through the worker and the API against a real HTTP server on
127.0.0.1 and the real database: JSON Feeds, news sitemaps and sitemap indexes, robots.txt for
article pages, and discovery through robots.txt."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.config import Settings
from app.pipeline.robots import RobotsCache
from app.runtime import Runtime
from app.storage.models import Article
from tests.conftest import make_settings, wipe
from tests.feedserver import FeedServer, Recorded, Reply
from tests.test_ingest import add_feed, poll, serve_team_site
from tests.test_robots import Clock

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
PAGES = {"ferry-timetable.html": ("Council approves new ferry timetable", "2026-11-23T09:15:00Z"),
         "fishing-season.html": ("Fishing cooperative warns of poor season", "2026-11-24T14:40:00Z"),
         "lighthouse.html": ("Lighthouse reopens to visitors after repairs", "2026-11-25T07:05:00Z")}
NEWS_NS = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')


def serve_pages(server: FeedServer) -> None:
    for page in (SEEDS / "articles").glob("*.html"):
        server.route(f"/articles/{page.name}", body=page.read_bytes(), headers={"Content-Type": "text/html"})


def news_sitemap(server: FeedServer, names: list[str]) -> bytes:
    urls = "".join(
        f"<url><loc>{server.url('/articles/' + name)}</loc><news:news><news:publication>"
        f"<news:name>Harbour Town Gazette</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{PAGES[name][1]}</news:publication_date>"
        f"<news:title>{PAGES[name][0]}</news:title></news:news></url>" for name in names)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NEWS_NS}>{urls}</urlset>'.encode()


async def titles(runtime: Runtime) -> list[str]:
    async with runtime.db.sessions() as session:
        return [t or "" for t in (await session.scalars(select(Article.title).order_by(Article.id))).all()]


async def article(runtime: Runtime, title_part: str) -> Article:
    async with runtime.db.sessions() as session:
        return (await session.execute(select(Article).where(Article.title.contains(title_part)))).scalar_one()


MakeRuntime = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def runtime_with(database_url: str) -> AsyncIterator[MakeRuntime]:
    """A runtime with some settings changed: `await runtime_with(max_entries_per_poll=2)`."""
    made: list[Runtime] = []

    async def make(**overrides: object) -> Runtime:
        rt = Runtime.from_settings(make_settings(database_url, **overrides))
        await wipe(rt)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        await rt.close()


@pytest.mark.parametrize("link_type", ["application/feed+json", "application/json"])  # 1.1, and 1.0's advice
async def test_json_feed_is_discovered_polled_and_its_pages_read(client: httpx.AsyncClient, feed_server: FeedServer,
                                                                 link_type: str) -> None:
    serve_pages(feed_server)
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "Harbour Town Notes", "language": "en",
           "authors": [{"name": "Ines Okafor"}],
           "items": [{"id": f"note-{i}", "url": f"/articles/{name}", "title": title, "date_published": date,
                      "summary": f"Summary {i}.", "tags": ["harbour"]}
                     for i, (name, (title, date)) in enumerate(PAGES.items())]}
    feed_server.route("/notes/feed.json", body=json.dumps(doc), headers={"Content-Type": "application/feed+json"})
    feed_server.route("/notes/", body=f'<html><head><link rel="alternate" type="{link_type}" '
                                      'href="feed.json"></head><body>Notes</body></html>',
                      headers={"Content-Type": "text/html"})
    created = await client.post("/v1/feeds", json={"url": feed_server.url("/notes/")})
    assert created.status_code == 201, created.text
    feed = created.json()
    assert feed["url"] == feed_server.url("/notes/feed.json")
    result = (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()
    assert (result["outcome"], result["entries"], result["articles_created"]) == ("ok", 3, 3), result
    assert result["feed"]["title"] == "Harbour Town Notes"
    items = (await client.get("/v1/articles", params={"feed_id": feed["id"]})).json()["items"]
    assert [a["title"] for a in items] == [PAGES[n][0] for n in ("lighthouse.html", "fishing-season.html",
                                                                 "ferry-timetable.html")]
    assert all(a["extraction"] == "ok" and a["byline"] in ("Ines Okafor", None) for a in items)
    full = (await client.get(f"/v1/articles/{items[-1]['id']}")).json()
    assert "two early crossings" in full["text"]


async def test_news_sitemap_takes_new_urls_newest_first_within_the_cap(runtime_with: MakeRuntime,
                                                                        feed_server: FeedServer) -> None:
    runtime = await runtime_with(max_entries_per_poll=2)
    serve_pages(feed_server)
    body = news_sitemap(feed_server, ["ferry-timetable.html", "fishing-season.html", "lighthouse.html"])

    def sitemap(req: Recorded) -> Reply:
        if req.headers.get("if-none-match") == '"s1"':
            return Reply(304, headers={"ETag": '"s1"'})
        return Reply(200, body, {"ETag": '"s1"', "Content-Type": "application/xml"})

    feed_server.route("/news-sitemap.xml", handler=sitemap)
    feed_id = await add_feed(runtime, feed_server.url("/news-sitemap.xml"))
    first, feed = await poll(runtime, feed_id)
    # the two newest of three, with the news title; the third waits, so no validator is kept
    assert (first.outcome, first.entries, first.created) == ("ok", 3, 2)
    assert sorted(await titles(runtime)) == [PAGES["fishing-season.html"][0], PAGES["lighthouse.html"][0]]
    assert feed.title == "Harbour Town Gazette" and feed.etag is None and feed.body_hash is None
    second, feed = await poll(runtime, feed_id)
    assert "if-none-match" not in feed_server.requests_to("/news-sitemap.xml")[-1].headers
    assert second.created == 1 and feed.etag == '"s1"'
    third, _ = await poll(runtime, feed_id)
    assert feed_server.requests_to("/news-sitemap.xml")[-1].headers["if-none-match"] == '"s1"'
    assert third.outcome == "not_modified"
    # each page was fetched once: URLs already seen are not fetched again
    assert all(len(feed_server.requests_to(f"/articles/{name}")) == 1 for name in PAGES)
    lighthouse = await article(runtime, "Lighthouse")
    assert lighthouse.extraction == "ok" and lighthouse.language == "en"


async def test_plain_sitemap_pages_are_fetched_once(runtime: Runtime, feed_server: FeedServer) -> None:
    serve_pages(feed_server)

    def sitemap(lastmod: str) -> bytes:
        return ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(f"<url><loc>{feed_server.url('/articles/' + name)}</loc><lastmod>{lastmod}</lastmod>"
                          "</url>" for name in PAGES) + "</urlset>").encode()

    feed_server.route("/sitemap.xml", body=sitemap("2026-11-25"))
    feed_id = await add_feed(runtime, feed_server.url("/sitemap.xml"))
    first, _ = await poll(runtime, feed_id)
    # titled from their pages: no title in the sitemap is not an edit of the title
    assert first.created == 3 and (await article(runtime, "Lighthouse")).extraction == "ok"
    feed_server.route("/sitemap.xml", body=sitemap("2026-11-26"))
    second, _ = await poll(runtime, feed_id)
    assert (second.outcome, second.created, second.updated) == ("ok", 0, 0)
    assert all(len(feed_server.requests_to(f"/articles/{name}")) == 1 for name in PAGES)


async def test_sitemap_index_is_read_through_its_children(runtime: Runtime, feed_server: FeedServer) -> None:
    serve_pages(feed_server)
    feed_server.route("/sitemap-a.xml", body=news_sitemap(feed_server, ["ferry-timetable.html"]))
    feed_server.route("/sitemap-b.xml", body=news_sitemap(feed_server, ["fishing-season.html", "lighthouse.html"]))
    feed_server.route("/sitemap-gone.xml", status=404)
    index = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             + "".join(f"<sitemap><loc>{feed_server.url(p)}</loc></sitemap>"
                       for p in ("/sitemap-a.xml", "/sitemap-gone.xml", "/sitemap-b.xml")) + "</sitemapindex>")
    feed_server.route("/sitemap_index.xml", body=index, headers={"Content-Type": "application/xml", "ETag": '"i1"'})
    feed_id = await add_feed(runtime, feed_server.url("/sitemap_index.xml"))
    report, feed = await poll(runtime, feed_id)
    assert (report.outcome, report.created) == ("ok", 3)
    assert "sitemap-gone.xml" in (feed.parse_warning or "")
    # children without <lastmod> may change under an unchanged index: it is read again next time
    assert feed.etag is None and feed.body_hash is None
    feed_server.route("/sitemap-a.xml", body=news_sitemap(feed_server, ["ferry-timetable.html"]).replace(
        b"</urlset>", b"<url><loc>" + feed_server.url("/articles/new.html").encode() + b"</loc></url></urlset>"))
    feed_server.route("/articles/new.html", headers={"Content-Type": "text/html"}, body=(
        "<html lang='en'><head><title>Breakwater works begin</title></head><body><article><h1>Breakwater works "
        "begin</h1>" + "<p>Work on the south breakwater started on Monday, the port authority said. " * 6
        + "</p></article></body></html>"))
    again, _ = await poll(runtime, feed_id)
    assert again.created == 1


async def test_pages_robots_txt_disallows_keep_the_feed_content_and_say_why(client: httpx.AsyncClient,
                                                                           runtime: Runtime,
                                                                           feed_server: FeedServer) -> None:
    url = serve_team_site(feed_server)
    feed_server.route("/robots.txt", body="User-agent: *\nDisallow: /\n\nUser-agent: news-ingest\n"
                                          "Disallow: /articles/lighthouse*\n")
    feed_id = await add_feed(runtime, url)
    report, _ = await poll(runtime, feed_id)
    assert report.created == 3
    assert feed_server.requests_to("/articles/lighthouse.html") == []
    assert len(feed_server.requests_to("/articles/ferry-timetable.html?utm_source=rss")) == 1
    assert len(feed_server.requests_to("/robots.txt")) == 1
    lighthouse = await article(runtime, "Lighthouse")
    shown = (await client.get(f"/v1/articles/{lighthouse.id}")).json()
    assert (shown["extraction"], shown["extraction_reason"]) == ("blocked", "blocked by robots.txt")
    assert shown["text"] == "The lighthouse on the north pier is open again after eight months of repairs."
    ferry = (await client.get(f"/v1/articles/{(await article(runtime, 'ferry')).id}")).json()
    assert (ferry["extraction"], ferry["extraction_reason"]) == ("ok", None)
    # a blocked page is not asked for again on later polls
    feed_server.route("/feed.xml", body=(SEEDS / "team-feed.xml").read_text().replace(
        "http://harbour.example", feed_server.url("").rstrip("/")) + "<!-- rebuilt -->")
    await poll(runtime, feed_id)
    assert feed_server.requests_to("/articles/lighthouse.html") == []


@pytest.mark.parametrize(("obey", "extraction"), [(True, "blocked"), (False, "ok")])
async def test_robots_txt_can_be_ignored_for_sources_that_gave_permission(runtime_with: MakeRuntime,
                                                                          feed_server: FeedServer, obey: bool,
                                                                          extraction: str) -> None:
    runtime = await runtime_with(obey_robots_txt=obey)
    url = serve_team_site(feed_server)
    feed_server.route("/robots.txt", body="User-agent: *\nDisallow: /\n")
    feed_id = await add_feed(runtime, url)
    await poll(runtime, feed_id)
    assert (await article(runtime, "Lighthouse")).extraction == extraction
    assert len(feed_server.requests_to("/robots.txt")) == int(obey)


async def test_unreachable_robots_txt_holds_pages_back_for_a_retry(runtime: Runtime, feed_server: FeedServer) -> None:
    url = serve_team_site(feed_server)
    feed_server.route("/robots.txt", status=503, headers={"Retry-After": "0"})
    feed_server.route("/articles/fishing-season.html", status=500)
    feed_id = await add_feed(runtime, url)
    await poll(runtime, feed_id)
    assert feed_server.requests_to("/articles/ferry-timetable.html?utm_source=rss") == []
    ferry = await article(runtime, "ferry")
    assert ferry.extraction == "retry"
    assert (ferry.extraction_reason or "").startswith("robots.txt unreachable: fetch: ")
    assert "answered 503" in (ferry.extraction_reason or "")


async def test_a_page_held_back_and_then_disallowed_is_marked_blocked(runtime: Runtime,
                                                                     feed_server: FeedServer) -> None:
    clock = Clock()
    runtime._robots = RobotsCache(runtime.fetcher, user_agent=runtime.settings.user_agent, clock=clock)
    url = serve_team_site(feed_server)
    feed_server.route("/robots.txt", status=503, headers={"Retry-After": "0"})
    feed_id = await add_feed(runtime, url)
    await poll(runtime, feed_id)
    assert (await article(runtime, "Lighthouse")).extraction == "retry"
    feed_server.route("/robots.txt", body="User-agent: *\nDisallow: /articles/\n")
    feed_server.route("/feed.xml", body=(SEEDS / "team-feed.xml").read_text().replace(
        "http://harbour.example", feed_server.url("").rstrip("/")) + "<!-- rebuilt -->")
    clock.now += 301
    await poll(runtime, feed_id)
    lighthouse = await article(runtime, "Lighthouse")
    assert (lighthouse.extraction, lighthouse.extraction_reason) == ("blocked", "blocked by robots.txt")
    assert lighthouse.revision == 1  # the same article, not an edit
    assert feed_server.requests_to("/articles/lighthouse.html") == []


async def test_failed_page_fetch_says_why(runtime: Runtime, feed_server: FeedServer) -> None:
    url = serve_team_site(feed_server)
    feed_server.route("/articles/fishing-season.html", status=500)
    await poll(runtime, await add_feed(runtime, url))
    fishing = await article(runtime, "Fishing")
    assert fishing.extraction == "retry" and "answered 500" in (fishing.extraction_reason or "")


async def test_home_page_without_feeds_is_resolved_to_a_sitemap_in_robots_txt(client: httpx.AsyncClient,
                                                                             feed_server: FeedServer) -> None:
    serve_pages(feed_server)
    feed_server.route("/", body="<html><head><title>Harbour</title></head><body>No feeds here</body></html>",
                      headers={"Content-Type": "text/html"})
    feed_server.route("/sitemap_index.xml", body="<html>not a sitemap</html>")
    feed_server.route("/sitemaps/news.xml", body=news_sitemap(feed_server, ["lighthouse.html"]))
    feed_server.route("/robots.txt", body=(f"User-agent: *\nDisallow: /search\n"
                                           f"Sitemap: {feed_server.url('/sitemap_index.xml')}\n"
                                           f"Sitemap: {feed_server.url('/sitemaps/news.xml')}\n"))
    created = await client.post("/v1/feeds", json={"url": feed_server.url("/")})
    assert created.status_code == 201, created.text
    assert created.json()["url"] == feed_server.url("/sitemaps/news.xml")
    # the common feed paths were tried first: a real feed beats a sitemap
    assert feed_server.requests_to("/rss.xml")


def test_the_settings_read_their_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_INGEST_OBEY_ROBOTS_TXT", "false")
    monkeypatch.setenv("NEWS_INGEST_ROBOTS_TTL_S", "600")
    monkeypatch.setenv("NEWS_INGEST_MAX_ENTRIES_PER_POLL", "50")
    settings = Settings()
    assert (settings.obey_robots_txt, settings.robots_ttl_s, settings.max_entries_per_poll) == (False, 600, 50)
