"""Polling and ingestion end to end through the worker, against a real HTTP server on
127.0.0.1 and the real database: what a user of the feeds and articles API would notice."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.runtime import Runtime
from app.storage.feeds import create_feed
from app.storage.models import Article, Base, Event, Feed, Quote
from app.workers.ingest import IngestWorker, PollReport
from tests.feedserver import FeedServer, Recorded, Reply

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def team_feed(server: FeedServer) -> str:
    return (SEEDS / "team-feed.xml").read_text().replace("http://harbour.example", server.url("").rstrip("/"))


def serve_team_site(server: FeedServer, feed_headers: dict[str, str] | None = None) -> str:
    server.route("/feed.xml", body=team_feed(server),
                 headers={"Content-Type": "application/rss+xml; charset=utf-8", **(feed_headers or {})})
    for page in (SEEDS / "articles").glob("*.html"):
        # the pages declare their canonical URL on the site that serves them
        html = page.read_text().replace("http://harbour.example", server.url("").rstrip("/"))
        server.route(f"/articles/{page.name}", body=html, headers={"Content-Type": "text/html"})
    return server.url("/feed.xml")


async def add_feed(runtime: Runtime, url: str) -> int:
    async with runtime.db.transaction() as session:
        feed = await create_feed(session, url=url, title=None, interval_override_s=None, now=runtime.clock())
    return feed.id


async def poll(runtime: Runtime, feed_id: int) -> tuple[PollReport, Feed]:
    report, feed = await IngestWorker(runtime).poll_now(feed_id)
    return report, feed


async def count(runtime: Runtime, model: type[Base], *where: ColumnElement[bool]) -> int:
    async with runtime.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_first_poll_stores_full_text_articles_with_quotes(runtime: Runtime, feed_server: FeedServer) -> None:
    feed_id = await add_feed(runtime, serve_team_site(feed_server))
    report, feed = await poll(runtime, feed_id)
    assert (report.outcome, report.entries, report.created) == ("ok", 3, 3)
    assert feed.title == "Harbour Town Gazette" and feed.state == "ok" and feed.last_success_at is not None
    # ttl 30 min in the feed raises the interval above the 5-minute floor
    assert feed.interval_s >= 1800
    async with runtime.db.sessions() as session:
        ferry = (await session.execute(select(Article).where(Article.title.contains("ferry")))).scalar_one()
    # tracking parameters are gone; the page's rel=canonical wins
    assert ferry.canonical_url.endswith("/articles/ferry-timetable.html")
    assert ferry.extraction == "ok" and "two early crossings" in (ferry.text or "")
    assert "Most read" not in (ferry.text or "") and ferry.byline == "Ines Okafor"
    assert ferry.source == "127.0.0.1"  # from the canonical URL the page declares
    assert await count(runtime, Quote, Quote.article_id == ferry.id) >= 3
    # the outbox holds one article.created per article, written with it
    assert await count(runtime, Event, Event.type == "article.created") == 3


async def test_conditional_get_and_unchanged_bodies_cost_no_parse(runtime: Runtime, feed_server: FeedServer) -> None:
    body = team_feed(feed_server)

    def conditional(req: Recorded) -> Reply:
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, body.encode(), {"ETag": '"v1"', "Last-Modified": "Wed, 25 Nov 2026 07:00:00 GMT",
                                          "Content-Type": "application/rss+xml"})

    feed_server.route("/feed.xml", handler=conditional)
    feed_id = await add_feed(runtime, feed_server.url("/feed.xml"))
    first, _ = await poll(runtime, feed_id)
    second, feed = await poll(runtime, feed_id)
    assert first.outcome == "ok" and second.outcome == "not_modified"
    sent = feed_server.requests_to("/feed.xml")[-1].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Wed, 25 Nov 2026 07:00:00 GMT"
    assert feed.etag == '"v1"'
    # a server without validators sending the same bytes: recognised by hash
    feed_server.route("/plain.xml", body=body, headers={"Content-Type": "application/rss+xml"})
    plain_id = await add_feed(runtime, feed_server.url("/plain.xml"))
    await poll(runtime, plain_id)
    again, _ = await poll(runtime, plain_id)
    assert again.outcome == "unchanged"


async def test_repolling_and_republishing_never_duplicates(runtime: Runtime, feed_server: FeedServer) -> None:
    url = serve_team_site(feed_server)
    feed_id = await add_feed(runtime, url)
    await poll(runtime, feed_id)
    # Same entries again, new bytes (a comment changed): nothing new stored, pages not refetched.
    page_hits = len(feed_server.requests_to("/articles/lighthouse.html"))
    feed_server.route("/feed.xml", body=team_feed(feed_server) + "<!-- rebuilt -->",
                      headers={"Content-Type": "application/rss+xml"})
    report, _ = await poll(runtime, feed_id)
    assert (report.created, report.updated) == (0, 0)
    assert len(feed_server.requests_to("/articles/lighthouse.html")) == page_hits
    # The same article through a second feed (another GUID, same canonical page): one article.
    feed_server.route("/other.xml", body=team_feed(feed_server).replace("harbour-000", "mirror-"),
                      headers={"Content-Type": "application/rss+xml"})
    other_id = await add_feed(runtime, feed_server.url("/other.xml"))
    other, _ = await poll(runtime, other_id)
    assert other.created == 0
    assert await count(runtime, Article) == 3


async def test_edited_entry_updates_the_article_and_counts_revisions(runtime: Runtime,
                                                                     feed_server: FeedServer) -> None:
    feed_id = await add_feed(runtime, serve_team_site(feed_server))
    await poll(runtime, feed_id)
    edited = team_feed(feed_server).replace("Lighthouse reopens to visitors after repairs",
                                            "Lighthouse reopens to visitors after long repairs")
    feed_server.route("/feed.xml", body=edited, headers={"Content-Type": "application/rss+xml"})
    report, _ = await poll(runtime, feed_id)
    assert (report.created, report.updated) == (0, 1)
    async with runtime.db.sessions() as session:
        article = (await session.execute(select(Article).where(Article.guid == "harbour-0003"))).scalar_one()
    assert article.revision == 2 and article.title is not None and article.title.endswith("long repairs")
    assert await count(runtime, Event, Event.type == "article.updated") == 1
    assert await count(runtime, Article) == 3


async def test_unfetchable_page_keeps_feed_content_and_is_retried(runtime: Runtime, feed_server: FeedServer) -> None:
    url = serve_team_site(feed_server)
    feed_server.route("/articles/lighthouse.html", status=503)
    feed_id = await add_feed(runtime, url)
    await poll(runtime, feed_id)
    async with runtime.db.sessions() as session:
        article = (await session.execute(select(Article).where(Article.guid == "harbour-0003"))).scalar_one()
    assert article.extraction == "retry" and "north pier" in (article.text or "")
    # the page comes back; the next poll (even with an unchanged entry) fetches it again
    feed_server.route("/articles/lighthouse.html", body=(SEEDS / "articles" / "lighthouse.html").read_bytes(),
                      headers={"Content-Type": "text/html"})
    feed_server.route("/feed.xml", body=team_feed(feed_server) + " ", headers={"Content-Type": "application/rss+xml"})
    await poll(runtime, feed_id)
    async with runtime.db.sessions() as session:
        article = (await session.execute(select(Article).where(Article.guid == "harbour-0003"))).scalar_one()
    assert article.extraction == "ok" and "112 steps" in (article.text or "") and article.revision == 1


WIRE = ("The national weather service issued a storm warning for the whole coast on Thursday, saying winds "
        "could reach 120 kilometres an hour overnight and that ferries would probably stay in port until "
        "Saturday morning. Schools in three districts will close, and the railway company said it would run "
        "a reduced timetable. Emergency services asked residents to secure garden furniture and to avoid "
        "the seafront, where waves of up to eight metres are expected at high tide on Friday afternoon. ")


async def test_syndicated_copies_join_one_story(runtime: Runtime, feed_server: FeedServer) -> None:
    def rss(prefix: str) -> str:
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{prefix}</title>'
                f'<item><title>Storm warning</title><link>{feed_server.url("/" + prefix + "/storm")}</link>'
                f"<guid>{prefix}-storm</guid></item></channel></rss>")

    for prefix, boiler in (("a", "Read more from Coast Daily."), ("b", "Copyright Wire Agency. Share this.")):
        feed_server.route(f"/{prefix}.xml", body=rss(prefix), headers={"Content-Type": "application/rss+xml"})
        feed_server.route(f"/{prefix}/storm", body=f"<html><body><article><h1>Storm warning</h1><p>{WIRE}</p>"
                          f"<p>{boiler}</p></article></body></html>", headers={"Content-Type": "text/html"})
    for prefix in ("a", "b"):
        await poll(runtime, await add_feed(runtime, feed_server.url(f"/{prefix}.xml")))
    async with runtime.db.sessions() as session:
        first, second = (await session.execute(select(Article).order_by(Article.id))).scalars().all()
    assert first.story_id == first.id
    assert second.story_id == first.id and second.duplicate_of == first.id


async def test_failures_are_recorded_with_backoff_and_health(runtime: Runtime, feed_server: FeedServer) -> None:
    feed_server.route("/broken.xml", status=500)
    feed_id = await add_feed(runtime, feed_server.url("/broken.xml"))
    report, feed = await poll(runtime, feed_id)
    assert report.outcome == "error" and feed.state == "degraded" and feed.consecutive_failures == 1
    assert "500" in (feed.last_error or "") and feed.next_poll_at > runtime.clock() + timedelta(seconds=20)
    for _ in range(4):
        _, feed = await poll(runtime, feed_id)
    assert feed.state == "failing" and feed.consecutive_failures == 5
    assert await count(runtime, Event, Event.type == "feed.failing") == 1
    serve_team_site(feed_server)
    feed_server.route("/broken.xml", body=team_feed(feed_server), headers={"Content-Type": "application/rss+xml"})
    _, feed = await poll(runtime, feed_id)
    assert feed.state == "ok" and feed.consecutive_failures == 0
    assert await count(runtime, Event, Event.type == "feed.recovered") == 1


async def test_retry_after_is_honoured(runtime: Runtime, feed_server: FeedServer) -> None:
    feed_server.route("/busy.xml", status=429, headers={"Retry-After": "7200"})
    feed_id = await add_feed(runtime, feed_server.url("/busy.xml"))
    _, feed = await poll(runtime, feed_id)
    assert feed.next_poll_at >= runtime.clock() + timedelta(seconds=7100)


@pytest.mark.parametrize("scenario, expected", [
    ("gone", "gone"), ("malformed", "degraded"), ("loop", "degraded"), ("slow", "degraded")])
async def test_hard_errors_are_clear_and_never_crash(runtime: Runtime, feed_server: FeedServer, scenario: str,
                                                     expected: str) -> None:
    runtime.settings.request_timeout_s = 1.0
    if scenario == "gone":
        feed_server.route("/f", status=410)
    elif scenario == "malformed":
        feed_server.route("/f", body=b"<html><body>Not a feed at all</body></html>",
                          headers={"Content-Type": "text/html"})
    elif scenario == "loop":
        feed_server.route("/f", status=301, headers={"Location": "/g"})
        feed_server.route("/g", status=301, headers={"Location": "/f"})
    else:
        feed_server.route("/f", body=b"<rss/>", delay=3)
    feed_id = await add_feed(runtime, feed_server.url("/f"))
    report, feed = await poll(runtime, feed_id)
    assert report.outcome == "error" and feed.state == expected and feed.last_error
    if scenario == "gone":
        async with runtime.db.transaction() as session:
            from app.storage.feeds import claim_due_feeds

            far = runtime.clock() + timedelta(days=30)
            claimed = await claim_due_feeds(session, now=far, limit=10, owner="t", lease_s=60)
        assert claimed == []  # 410 stops polling


async def test_permanent_redirect_moves_the_feed_on_the_second_poll(runtime: Runtime,
                                                                   feed_server: FeedServer) -> None:
    serve_team_site(feed_server)
    feed_server.route("/old.xml", status=301, headers={"Location": feed_server.url("/feed.xml")})
    feed_id = await add_feed(runtime, feed_server.url("/old.xml"))
    _, feed = await poll(runtime, feed_id)
    assert feed.url.endswith("/old.xml")
    _, feed = await poll(runtime, feed_id)
    assert feed.url == feed_server.url("/feed.xml")


async def test_poll_endpoint_and_feed_health_in_the_api(client: httpx.AsyncClient, feed_server: FeedServer) -> None:
    url = serve_team_site(feed_server)
    feed = (await client.post("/v1/feeds", json={"url": url})).json()
    result = await client.post(f"/v1/feeds/{feed['id']}/poll")
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["outcome"] == "ok" and body["articles_created"] == 3 and body["feed"]["state"] == "ok"
    articles = (await client.get("/v1/articles", params={"feed_id": feed["id"], "limit": 2})).json()
    assert [a["title"] for a in articles["items"]][0].startswith("Lighthouse")  # newest first
    rest = (await client.get("/v1/articles", params={"feed_id": feed["id"], "cursor": articles["next_cursor"]})).json()
    assert len(articles["items"]) + len(rest["items"]) == 3 and rest["next_cursor"] is None
    window = (await client.get("/v1/articles", params={"published_after": "2026-11-24T00:00:00Z",
                                                       "published_before": "2026-11-25T00:00:00Z"})).json()
    assert [a["title"] for a in window["items"]] == ["Fishing cooperative warns of poor season"]
    assert (await client.get("/v1/feeds/999999/poll")).status_code in (404, 405)
    assert (await client.post("/v1/feeds/999999/poll")).status_code == 404


async def test_site_home_page_is_resolved_to_its_feed(client: httpx.AsyncClient, feed_server: FeedServer) -> None:
    serve_team_site(feed_server)
    feed_server.route("/", body='<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
                                "</head><body>Home</body></html>", headers={"Content-Type": "text/html"})
    created = await client.post("/v1/feeds", json={"url": feed_server.url("/")})
    assert created.status_code == 201, created.text
    assert created.json()["url"] == feed_server.url("/feed.xml")


async def test_opml_import_and_export(client: httpx.AsyncClient) -> None:
    opml = (SEEDS / "news-feeds.opml").read_text()
    # Real public hosts resolve nowhere on this machine's closed network; import must still
    # register them (DNS failures are the poller's business) or refuse with a reason.
    imported = await client.post("/v1/feeds:import", content=opml, headers={"content-type": "text/x-opml"})
    assert imported.status_code == 200, imported.text
    result = imported.json()
    assert result["created"] + len(result["invalid"]) == 20
    again = (await client.post("/v1/feeds:import", content=opml, headers={"content-type": "text/x-opml"})).json()
    assert again["created"] == 0
    exported = await client.get("/v1/feeds.opml")
    assert exported.status_code == 200 and exported.text.count("xmlUrl=") == result["created"]
    bad = await client.post("/v1/feeds:import", content="<!DOCTYPE x [<!ENTITY a 'b'>]><opml/>",
                            headers={"content-type": "text/x-opml"})
    assert bad.status_code == 422


async def test_an_article_stored_by_another_worker_meanwhile_is_skipped(runtime: Runtime,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers can both find a URL new and both insert it: the second insert must skip the
    row (ON CONFLICT DO NOTHING), store its other articles, and neither fail nor duplicate."""
    import app.storage.ingest as storing
    from tests.test_quotes_api import draft

    first = draft("Harbour master Olga Petrenko said “the quay reopens Monday.”")
    other = dataclasses.replace(first, canonical_url="https://harbour.example/other", guid="other",
                                url="https://harbour.example/other", body_hash="other")
    async with runtime.db.transaction() as session:
        await storing.store_drafts(session, None, [first], runtime.clock())

    async def stale_lookup(*_args: object) -> storing._ExactKeys:
        return storing._ExactKeys(None)  # what a worker that read before the other committed sees

    monkeypatch.setattr(storing, "_exact_matches", stale_lookup)
    async with runtime.db.transaction() as session:
        stored = await storing.store_drafts(session, None, [first, other], runtime.clock())
    assert len(stored.created) == 1
    async with runtime.db.sessions() as session:
        urls = (await session.execute(select(Article.canonical_url).order_by(Article.id))).scalars().all()
        events = await session.scalar(select(func.count()).select_from(Event).where(Event.type == "article.created"))
    assert urls == ["https://harbour.example/quay", "https://harbour.example/other"]
    assert events == 2


