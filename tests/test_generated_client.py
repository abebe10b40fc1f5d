"""A Python client generated from the live OpenAPI document (openapi-python-client, as a user
would run it) drives the service on a real port: feeds, an OPML upload, articles page by page
with cursors, search, quotes, speakers, a subscription and a webhook verified with
`standardwebhooks` and parsed with the generated event model. The generator must not warn: a
warning means an operation or a type that clients silently lose.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from app.workers.deliver import DeliveryWorker
from tests.feedserver import FeedServer, serve_seed_site
from tests.webhook_receiver import WebhookReceiver
from tests.websub_live import live_service

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "news_ingest_client"


def generate(spec: dict[str, Any], into: Path) -> str:
    """Generate the client package `PACKAGE` under `into`; return the generator's output."""
    (into / "openapi.json").write_text(json.dumps(spec))
    (into / "config.yaml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(into / "openapi.json"), "--config", str(into / "config.yaml"),
         "--meta", "none", "--output-path", str(into / PACKAGE)],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def load(into: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    monkeypatch.syspath_prepend(str(into))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        monkeypatch.delitem(sys.modules, name)
    names = ["client", "types", "models", "api.feeds.create_feed", "api.feeds.poll_feed", "api.feeds.list_feeds",
             "api.feeds.import_feeds_opml", "api.articles.list_articles", "api.articles.get_article",
             "api.articles.list_article_quotes", "api.quotes.list_quotes", "api.quotes.list_speakers",
             "api.quotes.list_speaker_quotes", "api.subscriptions.create_subscription",
             "api.subscriptions.test_subscription", "api.subscriptions.list_subscription_deliveries",
             "api.health.get_health"]
    return {name: importlib.import_module(f"{PACKAGE}.{name}") for name in names}




async def test_generated_python_client_round_trip(database_url: str, feed_server: FeedServer,
                                                  receiver: WebhookReceiver, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    feed_url = serve_seed_site(feed_server)
    async with live_service(database_url, allow_http_webhooks=True) as svc:
        spec = (await svc.http.get("/openapi.json")).json()
        output = generate(spec, tmp_path)
        assert "warning" not in output.lower(), output
        m = load(tmp_path, monkeypatch)
        models, types = m["models"], m["types"]
        api = m["client"].AuthenticatedClient(base_url=svc.url, token=svc.http.headers["Authorization"][7:])
        async with api as client:
            health = await m["api.health.get_health"].asyncio(client=client)
            assert health is not None and health.status == models.HealthStatus.OK

            # ------------------------------------------------------------ feeds
            created = await m["api.feeds.create_feed"].asyncio_detailed(
                client=client, body=models.FeedCreate(url=feed_url, title="Harbour"))
            assert created.status_code == 201 and isinstance(created.parsed, models.FeedOut)
            feed = created.parsed
            assert feed.state is models.FeedState.PENDING
            duplicate = await m["api.feeds.create_feed"].asyncio_detailed(
                client=client, body=models.FeedCreate(url=feed_url))
            assert duplicate.status_code == 409 and isinstance(duplicate.parsed, models.DuplicateFeedProblem)
            assert duplicate.parsed.existing_feed.id == feed.id and duplicate.parsed.existing_feed.url == feed_url

            opml = (f'<opml version="2.0"><body><outline type="rss" xmlUrl="{feed_url}"/>'
                    f'<outline type="rss" xmlUrl="{feed_server.url("/other.xml")}"/></body></opml>').encode()
            upload = models.OpmlUpload(file=types.File(payload=io.BytesIO(opml), file_name="feeds.opml",
                                                       mime_type="text/x-opml"))
            imported = await m["api.feeds.import_feeds_opml"].asyncio(client=client, body=upload)
            assert isinstance(imported, models.OpmlImportResult)
            assert (imported.created, imported.existing, imported.invalid) == (1, 1, [])
            pending = await m["api.feeds.list_feeds"].asyncio(client=client, state=models.FeedState.PENDING)
            assert isinstance(pending, models.FeedOutPage) and len(pending.items) == 2

            sub = await m["api.subscriptions.create_subscription"].asyncio(
                client=client, body=models.SubscriptionCreate(url=receiver.url("client"),
                                                              events=[models.EventType.ARTICLE_CREATED]))
            assert isinstance(sub, models.SubscriptionWithSecret) and sub.secret.startswith("whsec_")
            receiver.secret("client", sub.secret)

            polled = await m["api.feeds.poll_feed"].asyncio(client=client, feed_id=feed.id)
            assert isinstance(polled, models.PollResult) and polled.outcome is models.PollOutcome.OK
            assert polled.feed.state is models.FeedState.OK and polled.articles_created == 3

            # ------------------------------------------------------------ articles
            seen: list[int] = []
            cursor: Any = types.UNSET
            while True:
                page = await m["api.articles.list_articles"].asyncio(client=client, limit=1, cursor=cursor)
                assert isinstance(page, models.ArticleSummaryPage) and len(page.items) <= 1
                seen += [a.id for a in page.items]
                if not page.next_cursor:
                    break
                cursor = page.next_cursor
            assert len(seen) == 3 and len(set(seen)) == 3
            article = await m["api.articles.get_article"].asyncio(client=client, article_id=seen[0])
            assert isinstance(article, models.ArticleOut) and article.text
            assert not hasattr(article, "snippet") and isinstance(article.extraction, models.Extraction)
            found = await m["api.articles.list_articles"].asyncio(client=client, q="lighthouse",
                                                                  sort=models.ArticleSort.RELEVANCE)
            assert isinstance(found, models.ArticleSummaryPage) and found.items
            assert "<mark>" in found.items[0].snippet and found.items[0].score > 0

            # ------------------------------------------------------------ quotes, speakers
            quotes = await m["api.quotes.list_quotes"].asyncio(client=client)
            assert isinstance(quotes, models.QuoteOutPage) and quotes.items
            quote = next(q for q in quotes.items if isinstance(q.speaker, str) and q.speaker_id)
            assert isinstance(quote.kind, models.QuoteKind)
            in_article = await m["api.articles.list_article_quotes"].asyncio(client=client,
                                                                             article_id=quote.article_id)
            assert quote.id in [q.id for q in in_article.items]
            part = quote.speaker.split()[-1][1:4].upper()  # a piece of the surname, in the wrong case
            speakers = await m["api.quotes.list_speakers"].asyncio(client=client, q=part)
            assert isinstance(speakers, models.SpeakerOutPage)
            assert quote.speaker_id in [s.id for s in speakers.items]
            theirs = await m["api.quotes.list_speaker_quotes"].asyncio(client=client, speaker_id=quote.speaker_id)
            assert quote.id in [q.id for q in theirs.items]
            refused = await m["api.quotes.list_speakers"].asyncio_detailed(client=client, q="x" * 10_000)
            assert refused.status_code == 422 and isinstance(refused.parsed, models.Problem)

            # ------------------------------------------------------------ webhooks
            queued = await m["api.subscriptions.test_subscription"].asyncio(client=client, subscription_id=sub.id)
            assert isinstance(queued, models.DeliveryOut) and queued.state is models.DeliveryState.PENDING
            await DeliveryWorker(svc.runtime).run_until_idle()
            received = receiver.of("client")
            assert len(received) == 4 and not receiver.rejected
            for got in received:  # what a receiver does: verify, then parse by `type`
                Webhook(sub.secret).verify(got.body, got.headers)
                envelope = json.loads(got.body)
                parser = {"article.created": models.ArticleCreatedEvent, "ping": models.PingEvent}[envelope["type"]]
                event = parser.from_dict(envelope)
                if isinstance(event, models.PingEvent):
                    assert event.data.subscription_id == sub.id
                else:
                    assert event.data.article.id in seen and event.data.article.feed_id == feed.id
            assert sorted(json.loads(r.body)["type"] for r in received) == ["article.created"] * 3 + ["ping"]
            log = await m["api.subscriptions.list_subscription_deliveries"].asyncio(client=client,
                                                                                    subscription_id=sub.id)
            assert isinstance(log, models.DeliveryOutPage) and len(log.items) == 4
            assert {d.state for d in log.items} == {models.DeliveryState.DELIVERED}
            assert queued.event_id in {d.event_id for d in log.items}
