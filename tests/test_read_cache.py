"""Conditional GET and the response cache of the read endpoints: a client that polls with
If-None-Match gets 304 while nothing was committed, and every read after a write (through the
API, by ingestion, from another connection or another process) sees the write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from app.api.read_cache import ResponseCache, _Entry
from app.main import create_app
from app.runtime import Runtime
from app.storage import feeds as feed_store
from tests.conftest import make_settings
from tests.feedserver import FeedServer
from tests.processes import clean_env, free_port, process_database_url, stop, wait_ready
from tests.test_quotes_api import ingest_team_site

BIN = Path(sys.executable).with_name("news-ingest")


def cache_count(metrics: str, result: str) -> float:
    line = next(x for x in metrics.splitlines() if x.startswith(f'news_ingest_read_cache_total{{result="{result}"}}'))
    return float(line.split()[-1])


async def test_etag_304_and_a_new_answer_after_a_write(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/feeds")
    assert first.status_code == 200 and first.json()["items"] == []
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')

    again = await client.get("/v1/feeds", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    weak = await client.get("/v1/feeds", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    # Another query is another answer: its own tag.
    other = await client.get("/v1/feeds", params={"limit": 5}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag

    created = await client.post("/v1/feeds", json={"url": "http://127.0.0.1:9/feed.xml", "title": "Roe weekly"})
    assert created.status_code == 201, created.text
    after = await client.get("/v1/feeds", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert [f["title"] for f in after.json()["items"]] == ["Roe weekly"]


async def test_cached_answer_is_the_apps_answer_and_needs_a_valid_key(client: httpx.AsyncClient, runtime: Runtime,
                                                                      keys: dict[str, str]) -> None:
    await client.post("/v1/feeds", json={"url": "http://127.0.0.1:9/a.xml", "title": "Diallo daily"})
    miss = await client.get("/v1/feeds")
    hit = await client.get("/v1/feeds")
    assert hit.status_code == 200 and hit.content == miss.content
    assert dict(hit.headers) == dict(miss.headers)
    metrics = (await client.get("/metrics")).text
    assert cache_count(metrics, "hit") >= 1
    assert 'route="/v1/feeds",status="200"' in metrics  # hits are counted under their route

    # The cache never answers for the app's key check.
    assert (await client.get("/v1/feeds", headers={"Authorization": ""})).status_code == 401
    assert (await client.get("/v1/feeds", headers={"Authorization": "Bearer nope"})).status_code == 401
    read = await client.get("/v1/feeds", headers={"Authorization": f"Bearer {keys['read']}"})
    assert read.status_code == 200 and read.json() == miss.json()
    missing = await client.get("/v1/articles/999999")
    assert missing.status_code == 404 and "etag" not in missing.headers


async def test_ingested_articles_are_read_at_once(client: httpx.AsyncClient, feed_server: FeedServer) -> None:
    before = await client.get("/v1/articles")
    quotes_before = await client.get("/v1/quotes")
    assert before.json()["items"] == [] and quotes_before.json()["items"] == []
    await client.get("/v1/articles")  # now cached

    await ingest_team_site(client, feed_server)  # a poll that stores three articles
    after = await client.get("/v1/articles", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and len(after.json()["items"]) == 3
    quotes_after = await client.get("/v1/quotes", headers={"If-None-Match": quotes_before.headers["etag"]})
    assert quotes_after.status_code == 200 and quotes_after.json()["items"]


async def test_a_commit_from_another_connection_is_seen(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """A worker or the CLI writes through an engine of its own: the next read still sees it."""
    first = await client.get("/v1/feeds")
    assert first.json()["items"] == []
    other = Runtime.from_settings(make_settings(runtime.settings.database_url))
    try:
        async with other.db.transaction() as session:
            await feed_store.create_feed(session, url="http://127.0.0.1:9/b.xml", title="Roe monthly",
                                         interval_override_s=None, now=other.clock())
    finally:
        await other.close()
    after = await client.get("/v1/feeds", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and [f["title"] for f in after.json()["items"]] == ["Roe monthly"]


async def test_cache_off_keeps_etags(runtime: Runtime, keys: dict[str, str]) -> None:
    uncached = Runtime.from_settings(make_settings(runtime.settings.database_url, read_cache_mb=0))
    app = create_app(runtime=uncached)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {keys['read']}"}) as http:
            first = await http.get("/v1/speakers")
            assert (await http.get("/v1/speakers")).status_code == 200
            etag = first.headers["etag"]
            assert (await http.get("/v1/speakers", headers={"If-None-Match": etag})).status_code == 304
            metrics = (await http.get("/metrics")).text
            assert cache_count(metrics, "hit") == 0 and cache_count(metrics, "miss") == 2
    finally:
        await uncached.close()


def test_cache_is_bounded_and_drops_an_old_generation() -> None:
    cache = ResponseCache(max_bytes=4000)
    for n in range(20):  # as requests do: a look-up (a miss), then the answer kept
        assert cache.get("g1", f"t{n}") is None
        cache.put("g1", f"t{n}", _Entry([], b"x" * 500, None))
    kept = [n for n in range(20) if cache.get("g1", f"t{n}") is not None]
    assert 0 < len(kept) < 20 and kept == list(range(20 - len(kept), 20))  # the newest kept
    assert cache.get("g2", "t19") is None  # a commit since: nothing older is served
    cache.put("g1", "t1", _Entry([], b"y", None))  # an answer of the old generation arriving late
    assert cache.get("g2", "t1") is None


def test_a_write_from_another_process_is_seen_by_the_api_process(database_url: str, tmp_path: Path) -> None:
    """The API in one process, a CLI import in another: the API's next read has the new feed."""
    url = process_database_url(database_url, tmp_path)
    env = clean_env(NEWS_INGEST_DATABASE_URL=url, NEWS_INGEST_ALLOWED_NETWORKS="127.0.0.0/8")
    subprocess.run([str(BIN), "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    key = subprocess.run([str(BIN), "keys", "create", "--scope", "read", "--name", "poller"], env=env,
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    opml = tmp_path / "feeds.opml"
    title = f"Omar Diallo notes {free_port()}"  # unique: the PostgreSQL test database is shared by tests
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><head/><body>'
                    f'<outline type="rss" text="{title}" xmlUrl="http://127.0.0.1:9/{free_port()}.xml"/>'
                    "</body></opml>")
    port = free_port()
    server = subprocess.Popen([str(BIN), "api", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
            first = http.get("/v1/feeds", params={"limit": 200})
            assert title not in first.text
            assert http.get("/v1/feeds", params={"limit": 200},
                            headers={"If-None-Match": first.headers["etag"]}).status_code == 304
            subprocess.run([str(BIN), "feeds", "import-opml", str(opml)], env=env, cwd=tmp_path, check=True,
                           capture_output=True)
            after = http.get("/v1/feeds", params={"limit": 200}, headers={"If-None-Match": first.headers["etag"]})
            assert after.status_code == 200 and title in after.text
    finally:
        stop(server, group=True)
