"""Webhooks end to end: a real receiver on 127.0.0.1 verifies every delivery with the
independent `standardwebhooks` package; the API; outage, crash, filters, pause.

Retry delays come from settings (tens of milliseconds), so outage and crash scenarios run in
seconds with the production code paths unchanged.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.config import Settings
from app.domain.subscriptions import EventFacts, SubscriptionIndex, SubscriptionSpec, naive_match
from app.main import create_app
from app.pipeline.notify import classify, retry_delay, sign
from app.runtime import Runtime
from app.storage.models import Article, Delivery, DeliveryAttempt, Event, Feed
from app.storage.outbox import article_event, record_events
from app.workers.deliver import DeliveryWorker
from tests.conftest import make_settings, wipe
from tests.webhook_receiver import WebhookReceiver

BIN = Path(sys.executable).with_name("news-ingest")
ROOT = Path(__file__).resolve().parents[1]
FAST = {"allow_http_webhooks": True, "webhook_retry_schedule_s": [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
        "webhook_retry_jitter": 0.1, "webhook_lease_s": 5, "idle_sleep_s": 0.02}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, **FAST)


@pytest.fixture
async def worker(runtime: Runtime) -> AsyncIterator[DeliveryWorker]:
    """A DeliveryWorker running its real loop in the background."""
    w = DeliveryWorker(runtime)
    stop = asyncio.Event()
    task = asyncio.create_task(w.run(stop))
    try:
        yield w
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


async def subscribe(client: httpx.AsyncClient, receiver: WebhookReceiver, name: str,
                    events: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    response = await client.post("/v1/subscriptions", json={
        "url": receiver.url(name), "events": events or ["article.created"], **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    receiver.secret(name, body["secret"])
    return body


async def add_feed(runtime: Runtime, url: str = "http://127.0.0.1:9/feed.xml") -> int:
    now = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        feed = Feed(url=url, next_poll_at=now + timedelta(days=1), created_at=now, updated_at=now)
        session.add(feed)
        await session.flush()
        return feed.id


async def add_articles(runtime: Runtime, n: int, *, feed_id: int | None = None, language: str = "en",
                       title: str = "Harbour news", per_tx: int = 50) -> list[str]:
    """Store articles the way ingestion does: the article and its outbox event in one transaction."""
    event_ids: list[str] = []
    now = datetime.now(UTC)
    for start in range(0, n, per_tx):
        async with runtime.db.transaction() as session:
            articles = []
            for i in range(start, min(n, start + per_tx)):
                url = f"https://news.example/{feed_id}/{language}/{i}-{random.random()}"
                article = Article(feed_id=feed_id, url=url, canonical_url=url, title=f"{title} {i}",
                                  summary="summary", text=f"full text of {title} {i}", language=language,
                                  published_at=now, created_at=now, updated_at=now)
                session.add(article)
                articles.append(article)
            await session.flush()
            event_ids += await record_events(session, [article_event("article.created", a) for a in articles],
                                             now=now)
    return event_ids


async def deliveries_by_state(runtime: Runtime) -> dict[str, int]:
    async with runtime.db.sessions() as session:
        rows = (await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))).all()
    return {s: n for s, n in rows}


async def wait_until(predicate: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- pure parts


def test_sign_is_verified_by_standardwebhooks_with_each_secret() -> None:
    from app.domain.subscriptions import generate_secret

    old, new = generate_secret(), generate_secret(32)
    assert old.startswith("whsec_") and new.startswith("whsec_")
    body = b'{"type":"ping","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    ts = int(time.time())
    signature = sign("msg_1", ts, body, [new, old])
    assert len(signature.split(" ")) == 2 and all(p.startswith("v1,") for p in signature.split(" "))
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(ts), "webhook-signature": signature}
    for secret in (old, new):
        Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature found"):
        Webhook(generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):  # the body signed is the body sent
        Webhook(new).verify(body.replace(b"ping", b"pong"), headers)


@pytest.mark.parametrize(("status", "kind", "expected"), [
    (200, None, "delivered"), (204, None, "delivered"), (299, None, "delivered"),
    (None, "timeout", "retry"), (None, "connect", "retry"), (500, None, "retry"), (503, None, "retry"),
    (408, None, "retry"), (429, None, "retry"), (400, None, "failed"), (401, None, "failed"),
    (404, None, "failed"), (410, None, "failed"), (301, None, "failed"), (302, None, "failed"),
    (None, "blocked_address", "failed"),
])
def test_classify(status: int | None, kind: str | None, expected: str) -> None:
    assert classify(status, kind) == expected


def test_retry_schedule_follows_the_spec_with_jitter_and_retry_after() -> None:
    schedule = [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert [retry_delay(n, schedule, jitter=0.0) for n in range(1, 9)] == [*schedule, None]
    for n in range(1, 8):
        delay = retry_delay(n, schedule, jitter=0.2, rand=lambda: 0.999)
        assert delay is not None and schedule[n - 1] <= delay < schedule[n - 1] * 1.2
    assert retry_delay(1, schedule, retry_after=120, jitter=0.0) == 120  # honoured as a lower bound
    assert retry_delay(1, schedule, retry_after=10**9, jitter=0.0) == 36000  # capped
    assert retry_delay(3, schedule, retry_after=1, jitter=0.0) == 1800


def test_index_matches_like_a_full_scan() -> None:
    rng = random.Random(7)
    types = ["article.created", "article.updated", "quote.created", "feed.failing"]
    specs = []
    for i in range(1, 600):
        flt: dict[str, Any] = {}
        if rng.random() < 0.5:
            flt["feed_ids"] = rng.sample(range(1, 30), rng.randint(1, 3))
        if rng.random() < 0.3:
            flt["languages"] = rng.sample(["en", "de", "fr"], rng.randint(1, 2))
        if rng.random() < 0.2:
            flt["speakers"] = [rng.choice(["Jane Doe", "Ann Lee"])]
        if rng.random() < 0.2:
            flt["q"] = rng.choice(["harbour", "storm", "budget"])
        if rng.random() < 0.3:
            flt["min_confidence"] = rng.choice([0.0, 0.5, 0.9])
        specs.append(SubscriptionSpec.build(i, rng.sample(types, rng.randint(1, 3)), flt))
    index = SubscriptionIndex(specs)
    for _ in range(300):
        facts = EventFacts(rng.choice(types), rng.choice([None, *range(1, 30)]), rng.choice([None, "en", "de", "fr"]),
                           frozenset([rng.choice(["jane doe", "ann lee", "bob"])]),
                           rng.choice(["harbour storm", "budget", "nothing"]), rng.choice([None, 0.3, 0.9, 0.95]))
        assert index.match(facts) == naive_match(specs, facts)


# --------------------------------------------------------------------------- API


async def test_subscription_crud_and_pagination(client: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    created = await subscribe(client, receiver, "crud", ["article.created", "quote.created"],
                              filter={"languages": ["en"], "feed_ids": [1, 2]}, description="team", include_text=True)
    assert created["secret"].startswith("whsec_") and created["filter"] == {"languages": ["en"], "feed_ids": [1, 2],
                                                                          "q": None, "speakers": None,
                                                                          "min_confidence": None}
    got = (await client.get(f"/v1/subscriptions/{created['id']}")).json()
    assert "secret" not in got and got["events"] == ["article.created", "quote.created"] and got["include_text"]
    for i in range(4):
        await subscribe(client, receiver, f"more{i}")
    first = (await client.get("/v1/subscriptions", params={"limit": 3})).json()
    second = (await client.get("/v1/subscriptions", params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next_cursor"] is None
    patched = await client.patch(f"/v1/subscriptions/{created['id']}",
                                 json={"events": ["feed.failing"], "paused": True, "filter": {"q": "harbour"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["paused"] and patched.json()["events"] == ["feed.failing"]
    assert patched.json()["filter"]["q"] == "harbour" and patched.json()["filter"]["languages"] is None
    rotated = (await client.post(f"/v1/subscriptions/{created['id']}/rotate-secret")).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert (await client.delete(f"/v1/subscriptions/{created['id']}")).status_code == 204
    missing = await client.get(f"/v1/subscriptions/{created['id']}")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(("body", "where"), [
    ({"url": "http://127.0.0.1:9/x", "events": ["article.deleted"]}, "events"),
    ({"url": "http://127.0.0.1:9/x", "events": []}, "events"),
    ({"url": "ftp://127.0.0.1/x", "events": ["article.created"]}, "url"),
    ({"url": "http://127.0.0.1:9/x", "events": ["article.created"], "filter": {"colour": "red"}}, "filter"),
    ({"url": "http://127.0.0.1:9/x", "events": ["article.created"], "secret": "mine"}, "secret"),
])
async def test_invalid_subscriptions_are_422_problems(client: httpx.AsyncClient, body: dict[str, Any],
                                                      where: str) -> None:
    response = await client.post("/v1/subscriptions", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert where in response.json()["detail"]


async def test_receiver_urls_are_guarded(runtime: Runtime, keys: dict[str, str], database_url: str) -> None:
    strict = Runtime.from_settings(make_settings(database_url, allowed_networks=[]))  # https only
    try:
        app = create_app(runtime=strict)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                     headers={"Authorization": f"Bearer {keys['admin']}"}) as http:
            plain = await http.post("/v1/subscriptions", json={"url": "http://example.com/hook",
                                                               "events": ["article.created"]})
            assert plain.status_code == 422 and "https" in plain.json()["detail"]
            for url in ("https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://[::1]/hook",
                        "https://169.254.169.254/latest"):
                blocked = await http.post("/v1/subscriptions", json={"url": url, "events": ["article.created"]})
                assert blocked.status_code == 422, url
                assert "blocked address" in blocked.json()["detail"]
            read = await http.post("/v1/subscriptions", json={"url": "https://example.com/h", "events": ["ping"]},
                                   headers={"Authorization": f"Bearer {keys['read']}"})
            assert read.status_code in (403, 422)
    finally:
        await strict.close()


async def test_openapi_describes_every_event_payload(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    hooks = schema["webhooks"]
    assert set(hooks) == {"article.created", "article.updated", "quote.created", "feed.failing", "feed.recovered",
                          "ping", "event"}
    ref = hooks["quote.created"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/QuoteCreatedEvent")
    assert hooks["quote.created"]["post"]["operationId"] == "onQuoteCreated"
    assert hooks["feed.recovered"]["post"]["operationId"] == "onFeedRecovered"
    assert all(hook["post"]["security"] == [] for hook in hooks.values())  # signed, not keyed
    # One receiver URL gets every event it subscribed to: WebhookEvent parses any, by `type`.
    any_event = hooks["event"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    union = schema["components"]["schemas"][any_event.rsplit("/", 1)[1]]
    assert union["discriminator"]["propertyName"] == "type"
    assert union["discriminator"]["mapping"]["quote.created"].endswith("/QuoteCreatedEvent")
    assert len(union["oneOf"]) == 6
    ops = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {"createSubscription", "listSubscriptions", "getSubscription", "updateSubscription",
            "deleteSubscription", "rotateSubscriptionSecret", "testSubscription", "listSubscriptionDeliveries",
            "redeliverDelivery"} <= ops


# --------------------------------------------------------------------------- delivery


async def test_ping_rotation_and_delivery_log(client: httpx.AsyncClient, receiver: WebhookReceiver,
                                              runtime: Runtime) -> None:
    sub = await subscribe(client, receiver, "ping")
    rotated = (await client.post(f"/v1/subscriptions/{sub['id']}/rotate-secret")).json()
    receiver.secret("ping", sub["secret"], rotated["secret"])  # both must verify during the overlap
    queued = await client.post(f"/v1/subscriptions/{sub['id']}/test")
    assert queued.status_code == 202 and queued.json()["state"] == "pending"
    await DeliveryWorker(runtime).run_until_idle()
    [got] = receiver.of("ping")
    assert got.type == "ping" and got.msg_id == queued.json()["event_id"]
    assert len(got.signature.split(" ")) == 2 and not receiver.rejected
    log = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries")).json()["items"]
    assert log[0]["state"] == "delivered" and log[0]["attempt_log"][0]["status_code"] == 204
    assert log[0]["attempt_log"][0]["latency_ms"] is not None


async def test_retries_then_delivers_with_the_same_id_and_4xx_is_not_retried(
        client: httpx.AsyncClient, receiver: WebhookReceiver, runtime: Runtime, worker: DeliveryWorker) -> None:
    flaky = await subscribe(client, receiver, "flaky")
    await subscribe(client, receiver, "refuses")
    receiver.respond("flaky", 500, (429, {"Retry-After": "0"}), 503)
    receiver.respond("refuses", 400)
    [event_id] = await add_articles(runtime, 1)
    await receiver.wait_for(lambda: receiver.ids("flaky") == [event_id])
    await wait_until(async_eq(deliveries_by_state, runtime, {"delivered": 1, "failed": 1}))
    log = (await client.get(f"/v1/subscriptions/{flaky['id']}/deliveries")).json()["items"]
    assert [a["status_code"] for a in log[0]["attempt_log"]] == [500, 429, 503, 204]
    assert log[0]["event_id"] == event_id and log[0]["state"] == "delivered"
    assert receiver.ids("refuses") == []
    assert runtime.metrics.deliveries.labels("retry")._value.get() == 3
    assert runtime.metrics.deliveries.labels("failed")._value.get() == 1


def async_eq(fn: Any, arg: Any, expected: Any) -> Any:
    async def check() -> bool:
        return bool(await fn(arg) == expected)
    return check


async def test_redirects_are_not_followed(client: httpx.AsyncClient, receiver: WebhookReceiver,
                                         runtime: Runtime) -> None:
    sub = await subscribe(client, receiver, "moved")
    receiver.respond("moved", (302, {"Location": receiver.url("elsewhere")}))
    await add_articles(runtime, 1)
    await DeliveryWorker(runtime).run_until_idle()
    [delivery] = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries")).json()["items"]
    assert delivery["state"] == "failed" and "redirect not followed" in delivery["last_error"]
    assert receiver.ids() == []


async def test_dead_after_the_schedule_then_redeliver_and_disable(
        client: httpx.AsyncClient, receiver: WebhookReceiver, runtime: Runtime) -> None:
    runtime.settings.webhook_retry_schedule_s = [0.0, 0.0]
    sub = await subscribe(client, receiver, "down")
    receiver.respond("down", 500, 500, 500)
    await add_articles(runtime, 1)
    await DeliveryWorker(runtime).run_until_idle()
    [delivery] = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries")).json()["items"]
    assert delivery["state"] == "dead" and delivery["attempts"] == 3 and len(delivery["attempt_log"]) == 3
    assert (await client.post(f"/v1/deliveries/{delivery['id']}/redeliver")).status_code == 202
    await DeliveryWorker(runtime).run_until_idle()
    assert receiver.ids("down") == [delivery["event_id"]]
    # Failing for longer than webhook_disable_after_s disables the subscription, with a reason.
    runtime.settings.webhook_disable_after_s = 0
    receiver.respond("down", *[500] * 6)
    await add_articles(runtime, 2)
    await DeliveryWorker(runtime).run_until_idle()
    shown = (await client.get(f"/v1/subscriptions/{sub['id']}")).json()
    assert shown["disabled_reason"] and "500" in shown["disabled_reason"]
    # Resuming re-enables it; what waited is delivered.
    runtime.settings.webhook_disable_after_s = 3600
    receiver.scripts["down"].clear()
    assert (await client.patch(f"/v1/subscriptions/{sub['id']}", json={"paused": False})).json()[
        "disabled_reason"] is None
    await DeliveryWorker(runtime).run_until_idle()
    assert len(set(receiver.ids("down"))) == 3


async def test_filters_reach_only_matching_subscriptions(client: httpx.AsyncClient, receiver: WebhookReceiver,
                                                         runtime: Runtime) -> None:
    feed_a, feed_b = await add_feed(runtime, "http://127.0.0.1:9/a"), await add_feed(runtime, "http://127.0.0.1:9/b")
    await subscribe(client, receiver, "all")
    await subscribe(client, receiver, "feed_a", filter={"feed_ids": [feed_a]})
    await subscribe(client, receiver, "german", filter={"languages": ["de"]})
    await subscribe(client, receiver, "storms", filter={"q": "storm"}, include_text=True)
    await subscribe(client, receiver, "updates", ["article.updated"])
    a_en = await add_articles(runtime, 3, feed_id=feed_a, language="en")
    b_de = await add_articles(runtime, 2, feed_id=feed_b, language="de", title="Storm warning")
    await DeliveryWorker(runtime).run_until_idle()
    assert sorted(receiver.ids("all")) == sorted(a_en + b_de)
    assert sorted(receiver.ids("feed_a")) == sorted(a_en)
    assert sorted(receiver.ids("german")) == sorted(b_de)
    assert sorted(receiver.ids("storms")) == sorted(b_de)
    assert all(r.data["article"]["text"].startswith("full text") for r in receiver.of("storms"))
    assert all("text" not in r.data["article"] for r in receiver.of("all"))
    assert receiver.ids("updates") == [] and not receiver.rejected


async def test_speaker_filters_on_quotes_and_on_articles_that_quote_them(
        client: httpx.AsyncClient, receiver: WebhookReceiver, runtime: Runtime) -> None:
    """Through the real storage path (store_drafts writes article, quotes and events together)."""
    from app.domain.ingest import ArticleDraft
    from app.domain.quotes import Quote as QuoteDraft
    from app.storage.ingest import store_drafts

    await subscribe(client, receiver, "jane_quotes", ["quote.created"], filter={"speakers": ["Dr. Jane Doe"]})
    await subscribe(client, receiver, "jane_articles", ["article.created"], filter={"speakers": ["jane doe"]})
    await subscribe(client, receiver, "ann_articles", ["article.created"], filter={"speakers": ["Ann Lee"]})
    text = 'The harbour will reopen, said Jane Doe. "We are ready," she said.'
    quote = QuoteDraft(text="We are ready,", start=text.index("We"), end=text.index("We") + 13, kind="direct",
                       speaker="Jane Doe", speaker_title=None, speaker_type="person", verb="said", channel=None,
                       confidence=0.9)
    now = datetime.now(UTC)
    draft = ArticleDraft(guid="g1", url="https://news.example/jane", canonical_url="https://news.example/jane",
                         source="news.example", title="Harbour", summary=None, text=text, byline=None,
                         language="en", published_at=now, body_hash="h1", simhash=None, extraction="ok",
                         quotes=(quote,))
    async with runtime.db.transaction() as session:
        stored = await store_drafts(session, None, [draft], now)
    assert len(stored.created) == 1
    await DeliveryWorker(runtime).run_until_idle()
    [q] = receiver.of("jane_quotes")
    assert q.type == "quote.created" and q.data["quote"]["speaker"] == "Jane Doe"
    assert [r.type for r in receiver.of("jane_articles")] == ["article.created"]
    assert receiver.of("ann_articles") == [] and not receiver.rejected


async def test_a_delivery_whose_lease_ran_out_in_the_queue_is_handed_back_unsent(
        client: httpx.AsyncClient, receiver: WebhookReceiver, runtime: Runtime) -> None:
    await subscribe(client, receiver, "late")
    await add_articles(runtime, 1)
    worker = DeliveryWorker(runtime)
    await worker.dispatch()
    [job] = await worker.claim(10)
    await worker._send(job, deadline=time.monotonic() - 1)
    await worker.flush()
    assert receiver.ids() == [] and await deliveries_by_state(runtime) == {"pending": 1}
    await worker.run_until_idle()  # claimable again at once: no attempt was counted
    assert len(receiver.ids("late")) == 1
    assert runtime.metrics.deliveries.labels("deferred")._value.get() == 1


async def test_paused_subscription_gets_nothing_until_resumed_then_everything(
        client: httpx.AsyncClient, receiver: WebhookReceiver, runtime: Runtime) -> None:
    sub = await subscribe(client, receiver, "paused")
    await client.patch(f"/v1/subscriptions/{sub['id']}", json={"paused": True})
    await subscribe(client, receiver, "live")
    ids = await add_articles(runtime, 20)
    # Until nothing is due: every event fanned out, every claimable delivery sent.
    await DeliveryWorker(runtime).run_until_idle()
    assert sorted(receiver.ids("live")) == sorted(ids) and receiver.ids("paused") == []
    kept = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries", params={"limit": 50})).json()["items"]
    assert len(kept) == 20 and {d["state"] for d in kept} == {"pending"} and {d["attempts"] for d in kept} == {0}
    await client.patch(f"/v1/subscriptions/{sub['id']}", json={"paused": False})
    await DeliveryWorker(runtime).run_until_idle()
    assert sorted(receiver.ids("paused")) == sorted(ids)


async def test_rolled_back_transaction_delivers_nothing(client: httpx.AsyncClient, receiver: WebhookReceiver,
                                                        runtime: Runtime) -> None:
    await subscribe(client, receiver, "rb")
    with pytest.raises(RuntimeError):
        async with runtime.db.transaction() as session:
            await record_events(session, [("feed.recovered", {"feed": {"id": 1, "url": "x"}})], now=datetime.now(UTC))
            await session.flush()
            raise RuntimeError("crash before commit")
    kept = await add_articles(runtime, 1)
    await DeliveryWorker(runtime).run_until_idle()
    assert receiver.ids("rb") == kept


async def test_outage_loses_nothing(client: httpx.AsyncClient, receiver: WebhookReceiver, runtime: Runtime,
                                   worker: DeliveryWorker) -> None:
    """Receiver down while 500 articles' events arrive; it comes back; every event arrives."""
    sub = await subscribe(client, receiver, "outage")
    receiver.down()
    ids = await add_articles(runtime, 500)
    await wait_until(async_eq(lambda rt: deliveries_pending_attempted(rt), runtime, True), timeout_s=20)
    receiver.up()
    await receiver.wait_for(lambda: len(set(receiver.ids("outage"))) == 500, timeout_s=30)
    assert set(receiver.ids("outage")) == set(ids)
    assert {i for _, i in receiver.duplicates()} <= set(ids) and not receiver.rejected
    await wait_until(async_eq(deliveries_by_state, runtime, {"delivered": 500}))
    failed = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries", params={"limit": 1})).json()["items"]
    assert failed[0]["attempt_log"][0]["status_code"] is None and failed[0]["attempt_log"][0]["error"]