async def test_repeats_within_one_feed_document_are_one_article(runtime: Runtime) -> None:
    """The same GUID, URL or extracted body twice in one poll is one article (the fuller copy; of
    equals, the last)."""
    import app.storage.ingest as storing
    from tests.test_quotes_api import draft

    first = draft("Harbour master Olga Petrenko said “the quay reopens Monday.”")
    same_guid = dataclasses.replace(first, canonical_url="https://harbour.example/quay?page=1", title="Quay (2)",
                                    body_hash="second")
    same_body = dataclasses.replace(first, canonical_url="https://harbour.example/copy", guid="copy",
                                    title="Quay (copy)")
    other = dataclasses.replace(first, canonical_url="https://harbour.example/other", guid="other",
                                body_hash="other")
    async with runtime.db.transaction() as session:
        stored = await storing.store_drafts(session, None, [first, same_guid, same_body, other], runtime.clock())
    assert len(stored.created) == 2
    async with runtime.db.sessions() as session:
        titles = (await session.execute(select(Article.title).order_by(Article.id))).scalars().all()
    assert titles == ["Quay (copy)", "Quay"]


async def test_a_guid_only_names_an_article_within_its_own_feed(runtime: Runtime) -> None:
    """Numeric GUIDs repeat across feeds: feed A's entry "1" is not feed B's entry "1", even when
    B's article is at hand because A also links to it."""
    import app.storage.ingest as storing
    from tests.test_quotes_api import draft

    async with runtime.db.transaction() as session:
        a, b = [(await create_feed(session, url=f"https://{n}.example/feed", title=None, interval_override_s=None,
                                   now=runtime.clock())).id for n in ("a", "b")]
    theirs = dataclasses.replace(draft("The council said “the bridge reopens in May.”"), guid="1",
                                 canonical_url="https://b.example/bridge", url="https://b.example/bridge")
    async with runtime.db.transaction() as session:
        await storing.store_drafts(session, b, [theirs], runtime.clock())
    ours = dataclasses.replace(draft("The mayor said “the harbour opens in June.”"), guid="1", title="Harbour",
                               canonical_url="https://a.example/harbour", url="https://a.example/harbour")
    linked = dataclasses.replace(theirs, guid="2")  # A links to B's article too
    async with runtime.db.transaction() as session:
        stored = await storing.store_drafts(session, a, [ours, linked], runtime.clock())
    assert len(stored.created) == 1
    async with runtime.db.sessions() as session:
        rows = (await session.execute(select(Article.feed_id, Article.title).order_by(Article.id))).all()
    assert [tuple(r) for r in rows] == [(b, "Quay"), (a, "Harbour")]


