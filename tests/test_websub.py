"""WebSub end to end against a real hub (Flask-WebSub, tests/websub_hub.py) and the service on a
real port: discovery, subscription with verification of intent, signed pushes stored through the
polling pipeline, forged requests refused, lease renewal, unsubscription, fallback to polling."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import ColumnElement, Select, func, select, update

from app.storage import websub as store
from app.storage.feeds import claim_feed
from app.storage.models import Article, Feed, Quote, WebSubPush, WebSubSubscription
from app.workers.deliver import DeliveryWorker
from app.workers.ingest import IngestWorker
from app.workers.websub import WebSubWorker
from tests.feedserver import FeedServer
from tests.webhook_receiver import WebhookReceiver
from tests.websub_hub import LiveHub
from tests.websub_live import Publisher, Service, eventually, feed_row, live_service, subscription

BRIDGE = ("The new footbridge over the Ostra canal opened on Saturday after two years of work. "
          "\u201cWe are proud of this bridge and of everyone who built it,\u201d said Councillor Mara Lindqvist. "
          "Cyclists will share the deck with walkers during the first month while the ramps are finished.")
FERRY = ("The harbour ferry will run every twenty minutes from Monday, the operator announced. Evening "
         "crossings are extended until midnight for the summer, and the first boat leaves at six.")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    h = LiveHub(tmp_path).start()
    try:
        yield h
    finally:
        h.stop()


async def add_feed(svc: Service, url: str) -> int:
    response = await svc.http.post("/v1/feeds", json={"url": url})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def subscribed(svc: Service, publisher: Publisher, hub: LiveHub) -> tuple[int, WebSubSubscription]:
    """Register the publisher's feed, poll it once (discovery) and let the hub verify us."""
    feed_id = await add_feed(svc, publisher.topic)
    await IngestWorker(svc.runtime).poll_now(feed_id)
    await WebSubWorker(svc.runtime).run_once()
    sub = await subscription(svc.runtime, feed_id)
    assert sub is not None and sub.state == "active", sub and (sub.state, sub.last_error)
    assert hub.callbacks(publisher.topic) == [(f"{svc.url}/websub/{sub.token}", sub.secret)]
    return feed_id, sub


async def count(svc: Service, model: type, *where: ColumnElement[bool]) -> int:
    stmt: Select[int] = select(func.count()).select_from(model).where(*where)
    async with svc.runtime.db.sessions() as session:
        return int(await session.scalar(stmt) or 0)


def metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{line_start} not in /metrics")