async def deliveries_pending_attempted(runtime: Runtime) -> bool:
    async with runtime.db.sessions() as session:
        n = (await session.execute(select(func.count()).where(Delivery.state == "pending",
                                                              Delivery.attempts >= 1))).scalar_one()
    return n == 500


def _worker_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": settings.database_url, "NEWS_INGEST_ALLOWED_NETWORKS": "127.0.0.0/8",
                "NEWS_INGEST_EXTRACT_PROCESSES": "0", "NEWS_INGEST_IDLE_SLEEP_S": "0.05",
                "NEWS_INGEST_WEBHOOK_LEASE_S": "2", "NEWS_INGEST_WEBHOOK_RETRY_SCHEDULE_S": "0.05,0.1,0.2,0.4,0.8",
                "NEWS_INGEST_WEBHOOK_CONCURRENCY": "16", "NEWS_INGEST_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT)})
    return env


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BIN), "worker"], env=env, cwd=ROOT)


async def test_worker_killed_mid_batch_loses_nothing(client: httpx.AsyncClient, runtime: Runtime,
                                                     settings: Settings) -> None:
    slow = WebhookReceiver(delay_s=0.02).up()
    try:
        await subscribe(client, slow, "crash")
        ids = await add_articles(runtime, 300)
        env = _worker_env(settings)
        first = _start_worker(env)
        try:
            await wait_until(lambda: len(slow.ids()) >= 30, timeout_s=30)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        before = len(set(slow.ids()))
        assert before < 300, "the worker finished before it was killed; make the receiver slower"
        second = _start_worker(env)
        try:
            await wait_until(lambda: len(set(slow.ids())) == 300, timeout_s=40)
            await wait_until(async_eq(deliveries_by_state, runtime, {"delivered": 300}), timeout_s=10)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
        assert set(slow.ids()) == set(ids) and not slow.rejected
        assert {i for _, i in slow.duplicates()} <= set(ids)
    finally:
        slow.down()


