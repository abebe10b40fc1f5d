"""Prometheus metrics, in a registry of their own per Runtime so tests can build many apps."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from app.domain.websub import PushVerdict

# Seconds from a minute to a day: freshness spans push (seconds) and slow polled feeds (hours).
LAG_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "news_ingest_http_requests", "HTTP requests served", ["method", "route", "status"],
            registry=self.registry)
        self.http_latency = Histogram(
            "news_ingest_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            registry=self.registry)
        self.read_cache = Counter(
            "news_ingest_read_cache", "Read endpoints' GETs by how the response cache answered: hit, miss "
            "(stored), not_modified (304 for If-None-Match), bypass (no generation or not storable)",
            ["result"], registry=self.registry)
        self.polls = Counter("news_ingest_polls", "Feed polls by outcome", ["outcome"], registry=self.registry)
        self.articles = Counter("news_ingest_articles", "Articles stored by event (created/updated), or left out "
                                "because the database refused them (refused)",
                                ["event"], registry=self.registry)
        self.quotes = Counter("news_ingest_quotes", "Quotes extracted and stored", registry=self.registry)
        self.deliveries = Counter("news_ingest_webhook_deliveries", "Webhook delivery attempts by outcome",
                                  ["outcome"], registry=self.registry)
        self.store_lag = Histogram(
            "news_ingest_article_store_lag_seconds",
            "New articles: publication (the feed's date) to stored, by how the feed reached us (poll/push)",
            ["via"], buckets=LAG_BUCKETS, registry=self.registry)
        self.delivery_lag = Histogram(
            "news_ingest_webhook_delivery_lag_seconds",
            "Webhook deliveries: event stored (its timestamp) to delivered, first successful attempt, by event type",
            ["event"], buckets=(0.05, 0.1, *LAG_BUCKETS), registry=self.registry)
        self.websub_pushes = Counter(
            "news_ingest_websub_pushes", "WebSub content distributions received, by verdict (refusals included)",
            ["verdict"], registry=self.registry)
        self.websub_verifications = Counter(
            "news_ingest_websub_verifications", "Hub verification requests (intent, denial), by mode and answer",
            ["mode", "answer"], registry=self.registry)
        self.websub_requests = Counter(
            "news_ingest_websub_hub_requests", "Subscription requests sent to hubs, by mode and outcome",
            ["mode", "outcome"], registry=self.registry)
        for result in ("hit", "miss", "not_modified", "bypass"):
            self.read_cache.labels(result)
        for via in ("poll", "push"):
            self.store_lag.labels(via)
        for verdict in PushVerdict:
            self.websub_pushes.labels(verdict.value)
        for outcome in ("ok", "not_modified", "unchanged", "error"):
            self.polls.labels(outcome)
        for event in ("created", "updated"):
            self.articles.labels(event)
        for outcome in ("delivered", "retry", "dead"):
            self.deliveries.labels(outcome)

    def render(self) -> bytes:
        return generate_latest(self.registry)
