"""Every real feed of ../shared/corpus/feeds, served over HTTP on 127.0.0.1 and polled through
the worker into the database: no crash, every failure a clear recorded error, and the entries
that feedparser finds are stored (skips cleanly when ../shared is absent)."""

from __future__ import annotations

import csv

from sqlalchemy import func, select

from app.runtime import Runtime
from app.storage.feeds import create_feed
from app.storage.models import Article
from app.workers.ingest import IngestWorker
from tests.conftest import shared_path
from tests.feedserver import FeedServer


async def test_every_corpus_feed_goes_through_the_pipeline(runtime: Runtime, feed_server: FeedServer) -> None:
    root = shared_path("corpus", "feeds")
    rows = list(csv.DictReader((root / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines(), delimiter="\t"))
    runtime.settings.fetch_articles = False  # feeds only here; pages are covered elsewhere
    worker = IngestWorker(runtime)
    outcomes: dict[str, str] = {}
    entries = 0
    for n, row in enumerate(rows):
        path = root / row["path"]
        if not path.exists():
            continue
        data = path.read_bytes()
        headers = {"Content-Type": "application/xml"}
        if row["path"].endswith(".gz"):
            headers["Content-Encoding"] = "gzip"  # served compressed, as a server would
        feed_server.route(f"/c/{n}", body=data, headers=headers)
        async with runtime.db.transaction() as session:
            feed = await create_feed(session, url=feed_server.url(f"/c/{n}"), title=None,
                                     interval_override_s=None, now=runtime.clock())
        report, stored = await worker.poll_now(feed.id)
        outcomes[row["path"]] = report.outcome
        expected = int(row["feedparser_entries"] or 0)
        if report.outcome == "error":
            # only documents that are not feeds at all may fail, and they say why
            assert expected == 0, f"{row['path']}: {report.error}"
            assert stored.last_error and stored.state == "degraded"
            continue
        assert report.entries == expected, row["path"]
        entries += expected
    assert len(outcomes) > 300
    assert sum(o == "ok" for o in outcomes.values()) > 0.95 * len(outcomes)
    async with runtime.db.sessions() as session:
        articles = await session.scalar(select(func.count(Article.id)))
    # Test files share links (http://example.com/...), which are one article by design.
    assert 0.5 * entries < (articles or 0) <= entries