async def test_two_workers_never_send_one_delivery_twice_at_once(client: httpx.AsyncClient,
                                                                 receiver: WebhookReceiver, runtime: Runtime,
                                                                 settings: Settings) -> None:
    for i in range(3):
        await subscribe(client, receiver, f"par{i}")
    ids = await add_articles(runtime, 100)
    other = Runtime.from_settings(settings)
    try:
        stops = [asyncio.Event(), asyncio.Event()]
        tasks = [asyncio.create_task(DeliveryWorker(rt).run(stop)) for rt, stop in zip((runtime, other), stops,
                                                                                       strict=True)]
        await receiver.wait_for(lambda: len(receiver.ids()) >= 300, timeout_s=30)
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks)  # both loops ended: whatever they sent has arrived
    finally:
        await other.close()
    assert len(receiver.ids()) == 300 and not receiver.duplicates()  # no lease expired: no resend at all
    assert set(receiver.ids()) == set(ids)
    async with runtime.db.sessions() as session:
        attempts = (await session.execute(select(Delivery.attempts, func.count()).group_by(Delivery.attempts))).all()
    assert [tuple(row) for row in attempts] == [(1, 300)]  # each claimed and sent by one worker, once


@pytest.fixture(autouse=True)
async def _clean(runtime: Runtime) -> AsyncIterator[None]:
    yield
    await wipe(runtime)