async def _found_by_search(runtime: Runtime, q: str) -> list[int]:
    """Ids of the articles a search finds, oldest first; on SQLite also checks that the raw index
    has exactly one row per stored article (none left pointing at nothing)."""
    from app.domain.query import parse_query
    from app.storage.search import search_articles
    from app.storage.search_plan import ArticleSearch

    async with runtime.db.reading() as session:
        if runtime.db.dialect == "sqlite":
            rows = (await session.execute(text("SELECT count(*) FROM articles_fts"))).scalar_one()
            assert rows == len((await session.execute(select(Article.id))).all())
        hits, _ = await search_articles(session, ArticleSearch(query=parse_query(q)), cursor=None, limit=10)
        return sorted(hit.article.id for hit in hits)


@pytest.mark.parametrize("fails_after_a_round_trip", [False, True])
async def test_a_store_that_fails_leaves_nothing_in_the_search_index(runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
                                                                     fails_after_a_round_trip: bool) -> None:
    """On SQLite the index rows travel beside the outbox write; when that write fails, the index
    rows roll back with the article (none is left pointing at nothing), and the next store is
    found by search."""
    import app.storage.ingest as storing
    from tests.test_quotes_api import draft

    async def failing_outbox(session: AsyncSession, *_args: object, **_kwargs: object) -> list[str]:
        if fails_after_a_round_trip:
            await session.execute(select(func.count()).select_from(Event))
        raise RuntimeError("outbox write failed")

    article = draft("Harbour master Olga Petrenko said “the quay reopens Monday.”")
    with monkeypatch.context() as patch:
        patch.setattr(storing, "record_events", failing_outbox)
        with pytest.raises(RuntimeError, match="outbox write failed"):
            async with runtime.db.transaction() as session:
                await storing.store_drafts(session, None, [article], runtime.clock())

    assert await _found_by_search(runtime, "quay") == []
    async with runtime.db.transaction() as session:
        stored = await storing.store_drafts(session, None, [article], runtime.clock())
    assert await _found_by_search(runtime, "quay") == list(stored.created)