async def test_discovery_subscription_and_a_signed_push_stored_end_to_end(
        database_url: str, feed_server: FeedServer, hub: LiveHub) -> None:
    receiver = WebhookReceiver().up()
    try:
        async with live_service(database_url, allow_http_webhooks=True) as svc:
            publisher = Publisher(feed_server, hub.url)
            publisher.add("Ferry runs every twenty minutes", FERRY, published=datetime.now(UTC) - timedelta(hours=2))
            feed_id = await add_feed(svc, publisher.topic)
            report, feed = await IngestWorker(svc.runtime).poll_now(feed_id)
            assert report.created == 1
            # §4: discovered from the Link headers; a subscription is wanted, nothing sent yet
            assert (feed.websub_hub, feed.websub_topic) == (hub.url, publisher.topic)
            assert hub.requests == []
            pending = (await svc.http.get(f"/v1/feeds/{feed_id}")).json()["websub"]
            assert pending["state"] == "subscribing" and pending["hub"] == hub.url

            await WebSubWorker(svc.runtime).run_once()
            sub = await subscription(svc.runtime, feed_id)
            assert sub is not None and sub.state == "active"
            [(mode, topic, callback)] = hub.requests
            assert (mode, topic, callback) == ("subscribe", publisher.topic, f"{svc.url}/websub/{sub.token}")
            assert hub.callbacks(publisher.topic) == [(callback, sub.secret)]  # always with a hub.secret
            assert sub.expires_at is not None and sub.expires_at > datetime.now(UTC) + timedelta(days=9)
            assert (await feed_row(svc.runtime, feed_id)).push_until == sub.expires_at

            hook = (await svc.http.post("/v1/subscriptions", json={
                "url": receiver.url("news"), "events": ["article.created", "quote.created"]})).json()
            receiver.secret("news", hook["secret"])

            published = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
            publisher.add("Footbridge over the canal opens", BRIDGE, published=published)
            await asyncio.to_thread(hub.publish, publisher.topic)
            # the hub got its 2xx once the body was stored; the articles come from the worker
            assert await count(svc, WebSubPush) == 1
            assert await count(svc, Article) == 1
            await WebSubWorker(svc.runtime).run_once()
            assert await count(svc, WebSubPush) == 0
            async with svc.runtime.db.sessions() as session:
                bridge = (await session.execute(select(Article).where(Article.title.contains("Footbridge")))).scalar_one()
                speakers = set((await session.execute(select(Quote.speaker_name)
                                                      .where(Quote.article_id == bridge.id))).scalars())
            assert bridge.extraction == "ok" and "ramps are finished" in (bridge.text or "")  # the page was fetched
            assert "Mara Lindqvist" in speakers
            assert bridge.published_at == published and bridge.first_seen_at is not None
            assert bridge.first_seen_at <= bridge.created_at
            found = (await svc.http.get("/v1/articles", params={"q": "footbridge"})).json()["items"]
            assert [a["id"] for a in found] == [bridge.id] and found[0]["first_seen_at"] is not None

            await DeliveryWorker(svc.runtime).run_until_idle()
            await receiver.wait_for(lambda: any(r.type == "article.created" and r.data["article"]["id"] == bridge.id
                                                for r in receiver.of("news")))
            # the same document pushed again stores nothing twice
            await asyncio.to_thread(hub.publish, publisher.topic)
            await WebSubWorker(svc.runtime).run_once()
            assert await count(svc, Article) == 2

            shown = (await svc.http.get(f"/v1/feeds/{feed_id}")).json()
            assert shown["websub"]["state"] == "active" and shown["websub"]["pushes"] == 2
            assert shown["websub"]["last_push_at"] is not None and shown["websub"]["lease_expires_at"] is not None
            assert shown["lag_sample"] == 2 and shown["median_lag_s"] > 30
            text = (await svc.http.get("/metrics")).text
            assert metric(text, 'news_ingest_websub_pushes_total{verdict="accepted"}') == 2
            assert metric(text, 'news_ingest_article_store_lag_seconds_count{via="push"}') == 1
            assert metric(text, 'news_ingest_article_store_lag_seconds_count{via="poll"}') == 1
            # both articles' events were still in the outbox when the webhook subscription was made
            assert metric(text, 'news_ingest_webhook_delivery_lag_seconds_count{event="article.created"}') == 2

            # polling goes on as a safety net, at the relaxed interval while the hub pushes
            _, polled = await IngestWorker(svc.runtime).poll_now(feed_id)
            assert polled.next_poll_at >= datetime.now(UTC) + timedelta(seconds=3500)
    finally:
        receiver.down()


async def test_links_in_the_document_and_a_hub_that_verifies_after_answering(
        database_url: str, feed_server: FeedServer, tmp_path: Path) -> None:
    hub = LiveHub(tmp_path, verify_after_s=0.3).start()  # 202 first, the verification later
    try:
        async with live_service(database_url) as svc:
            publisher = Publisher(feed_server, hub.url, in_document=True)
            publisher.add("Ferry runs every twenty minutes", FERRY)
            feed_id = await add_feed(svc, publisher.topic)
            _, feed = await IngestWorker(svc.runtime).poll_now(feed_id)
            assert (feed.websub_hub, feed.websub_topic) == (hub.url, publisher.topic)
            await WebSubWorker(svc.runtime).run_once()
            waiting = await subscription(svc.runtime, feed_id)
            assert waiting is not None and waiting.state == "subscribing" and waiting.requested_at is not None
            assert waiting.next_action_at > datetime.now(UTC) + timedelta(seconds=200)  # the verification timeout

            async def verified() -> WebSubSubscription | None:
                sub = await subscription(svc.runtime, feed_id)
                return sub if sub is not None and sub.state == "active" else None

            active = await eventually(verified)
            assert active.requested_at is None

            async def hub_recorded() -> list[tuple[str, str]]:
                return hub.callbacks(publisher.topic)

            # The hub stores the subscription only after our callback has answered its check.
            assert await eventually(hub_recorded)
    finally:
        hub.stop()


