"""No input may stall the event loop (issue 12, again): inputs whose size an outsider sets, and
whose cost grew with it on the event loop, each measured by probing the service while it is
processed (bench/hostile.py measures the real service the same way). Before these fixes each of
them held the loop for seconds; the probes' bound (tests/probes.py) is generous."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, insert, select

from app.api.problems import MAX_LISTED_ERRORS
from app.api.schemas import MAX_BODY_FIELDS, MAX_JSON_BODY_BYTES
from app.config import Settings
from app.domain.feeds import OpmlOutline
from app.domain.ingest import ArticleDraft
from app.domain.limits import MAX_QUOTES_PER_ARTICLE, MAX_SUMMARY_CHARS
from app.domain.quotes import Quote as FoundQuote
from app.pipeline.poll import render_opml
from app.runtime import Runtime
from app.services import feeds as feed_service
from app.storage.feeds import count_feeds
from app.storage.ingest import store_drafts
from app.storage.models import Event, Feed
from app.workers.ingest import IngestWorker
from tests.conftest import make_settings
from tests.feedserver import FeedServer
from tests.probes import STALL_S, idle_worst, probe_while, stall_bound
from tests.test_ingest import add_feed
from tests.test_search import _draft, _store

# Alternating quote marks: a quote every three characters, the most quotes a text can hold.
QUOTE_MARKS = '"a ' * 14_000


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The feed's own content is the article's text: no page to fetch. The API's pool is a process,
    # as in production: a thread would hold the interpreter while it parses.
    return make_settings(database_url, fetch_articles=False, api_extract_processes=1)


def one_entry_feed(description: str) -> str:
    return ('<?xml version="1.0"?><rss version="2.0"><channel><title>Quay notices</title>'
            "<item><title>Quay notice</title><link>http://127.0.0.1:9/notice</link><guid>quay-notice</guid>"
            f"<description>{description}</description></item></channel></rss>")


async def test_an_entry_of_quote_marks_is_stored_without_stalling_the_loop(
        runtime: Runtime, client: httpx.AsyncClient, feed_server: FeedServer) -> None:
    # 14,000 quotes, each announced by an event that carried the article's summary: the same
    # 42 KB, 14,000 times, encoded on the event loop (an entry of 200 KB held it 27 s).
    feed_server.route("/feed.xml", body=one_entry_feed(QUOTE_MARKS), headers={"Content-Type": "application/rss+xml"})
    feed_id = await add_feed(runtime, feed_server.url("/feed.xml"))
    poll = asyncio.create_task(IngestWorker(runtime).poll_now(feed_id))
    latencies = await probe_while(poll, client, "/readyz")
    report, _ = await poll
    assert report.created == 1
    assert max(latencies, default=0.0) < STALL_S
    (article,) = (await client.get("/v1/articles")).json()["items"]
    assert article["quote_count"] == MAX_QUOTES_PER_ARTICLE
    assert len(article["summary"]) <= MAX_SUMMARY_CHARS
    shown = (await client.get(f"/v1/articles/{article['id']}")).json()
    assert len(shown["text"]) > 40_000  # the text is whole


def empty_lists(size: int) -> bytes:
    """`[],[],...` of about `size` bytes: the costliest JSON to parse per byte (160 ms per MB)."""
    return b",".join([b"[]"] * (size // 3))


async def chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 65536):
        yield body[start:start + 65536]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_json_body_over_the_limit_is_refused_before_it_is_parsed(
        runtime: Runtime, client: httpx.AsyncClient, declared: bool) -> None:
    # FastAPI parses a body before the API key is checked: anyone could make it parse megabytes.
    body = b'{"url": "https://quay.example/feed", "title": [' + empty_lists(2_000_000) + b"]}"
    response = await client.post("/v1/feeds", content=body if declared else chunks(body), headers={
        "Authorization": "", "Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"request: the body exceeds {MAX_JSON_BODY_BYTES} bytes"


@pytest.mark.parametrize(("path", "document"), [
    ("/v1/quotes:extract", b'{"text": [%s]}'),
    ("/v1/feeds:import", b'{"document": [%s]}'),
], ids=["quotes-extract", "opml-import"])
async def test_a_large_body_is_read_off_the_event_loop(
        runtime: Runtime, client: httpx.AsyncClient, path: str, document: bytes) -> None:
    # Bodies measured in megabytes are parsed in the API's pool (8 MB of empty lists held the
    # event loop about 1.5 s); what is wrong with them is answered as before.
    await runtime.api_cpu.run("warm", len, "")  # the pool's process starts before the clock does
    body = document % empty_lists(8_000_000)
    task = asyncio.create_task(client.post(path, content=body, headers={"Content-Type": "application/json"}))
    latencies = await probe_while(task, client, "/readyz")
    response = await task
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["type"] in ("string_type", "list_type")
    assert response.json()["errors"][0]["loc"][0] == "body"
    assert max(latencies, default=0.0) < STALL_S


async def test_many_unknown_fields_are_one_error(client: httpx.AsyncClient) -> None:
    body = {"url": "https://quay.example/feed", **{f"field{n}": n for n in range(5000)}}
    response = await client.post("/v1/feeds", json=body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body"] and f"at most {MAX_BODY_FIELDS} fields" in error["msg"]


async def test_a_problem_lists_the_first_errors(client: httpx.AsyncClient) -> None:
    body = {"url": "https://quay.example/hook", "events": ["article.created"],
            "filter": {"feed_ids": ["harbour"] * 1000}}
    response = await client.post("/v1/subscriptions", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert len(problem["errors"]) == MAX_LISTED_ERRORS
    assert f"1000 errors in all, the first {MAX_LISTED_ERRORS} listed" in problem["detail"]


async def test_snippets_of_long_texts_do_not_stall_the_loop(runtime: Runtime, client: httpx.AsyncClient) -> None:
    # Each text is analysed to its 100,000th character before its snippet falls back on the
    # title (30 ms each here): a page of them held the loop for the whole page.
    drafts = [_draft(n, f"Harbour notice {n}", "a " * 60_000 + "harbour", hours=n) for n in range(60)]
    await _store(runtime, drafts)
    task = asyncio.create_task(client.get("/v1/articles", params={"q": "harbour", "limit": 60}))
    latencies = await probe_while(task, client, "/readyz")
    response = await task
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 60 and all(item["snippet"].startswith("<mark>Harbour</mark> notice") for item in items)
    assert max(latencies, default=0.0) < STALL_S


async def test_checking_the_addresses_of_a_large_import_does_not_stall_the_loop(
        runtime: Runtime, client: httpx.AsyncClient) -> None:
    # A task per outline, made at once: addresses given as numbers are checked without waiting,
    # so 100,000 of them ran in one go. Then 16 at a time on the event loop, which they kept busy
    # without a pause: the database's threads (the probe's query) waited for the GIL until the last.
    await runtime.api_cpu.run("warm", len, "")  # the pool's process starts before the clock does
    urls = [f"http://127.0.{n // 250 % 250}.{n % 250 + 1}:8{n % 10}/feed{n}.xml" for n in range(150_000)]
    urls[7] = "http://10.1.2.3/feed.xml"  # private: refused
    urls[9] = "ftp://127.0.0.1/feed.xml"  # not http(s): refused
    urls[11] = "http://name.invalid/feed.xml"  # a name that does not resolve now: the poller's business
    idle = await idle_worst(client, "/readyz")
    task = asyncio.create_task(feed_service._refusals(runtime, urls))
    latencies = await probe_while(task, client, "/readyz")
    refusals = await task
    assert {n: r for n, r in enumerate(refusals) if r} == {
        7: "http://10.1.2.3/feed.xml: fetch: 10.1.2.3 resolves to blocked address 10.1.2.3 (outgoing requests "
           "may not reach private, loopback or link-local addresses unless NEWS_INGEST_ALLOWED_NETWORKS allows them)",
        9: "ftp://127.0.0.1/feed.xml: fetch: unsupported scheme in 'ftp://127.0.0.1/feed.xml'"}
    assert max(latencies, default=0.0) < stall_bound(idle)


def outlines(urls: list[str]) -> str:
    return ('<?xml version="1.0"?><opml version="2.0"><head><title>Quays</title></head><body>'
            + "".join(f'<outline type="rss" text="Quay {n}" xmlUrl="{url}"/>' for n, url in enumerate(urls))
            + "</body></opml>")


async def feed_count(runtime: Runtime) -> int:
    async with runtime.db.reading() as session:
        return await count_feeds(session)


async def test_other_writers_pass_a_large_import_and_its_counts_stay_right(
        runtime: Runtime, client: httpx.AsyncClient) -> None:
    # An import wrote a statement per feed in one transaction (10 s for 20,000): on SQLite every
    # other writer waited for all of it. Now a slice at a time, each its own transaction.
    await runtime.api_cpu.run("warm", len, "")
    known = [f"http://127.0.9.{n}/known.xml" for n in range(1, 4)]
    for url in known:
        assert (await client.post("/v1/feeds", json={"url": url})).status_code == 201
    fresh = [f"http://127.0.{n // 250 % 250}.{n % 250 + 1}/quay{n}.xml" for n in range(20_000)]
    document = outlines([*fresh[:10], *known, "http://192.168.4.5/quay.xml", *fresh[10:]])
    before = await feed_count(runtime)
    headers = {"Content-Type": "text/x-opml"}
    task = asyncio.create_task(client.post("/v1/feeds:import", content=document, headers=headers))
    deadline = asyncio.get_running_loop().time() + 60
    while await feed_count(runtime) == before:  # the import's first slice is in
        assert not task.done() and asyncio.get_running_loop().time() < deadline, "the import wrote nothing apart"
        await asyncio.sleep(0.01)
    paused = await client.patch("/v1/feeds/1", json={"paused": True})  # another writer
    assert paused.status_code == 200, paused.text
    assert await feed_count(runtime) < before + len(fresh), "the other writer waited for the whole import"
    response = await task
    assert response.status_code == 200, response.text
    assert response.json() == {"created": len(fresh), "existing": len(known), "invalid": [
        "http://192.168.4.5/quay.xml: fetch: 192.168.4.5 resolves to blocked address 192.168.4.5 (outgoing "
        "requests may not reach private, loopback or link-local addresses unless NEWS_INGEST_ALLOWED_NETWORKS "
        "allows them)"]}
    assert await feed_count(runtime) == before + len(fresh)
    again = await client.post("/v1/feeds:import", content=document, headers=headers)
    assert again.json() == {**response.json(), "created": 0, "existing": len(fresh) + len(known)}


def quoted_articles(count: int) -> list[ArticleDraft]:
    # Each article quotes seven people a thousand times, the most quotes an article keeps.
    quotes = tuple(FoundQuote(text=f"the quay stays shut until {n}", start=40 * n, end=40 * n + 30, kind="direct",
                              speaker=f"Quay Warden {n % 7}", speaker_title="harbour master", speaker_type="person",
                              verb="said", channel=None, confidence=0.5) for n in range(MAX_QUOTES_PER_ARTICLE))
    return [ArticleDraft(guid=f"notice-{n}", url=f"https://quay.example/notice{n}",
                         canonical_url=f"https://quay.example/notice{n}", source="quay.example", title=f"Notice {n}",
                         summary=f"Quay notice {n}", text=f"Quay notice {n}", byline=None, language="en",
                         published_at=datetime(2026, 11, 24, tzinfo=UTC), body_hash=f"notice-{n}", simhash=None,
                         extraction="ok", quotes=quotes) for n in range(count)]


@pytest.fixture
def startup_objects_frozen() -> Iterator[None]:
    # As the service freezes what its startup made (app.heap): the collector's full passes over
    # the test process's own objects (0.1-0.2 s each) would otherwise be what the probes see.
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("startup_objects_frozen")
async def test_storing_many_quoted_articles_does_not_stall_the_loop(runtime: Runtime, client: httpx.AsyncClient) -> None:
    # Each quote's event carries its article: a poll's events, and its quotes' rows, were all made
    # in one go (0.2 s of the loop for ten articles of a thousand quotes; 1.6 s for 200, what a
    # poll stores with NEWS_INGEST_MAX_ENTRIES_PER_POLL=200).
    drafts = quoted_articles(200)

    async def store() -> None:
        async with runtime.db.transaction() as session:
            await store_drafts(session, None, drafts, runtime.clock())

    idle = await idle_worst(client, "/readyz")
    task = asyncio.create_task(store())
    latencies = await probe_while(task, client, "/readyz")
    await task
    async with runtime.db.reading() as session:
        events = await session.scalar(select(func.count()).select_from(Event))
    assert events == len(drafts) * (1 + MAX_QUOTES_PER_ARTICLE)
    speakers = (await client.get("/v1/speakers", params={"limit": 20})).json()["items"]
    assert sorted((s["name"], s["quote_count"]) for s in speakers) == [
        (f"Quay Warden {n}", len(drafts) * len(range(n, MAX_QUOTES_PER_ARTICLE, 7))) for n in range(7)]
    assert max(latencies, default=0.0) < stall_bound(idle)


async def test_exporting_many_feeds_does_not_stall_the_loop(runtime: Runtime, client: httpx.AsyncClient) -> None:
    now = runtime.clock()
    async with runtime.db.transaction() as session:
        await session.execute(insert(Feed), [
            {"url": f"https://quay{n}.example/feed.xml", "title": f"Quay {n}", "interval_s": 1800, "next_poll_at": now,
             "created_at": now, "updated_at": now, "paused": False, "state": "pending", "consecutive_failures": 0,
             "polls": 0} for n in range(100_000)])
    # Rendered a page of feeds at a time in the API's pool: on a thread it competed for the GIL.
    await runtime.api_cpu.run("warm", len, "")
    idle = await idle_worst(client, "/readyz")
    task = asyncio.create_task(client.get("/v1/feeds.opml"))
    latencies = await probe_while(task, client, "/readyz")
    response = await task
    assert response.status_code == 200
    assert response.content == render_opml([OpmlOutline(f"https://quay{n}.example/feed.xml", f"Quay {n}")
                                            for n in range(100_000)])
    assert max(latencies, default=0.0) < stall_bound(idle)
