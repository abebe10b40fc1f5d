"""Prometheus metrics, in a registry of their own per Runtime so tests can build many apps."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "news_ingest_http_requests", "HTTP requests served", ["method", "route", "status"],
            registry=self.registry)
        self.http_latency = Histogram(
            "news_ingest_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            registry=self.registry)
        self.polls = Counter("news_ingest_polls", "Feed polls by outcome", ["outcome"], registry=self.registry)
        self.articles = Counter("news_ingest_articles", "Articles stored by event (created/updated)",
                                ["event"], registry=self.registry)
        self.quotes = Counter("news_ingest_quotes", "Quotes extracted and stored", registry=self.registry)
        self.deliveries = Counter("news_ingest_webhook_deliveries", "Webhook delivery attempts by outcome",
                                  ["outcome"], registry=self.registry)
        for outcome in ("ok", "not_modified", "unchanged", "error"):
            self.polls.labels(outcome)
        for event in ("created", "updated"):
            self.articles.labels(event)
        for outcome in ("delivered", "retry", "dead"):
            self.deliveries.labels(outcome)

    def render(self) -> bytes:
        return generate_latest(self.registry)