async def test_verification_of_intent_is_refused_unless_we_asked(database_url: str, feed_server: FeedServer,
                                                                 hub: LiveHub) -> None:
    async with live_service(database_url) as svc:
        publisher = Publisher(feed_server, hub.url)
        publisher.add("Ferry runs every twenty minutes", FERRY)
        feed_id = await add_feed(svc, publisher.topic)
        await IngestWorker(svc.runtime).poll_now(feed_id)
        sub = await subscription(svc.runtime, feed_id)
        assert sub is not None and sub.state == "subscribing"
        callback = f"/websub/{sub.token}"
        good = {"hub.mode": "subscribe", "hub.topic": publisher.topic, "hub.challenge": "c-123",
                "hub.lease_seconds": "600"}
        anonymous = httpx.AsyncClient(base_url=svc.url)
        async with anonymous:
            # before our request went out, even the right topic is not confirmed
            assert (await anonymous.get(callback, params=good)).status_code == 404
            forged = [
                ("/websub/" + "x" * 43, good),  # a token we never issued
                (callback, {**good, "hub.topic": feed_server.url("/other.xml")}),  # a topic we did not ask for
                (callback, {**good, "hub.mode": "unsubscribe"}),  # a mode we did not ask for
                (callback, {k: v for k, v in good.items() if k != "hub.challenge"}),
                (callback, {**good, "hub.lease_seconds": "-5"}),
            ]
            async with svc.runtime.db.transaction() as session:  # our request is on its way
                await session.execute(update(WebSubSubscription).where(WebSubSubscription.id == sub.id)
                                      .values(requested_at=datetime.now(UTC)))
            for path, params in forged:
                answer = await anonymous.get(path, params=params)
                assert answer.status_code == 404 and "c-123" not in answer.text, path
            pending = await subscription(svc.runtime, feed_id)
            assert pending is not None and pending.state == "subscribing"
            # the genuine verification: the challenge, echoed as the whole body
            answer = await anonymous.get(callback, params=good)
            assert (answer.status_code, answer.text) == (200, "c-123")
            active = await subscription(svc.runtime, feed_id)
            assert active is not None and active.state == "active"
            assert active.expires_at is not None and active.verified_at is not None
            assert abs((active.expires_at - active.verified_at).total_seconds() - 600) < 1
            # a denial of another topic is ignored; of ours, recorded (§5.2) and the feed is polled again
            denied = {"hub.mode": "denied", "hub.topic": publisher.topic, "hub.reason": "quota reached"}
            assert (await anonymous.get(callback, params={**denied, "hub.topic": "http://x.example/"})).status_code == 404
            assert (await anonymous.get(callback, params=denied)).status_code == 200
        after = await subscription(svc.runtime, feed_id)
        assert after is not None and after.state == "denied" and "quota reached" in (after.last_error or "")
        feed = await feed_row(svc.runtime, feed_id)
        assert feed.push_until is None and feed.next_poll_at <= datetime.now(UTC)
        text = (await svc.http.get("/metrics")).text
        assert metric(text, 'news_ingest_websub_verifications_total{answer="refused",mode="subscribe"}') == 5


async def test_forged_unsigned_and_sha1_pushes_are_refused_and_counted(
        database_url: str, feed_server: FeedServer, hub: LiveHub) -> None:
    async with live_service(database_url) as svc:
        publisher = Publisher(feed_server, hub.url)
        publisher.add("Ferry runs every twenty minutes", FERRY)
        feed_id, sub = await subscribed(svc, publisher, hub)
        publisher.add("Footbridge over the canal opens", BRIDGE)
        body = (await httpx.AsyncClient().get(publisher.topic)).content
        callback = f"{svc.url}/websub/{sub.token}"

        def signed(method: str, secret: str = sub.secret) -> dict[str, str]:
            digest = hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()
            return {"X-Hub-Signature": f"{method}={digest}", "Content-Type": "application/rss+xml"}

        refused = {
            "missing_signature": {"Content-Type": "application/rss+xml"},
            "weak_signature": signed("sha1"),  # correctly made, but SHA-1 (§8.3)
            "bad_signature": signed("sha256", "not-the-secret"),
            "malformed_signature": {"X-Hub-Signature": "sha256"},
            "unsupported_signature": {"X-Hub-Signature": "md5=" + hashlib.md5(body).hexdigest()},
        }
        async with httpx.AsyncClient() as hub_like:
            for verdict, headers in refused.items():
                answer = await hub_like.post(callback, content=body, headers=headers)
                assert answer.status_code == 403, verdict
                assert answer.headers["content-type"] == "application/problem+json"
            assert (await hub_like.post(f"{svc.url}/websub/{'y' * 43}", content=body,
                                        headers=signed("sha256"))).status_code == 410
            assert await count(svc, WebSubPush) == 0
            await WebSubWorker(svc.runtime).run_once()
            assert await count(svc, Article) == 1  # only the polled one
            text = (await svc.http.get("/metrics")).text
            for verdict in (*refused, "unknown_callback"):
                assert metric(text, f'news_ingest_websub_pushes_total{{verdict="{verdict}"}}') == 1, verdict
            shown = (await svc.http.get(f"/v1/feeds/{feed_id}")).json()["websub"]
            assert "X-Hub-Signature uses an unknown method" in shown["last_error"]  # the last refusal, kept
            # the same body, properly signed (sha256 or stronger), is accepted
            for method in ("sha256", "sha512"):
                answer = await hub_like.post(callback, content=body, headers=signed(method))
                assert answer.status_code == 202 and answer.json()["status"] == "accepted"
        await WebSubWorker(svc.runtime).run_once()
        assert await count(svc, Article) == 2


