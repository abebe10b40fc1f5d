"""Freshness you can see: when each article was first seen, each feed's median lag, and the
publication->stored histogram; the WebSub callbacks as the OpenAPI document describes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx

from app.runtime import Runtime
from app.storage.feeds import create_feed
from app.workers.ingest import IngestWorker
from tests.feedserver import FeedServer


def _rss(items: list[tuple[str, datetime | None]]) -> str:
    parts = []
    for guid, published in items:
        date = f"<pubDate>{format_datetime(published)}</pubDate>" if published else ""
        parts.append(f"<item><title>Notice {guid}</title><link>http://lake.example/{guid}</link><guid>{guid}</guid>"
                     f"{date}<description>The ferry timetable changes on Monday at the harbour.</description></item>")
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Lake notices</title>{"".join(parts)}</channel></rss>'


async def test_articles_keep_first_seen_and_feeds_show_their_median_lag(
        runtime: Runtime, client: httpx.AsyncClient, feed_server: FeedServer) -> None:
    runtime.settings.fetch_articles = False
    now = datetime.now(UTC).replace(microsecond=0)
    feed_server.route("/lake.xml", body=_rss([
        ("a", now - timedelta(minutes=10)), ("b", now - timedelta(minutes=30)), ("c", now - timedelta(minutes=50)),
        ("undated", None),  # dated when seen: says nothing about lag
        ("future", now + timedelta(hours=3)),  # the publisher's clock runs ahead: counts as no lag
    ]), headers={"Content-Type": "application/rss+xml"})
    async with runtime.db.transaction() as session:
        feed = await create_feed(session, url=feed_server.url("/lake.xml"), title=None, interval_override_s=None,
                                 now=runtime.clock())
    before = datetime.now(UTC)
    report, _ = await IngestWorker(runtime).poll_now(feed.id)
    assert report.created == 5
    articles = (await client.get("/v1/articles", params={"feed_id": feed.id})).json()["items"]
    seen = {a["url"].rsplit("/", 1)[1]: datetime.fromisoformat(a["first_seen_at"]) for a in articles}
    assert len(seen) == 5 and all(before <= t <= datetime.now(UTC) for t in seen.values())
    shown = (await client.get(f"/v1/feeds/{feed.id}")).json()
    assert shown["lag_sample"] == 4
    # lags of about 0 (future), 10, 30 and 50 minutes: the median is about 20 minutes
    assert 19 * 60 < shown["median_lag_s"] < 21 * 60
    assert shown["websub"] is None  # the feed advertises no hub
    metrics = (await client.get("/metrics")).text
    assert 'news_ingest_article_store_lag_seconds_count{via="poll"} 4.0' in metrics
    assert 'news_ingest_article_store_lag_seconds_bucket{le="1800.0",via="poll"} 2.0' in metrics  # 0 and 10 min


async def test_websub_callbacks_are_open_documented_and_tagged(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    callback = spec["paths"]["/websub/{token}"]
    assert callback["get"]["operationId"] == "verifyWebSubIntent"
    assert callback["post"]["operationId"] == "receiveWebSubContent"
    for op in callback.values():
        assert op["tags"] == ["websub"] and op["security"] == []
    assert set(callback["post"]["responses"]) >= {"202", "403", "410", "413"}
    assert "text/plain" in callback["get"]["responses"]["200"]["content"]
    # no API key is needed, but a token we never issued finds nothing
    anonymous = {"Authorization": ""}
    answer = await client.get("/websub/unknown-token", params={"hub.mode": "subscribe", "hub.topic": "http://a.example/",
                                                               "hub.challenge": "x", "hub.lease_seconds": "60"},
                              headers=anonymous)
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    answer = await client.post("/websub/unknown-token", content=b"<rss/>", headers=anonymous)
    assert answer.status_code == 410