async def test_old_events_are_pruned_with_their_log_unless_a_delivery_waits(
        client: httpx.AsyncClient, receiver: WebhookReceiver, runtime: Runtime) -> None:
    sub = await subscribe(client, receiver, "kept")
    ids = await add_articles(runtime, 3)
    worker = DeliveryWorker(runtime)
    await worker.run_until_idle()
    await receiver.wait_for(lambda: sorted(receiver.ids("kept")) == sorted(ids))
    assert await worker.prune() == 0  # nothing is old yet
    old = runtime.clock() - timedelta(seconds=runtime.settings.event_retention_s + 60)
    async with runtime.db.transaction() as session:
        await session.execute(update(Event).where(Event.id.in_(ids[:2])).values(dispatched_at=old))
        # the second old event still has a retry due: it must stay
        await session.execute(update(Delivery).where(Delivery.event_id == ids[1])
                              .values(state="pending", next_attempt_at=runtime.clock() + timedelta(hours=5)))
        pruned_delivery = await session.scalar(select(Delivery.id).where(Delivery.event_id == ids[0]))
    assert await worker.prune() == 1
    async with runtime.db.sessions() as session:
        left = set((await session.execute(select(Event.id))).scalars())
        attempts = await session.scalar(select(func.count()).select_from(DeliveryAttempt)
                                        .where(DeliveryAttempt.delivery_id == pruned_delivery))
    assert left == {ids[1], ids[2]} and attempts == 0
    log = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries")).json()["items"]
    assert sorted(d["event_id"] for d in log) == sorted(ids[1:])