async def test_leases_are_renewed_before_they_expire(database_url: str, feed_server: FeedServer,
                                                     hub: LiveHub) -> None:
    async with live_service(database_url, websub_lease_s=60) as svc:
        hub.app.config.update(HUB_MIN_LEASE_SECONDS=4, HUB_DEFAULT_LEASE_SECONDS=4, HUB_MAX_LEASE_SECONDS=4)  # the hub grants 4 s
        publisher = Publisher(feed_server, hub.url)
        publisher.add("Ferry runs every twenty minutes", FERRY)
        feed_id, first = await subscribed(svc, publisher, hub)
        assert first.expires_at is not None and first.verified_at is not None
        assert first.expires_at - first.verified_at == timedelta(seconds=4)
        worker = WebSubWorker(svc.runtime)

        async def renewed() -> WebSubSubscription | None:
            sub = await subscription(svc.runtime, feed_id)
            return sub if sub is not None and sub.verified_at != first.verified_at else None

        again = await eventually(renewed, step=worker.run_once, timeout_s=15)
        assert again.state == "active" and again.token == first.token
        assert again.expires_at > first.expires_at  # renewed at 80% of the lease, before it ran out
        assert again.verified_at < first.expires_at
        assert [m for m, _, _ in hub.requests] == ["subscribe", "subscribe"]
        assert len(hub.callbacks(publisher.topic)) == 1


async def test_pausing_or_deleting_a_feed_unsubscribes_it(database_url: str, feed_server: FeedServer,
                                                          hub: LiveHub) -> None:
    async with live_service(database_url) as svc:
        paused_site = Publisher(feed_server, hub.url, path="/paused.xml")
        deleted_site = Publisher(feed_server, hub.url, path="/deleted.xml")
        for site in (paused_site, deleted_site):
            site.add("Ferry runs every twenty minutes", FERRY)
        paused_id, _ = await subscribed(svc, paused_site, hub)
        deleted_id, _ = await subscribed(svc, deleted_site, hub)
        assert (await svc.http.patch(f"/v1/feeds/{paused_id}", json={"paused": True})).status_code == 200
        assert (await svc.http.delete(f"/v1/feeds/{deleted_id}")).status_code == 204
        await WebSubWorker(svc.runtime).run_once()
        assert sorted(m for m, _, _ in hub.requests).count("unsubscribe") == 2
        assert hub.callbacks(paused_site.topic) == [] and hub.callbacks(deleted_site.topic) == []
        assert await count(svc, WebSubSubscription) == 0  # both verified, both forgotten
        assert (await svc.http.get(f"/v1/feeds/{paused_id}")).json()["websub"]["state"] == "disabled"
        # resuming subscribes again, with a new callback and secret
        assert (await svc.http.patch(f"/v1/feeds/{paused_id}", json={"paused": False})).status_code == 200
        await WebSubWorker(svc.runtime).run_once()  # adoption
        await WebSubWorker(svc.runtime).run_once()  # the request
        again = await subscription(svc.runtime, paused_id)
        assert again is not None and again.state == "active"
        assert hub.callbacks(paused_site.topic) == [(f"{svc.url}/websub/{again.token}", again.secret)]


