"""One INFO line per interval of what this process's workers did, instead of one per poll.

At a few thousand feeds a line per poll floods the log; those lines are DEBUG now
(`NEWS_INGEST_LOG_LEVEL=DEBUG` shows them). The summary is read from the Prometheus counters
that /metrics serves, so the log and the metrics always agree. Nothing is logged for an
interval in which nothing happened.
"""

from __future__ import annotations

import asyncio
import logging

from app.metrics import Metrics

log = logging.getLogger("news_ingest.workers")

# (key in the log line's extra "counts", sample name, labels)
COUNTS = [
    ("polls_ok", "news_ingest_polls_total", {"outcome": "ok"}),
    ("polls_not_modified", "news_ingest_polls_total", {"outcome": "not_modified"}),
    ("polls_unchanged", "news_ingest_polls_total", {"outcome": "unchanged"}),
    ("poll_errors", "news_ingest_polls_total", {"outcome": "error"}),
    ("articles_created", "news_ingest_articles_total", {"event": "created"}),
    ("articles_updated", "news_ingest_articles_total", {"event": "updated"}),
    ("quotes", "news_ingest_quotes_total", {}),
    ("deliveries_delivered", "news_ingest_webhook_deliveries_total", {"outcome": "delivered"}),
    ("deliveries_retried", "news_ingest_webhook_deliveries_total", {"outcome": "retry"}),
    ("deliveries_failed", "news_ingest_webhook_deliveries_total", {"outcome": "failed"}),
    ("deliveries_dead", "news_ingest_webhook_deliveries_total", {"outcome": "dead"}),
]


class ActivitySummary:
    def __init__(self, metrics: Metrics, interval_s: float) -> None:
        self.metrics = metrics
        self.interval_s = interval_s
        self._last = self._read()

    def _read(self) -> dict[str, int]:
        get = self.metrics.registry.get_sample_value
        return {key: int(get(name, labels) or 0) for key, name, labels in COUNTS}

    def log_since_last(self) -> dict[str, int] | None:
        """Log what happened since the last call; returns the counts (None when nothing did)."""
        now = self._read()
        delta = {key: now[key] - self._last[key] for key in now}
        self._last = now
        if not any(delta.values()):
            return None
        polls = sum(delta[k] for k in ("polls_ok", "polls_not_modified", "polls_unchanged", "poll_errors"))
        deliveries = delta["deliveries_delivered"] + delta["deliveries_retried"] + delta["deliveries_failed"]
        log.info(
            f"workers: last {self.interval_s:g} s: {polls} polls ({delta['poll_errors']} failed), "
            f"{delta['articles_created']} articles stored, {delta['articles_updated']} updated, "
            f"{delta['quotes']} quotes; {deliveries} webhook attempts ({delta['deliveries_delivered']} delivered, "
            f"{delta['deliveries_retried']} to retry, {delta['deliveries_failed']} failed, "
            f"{delta['deliveries_dead']} dead)",
            extra={"interval_s": self.interval_s, "polls": polls, "counts": delta})
        return delta

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval_s)
            except TimeoutError:
                pass
            self.log_since_last()
