"""`filter.min_confidence` on webhook subscriptions: an article is ingested through the real
pipeline (feed, page, quote extraction) and a real receiver verifies every delivery with the
`standardwebhooks` package; the filter round-trips through the API and the OpenAPI document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.domain.errors import InvalidRequestError
from app.domain.subscriptions import EventFacts, SubscriptionIndex, SubscriptionSpec, validate_filter
from app.runtime import Runtime
from app.workers.deliver import DeliveryWorker
from tests.conftest import make_settings
from tests.feedserver import FeedServer
from tests.test_webhooks import FAST, subscribe
from tests.webhook_receiver import WebhookReceiver

# Written for this test: the first quote names its speaker in the same sentence (the extractor
# is sure), the second has no verb and follows a sentence naming someone else (it guesses).
PAGE = """<html><head><title>Ferry timetable changes on Monday</title></head><body><article>
<h1>Ferry timetable changes on Monday</h1>
<p>\u201cEvery crossing will leave on the hour,\u201d said Marta Kolberg, who runs the port authority.</p>
<p>Tomas Rienzi, a fisherman, listened from the pier. \u201cNobody asked us about the night boats.\u201d</p>
</article></body></html>"""
BAR = 0.9


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, **FAST)


@pytest.fixture
async def delivering(runtime: Runtime) -> AsyncIterator[None]:
    """A DeliveryWorker running its real loop in the background."""
    stop = asyncio.Event()
    task = asyncio.create_task(DeliveryWorker(runtime).run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


def serve_article(server: FeedServer) -> str:
    item = (f"<item><title>Ferry timetable changes on Monday</title><link>{server.url('/ferry')}</link>"
            "<guid>ferry-timetable</guid></item>")
    server.route("/feed.xml", body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>Island Post</title>'
                                   f"{item}</channel></rss>", headers={"Content-Type": "application/rss+xml"})
    server.route("/ferry", body=PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
    return server.url("/feed.xml")


def quotes_of(receiver: WebhookReceiver, name: str) -> list[dict[str, Any]]:
    return [r.data["quote"] for r in receiver.of(name) if r.type == "quote.created"]


async def test_only_quotes_at_or_above_min_confidence_reach_the_filtered_subscription(
        client: httpx.AsyncClient, receiver: WebhookReceiver, feed_server: FeedServer, delivering: None) -> None:
    sure = await subscribe(client, receiver, "sure", ["article.created", "quote.created"],
                           filter={"min_confidence": BAR})
    await subscribe(client, receiver, "every", ["quote.created"])
    feed = (await client.post("/v1/feeds", json={"url": serve_article(feed_server)})).json()
    assert (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()["articles_created"] == 1

    stored = (await client.get("/v1/quotes")).json()["items"]
    high = {q["text"] for q in stored if q["confidence"] >= BAR}
    low = {q["text"] for q in stored if q["confidence"] < BAR}
    assert len(high) == 1 and len(low) == 1, f"the article should give one sure and one guessed quote: {stored}"

    # The filtered subscription's deliveries are inserted in the same transaction as the
    # unfiltered one's, so once `every` has both quotes, `sure` has every delivery it will get.
    await receiver.wait_for(lambda: len(quotes_of(receiver, "every")) == 2
                            and len(receiver.of("sure")) >= 2)
    assert {q["text"] for q in quotes_of(receiver, "every")} == high | low
    log = (await client.get(f"/v1/subscriptions/{sure['id']}/deliveries")).json()["items"]
    # article events are not filtered by min_confidence, although the article has a guessed quote
    assert sorted(d["event_type"] for d in log) == ["article.created", "quote.created"]
    assert {q["text"] for q in quotes_of(receiver, "sure")} == high and not receiver.rejected


async def test_min_confidence_round_trips_and_is_documented(client: httpx.AsyncClient,
                                                            receiver: WebhookReceiver) -> None:
    created = await subscribe(client, receiver, "rt", ["quote.created"], filter={"min_confidence": 0.85})
    assert created["filter"]["min_confidence"] == 0.85
    assert (await client.get(f"/v1/subscriptions/{created['id']}")).json()["filter"]["min_confidence"] == 0.85
    listed = (await client.get("/v1/subscriptions")).json()["items"]
    assert [s["filter"]["min_confidence"] for s in listed] == [0.85]
    zero = await client.patch(f"/v1/subscriptions/{created['id']}", json={"filter": {"min_confidence": 0}})
    assert zero.status_code == 200 and zero.json()["filter"]["min_confidence"] == 0  # 0 is kept, not dropped
    cleared = await client.patch(f"/v1/subscriptions/{created['id']}", json={"filter": {"speakers": ["Ann Lee"]}})
    assert cleared.json()["filter"]["min_confidence"] is None  # a new filter replaces the whole filter

    schema = (await client.get("/openapi.json")).json()
    prop = schema["components"]["schemas"]["SubscriptionFilter"]["properties"]["min_confidence"]
    number = next(s for s in prop["anyOf"] if s.get("type") == "number")
    assert (number["minimum"], number["maximum"]) == (0, 1)
    assert "quote.created" in prop["description"] and "Article events" in prop["description"]


@pytest.mark.parametrize("value", [1.5, -0.1, "0.9", "high", True, [0.9]])
async def test_min_confidence_outside_0_to_1_or_not_a_number_is_a_422_problem(
        client: httpx.AsyncClient, receiver: WebhookReceiver, value: object) -> None:
    body = {"url": receiver.url("bad"), "events": ["quote.created"], "filter": {"min_confidence": value}}
    created = await client.post("/v1/subscriptions", json=body)
    assert created.status_code == 422 and created.headers["content-type"].startswith("application/problem+json")
    assert "min_confidence" in created.json()["detail"]
    sub = await subscribe(client, receiver, "ok", ["quote.created"])
    patched = await client.patch(f"/v1/subscriptions/{sub['id']}", json={"filter": {"min_confidence": value}})
    assert patched.status_code == 422 and "min_confidence" in patched.json()["detail"]
    assert (await client.get(f"/v1/subscriptions/{sub['id']}")).json()["filter"]["min_confidence"] is None


@pytest.mark.parametrize(("event_type", "confidence", "bar", "delivered"), [
    ("quote.created", 0.95, 0.9, True),
    ("quote.created", 0.9, 0.9, True),  # at least: the bar itself passes, as in GET /v1/quotes
    ("quote.created", 0.67, 0.9, False),
    ("quote.created", None, 0.9, False),  # no confidence cannot show that it meets the bar
    ("quote.created", 0.0, 0.0, True),  # 0 is a bar, not "no filter"
    ("article.created", None, 0.9, True),  # article events are not filtered by it
    ("article.updated", None, 0.9, True),
    ("feed.failing", None, 0.9, True),
])
def test_min_confidence_applies_to_quote_events_only(event_type: str, confidence: float | None, bar: float,
                                                     delivered: bool) -> None:
    spec = SubscriptionSpec.build(1, [event_type], {"min_confidence": bar, "speakers": ["Ann Lee"]}
                                  if event_type.startswith("article.") else {"min_confidence": bar})
    facts = EventFacts(event_type, None, None, frozenset({"ann lee"}), "", confidence)
    assert SubscriptionIndex([spec]).match(facts) == ([1] if delivered else [])


@pytest.mark.parametrize("bar", [1.01, -1, "0.5", True])
def test_filters_are_checked_below_the_api_too(bar: object) -> None:
    validate_filter({"min_confidence": 1})
    with pytest.raises(InvalidRequestError, match="min_confidence"):
        validate_filter({"min_confidence": bar})