async def test_articles_dated_outside_1970_to_2106_leave_no_index_rows_when_deleted(runtime: Runtime) -> None:
    """Feeds carry dates such as 1806 and 2106. Deleting such an article (or moving its date)
    must take its index row along, or a later article reusing its id would be found by old text."""
    from datetime import UTC, datetime

    from sqlalchemy import delete

    import app.storage.ingest as storing
    from tests.test_quotes_api import draft

    base = draft("Harbour master Olga Petrenko said “the quay reopens Monday.”")
    drafts = [dataclasses.replace(base, canonical_url=f"https://harbour.example/{year}", guid=str(year),
                                  body_hash=str(year), published_at=datetime(year, 2, 9, tzinfo=UTC))
              for year in (1806, 1906, 2106)]
    async with runtime.db.transaction() as session:
        stored = await storing.store_drafts(session, None, drafts, runtime.clock())
    assert len(stored.created) == 3

    assert await _found_by_search(runtime, "quay") == sorted(stored.created)
    redated = dataclasses.replace(drafts[0], published_at=datetime(1750, 1, 1, tzinfo=UTC), title="Quay (2)")
    async with runtime.db.transaction() as session:
        await storing.store_drafts(session, None, [redated], runtime.clock())
    assert await _found_by_search(runtime, "quay") == sorted(stored.created)  # indexed once, under its new date
    async with runtime.db.transaction() as session:
        await session.execute(delete(Article))
    assert await _found_by_search(runtime, "quay") == []