async def test_polling_takes_over_when_the_hub_fails(database_url: str, feed_server: FeedServer,
                                                     hub: LiveHub) -> None:
    async with live_service(database_url) as svc:
        publisher = Publisher(feed_server, hub.url)
        for minutes in (40, 30, 20, 10):  # a busy feed: its adaptive interval is about 10 minutes
            publisher.add(f"Ferry update {minutes}", FERRY, published=datetime.now(UTC) - timedelta(minutes=minutes))
        feed_id = await add_feed(svc, publisher.topic)
        ingest = IngestWorker(svc.runtime)
        hub.failing = 503
        await ingest.poll_now(feed_id)
        await WebSubWorker(svc.runtime).run_once()
        sub = await subscription(svc.runtime, feed_id)
        assert sub is not None and sub.state == "failed" and "503" in (sub.last_error or "")
        assert sub.next_action_at > datetime.now(UTC) + timedelta(seconds=20)  # retried after a backoff
        shown = (await svc.http.get(f"/v1/feeds/{feed_id}")).json()
        assert shown["websub"]["state"] == "failed" and "503" in shown["websub"]["last_error"]
        publisher.add("Ferry update 0", FERRY)
        _, polled = await ingest.poll_now(feed_id)
        assert polled.push_until is None
        assert polled.next_poll_at < datetime.now(UTC) + timedelta(seconds=1200)  # not the relaxed hour

        # a hub that worked and then stops: the lease runs out, polling resumes at once
        hub.failing = None
        async with svc.runtime.db.transaction() as session:
            await session.execute(update(WebSubSubscription).values(next_action_at=datetime.now(UTC)))
        await WebSubWorker(svc.runtime).run_once()
        active = await subscription(svc.runtime, feed_id)
        assert active is not None and active.state == "active"
        hub.failing = 503
        async with svc.runtime.db.transaction() as session:  # the lease has run out, renewals failed
            await session.execute(update(WebSubSubscription).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1), next_action_at=datetime.now(UTC)))
            await session.execute(update(Feed).values(next_poll_at=datetime.now(UTC) + timedelta(hours=1)))
        await WebSubWorker(svc.runtime).run_once()
        lapsed = await subscription(svc.runtime, feed_id)
        assert lapsed is not None and lapsed.state == "failed"
        feed = await feed_row(svc.runtime, feed_id)
        assert feed.push_until is None and feed.next_poll_at <= datetime.now(UTC)


async def test_a_push_survives_a_worker_that_dies_while_storing_it(database_url: str, feed_server: FeedServer,
                                                                   hub: LiveHub) -> None:
    async with live_service(database_url) as svc:
        publisher = Publisher(feed_server, hub.url)
        publisher.add("Ferry runs every twenty minutes", FERRY)
        feed_id, _ = await subscribed(svc, publisher, hub)
        publisher.add("Footbridge over the canal opens", BRIDGE)
        await asyncio.to_thread(hub.publish, publisher.topic)
        # a worker claims the push and its feed, then dies before storing anything
        now = datetime.now(UTC)
        async with svc.runtime.db.transaction() as session:
            [job] = await store.claim_pushes(session, now=now, owner="dead", lease_s=300, limit=8)
            await claim_feed(session, feed_id, now=now, owner="dead", lease_s=300)
        assert await WebSubWorker(svc.runtime).store_pushes() == 0  # leased: nobody else takes it
        async with svc.runtime.db.transaction() as session:  # the leases run out
            await session.execute(update(WebSubPush).values(lease_until=now - timedelta(seconds=1)))
            await session.execute(update(Feed).values(lease_until=now - timedelta(seconds=1)))
        # two workers (two processes' worth) compete for it: it is stored once
        workers = [WebSubWorker(dataclasses.replace(svc.runtime, worker_id=name)) for name in ("w1", "w2")]
        await asyncio.gather(*(w.store_pushes() for w in workers))
        assert await count(svc, WebSubPush) == 0
        assert await count(svc, Article, Article.title.contains("Footbridge")) == 1
        async with svc.runtime.db.sessions() as session:
            stored = (await session.execute(select(Article).where(Article.title.contains("Footbridge")))).scalar_one()
        assert stored.first_seen_at == job.received_at  # first seen when the hub pushed it, not when stored
