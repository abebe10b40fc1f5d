"""Ingestion under hostile input (issue 12): feeds are parsed in the CPU pool within a budget,
at most a few entries are taken per poll (newest first, the rest later), and a step that
overruns its budget leaves the article stored without what that step makes, with the reason
shown to API users. The event loop keeps answering throughout."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.config import Settings
from app.cpu_pool import CpuPool
from app.domain.feeds import FeedEntry
from app.pipeline import flow
from app.pipeline.analyse import analyse_article, analyse_entry, quotes_of
from app.pipeline.fetch import Fetcher
from app.runtime import Runtime
from app.storage.feeds import create_feed
from app.storage.models import Article
from app.workers.ingest import IngestWorker
from tests.conftest import make_settings
from tests.cpu_steps import (
    CALLS_FILE,
    slow_quotes,
    spin_in_a_handler,
    spin_on_pages,
    spin_parse,
    spin_quotes,
    stuck_in_c_on_pages,
    worker_pid,
)
from tests.feedserver import FeedServer
from tests.probes import STALL_S, probe_while

PAGE = ("<html><head><title>Harbour</title></head><body><article><h1>Harbour dues {n}</h1>"
        + "<p>The harbour board met on Tuesday to discuss the dues that ferry operators pay each season, "
          "and a long list of other matters that the town has argued about for years.</p>" * 4
        + '<p>"We will not raise the dues this year," chair Odile Varga said at meeting {n}.</p>'
          "</article></body></html>")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, extract_processes=1, quotes_budget_s=0.5, extract_budget_s=0.5,
                         parse_budget_s=1.0)


def rss(items: list[tuple[int, datetime]], base: str) -> str:
    body = "".join(
        f"<item><title>Notice {n}</title><link>{base}/a/{n}.html</link><guid>notice-{n}</guid>"
        f"<description>Notice {n} of the harbour board, with the text the feed carries itself.</description>"
        f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate></item>" for n, when in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Board</title>{body}</channel></rss>'


def serve(server: FeedServer, count: int, *, pages: bool = True) -> str:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    server.route("/feed.xml", body=rss([(n, now - timedelta(hours=n)) for n in range(count)], server.url("")),
                 headers={"Content-Type": "application/rss+xml"})
    for n in range(count if pages else 0):
        server.route(f"/a/{n}.html", body=PAGE.format(n=n), headers={"Content-Type": "text/html"})
    return server.url("/feed.xml")


async def add_feed(runtime: Runtime, url: str) -> int:
    async with runtime.db.transaction() as session:
        return (await create_feed(session, url=url, title=None, interval_override_s=None, now=runtime.clock())).id


async def the_article_shown(runtime: Runtime, client: httpx.AsyncClient, feed_id: int) -> dict[str, Any]:
    """Poll the feed of one entry; its stored article as the API shows it."""
    async with asyncio.timeout(30):
        report, _ = await IngestWorker(runtime).poll_now(feed_id)
    assert report.created == 1
    (article,) = await articles(runtime)
    shown: dict[str, Any] = (await client.get(f"/v1/articles/{article.id}")).json()
    return shown


async def articles(runtime: Runtime) -> list[Article]:
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(Article).order_by(Article.published_at.desc()))).scalars())


async def test_quotes_over_budget_leave_the_article_with_its_text_and_the_reason(
        runtime: Runtime, client: httpx.AsyncClient, feed_server: FeedServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "quotes_of", spin_quotes)
    feed_id = await add_feed(runtime, serve(feed_server, 1))
    async with asyncio.timeout(30):
        report, feed = await IngestWorker(runtime).poll_now(feed_id)
    assert (report.outcome, report.created, feed.state) == ("ok", 1, "ok")
    (article,) = await articles(runtime)
    shown = (await client.get(f"/v1/articles/{article.id}")).json()
    assert "chair Odile Varga said" in shown["text"] and shown["extraction"] == "ok"
    assert shown["quote_count"] == 0
    assert shown["skipped"] == [{"step": "quotes", "reason": "quotes: stopped after its time budget of 0.5 s"}]


async def test_a_page_whose_extraction_overruns_keeps_the_feed_content(
        runtime: Runtime, client: httpx.AsyncClient, feed_server: FeedServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "analyse_entry", spin_on_pages)
    shown = await the_article_shown(runtime, client, await add_feed(runtime, serve(feed_server, 1)))
    assert shown["text"].startswith("Notice 0 of the harbour board") and shown["extraction"] == "feed_only"
    assert [s["step"] for s in shown["skipped"]] == ["extract"]


async def test_a_page_stuck_past_every_deadline_is_extracted_once_then_the_feed_content_kept(
        runtime: Runtime, client: httpx.AsyncClient, feed_server: FeedServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker is killed when the whole task overruns: extracting the same page again would
    # hold a worker for another budget and end the same way.
    calls = tmp_path / "calls"
    monkeypatch.setenv(CALLS_FILE, str(calls))
    monkeypatch.setattr(flow, "analyse_entry", stuck_in_c_on_pages)
    shown = await the_article_shown(runtime, client, await add_feed(runtime, serve(feed_server, 1)))
    assert shown["text"].startswith("Notice 0 of the harbour board") and shown["extraction"] == "feed_only"
    assert shown["skipped"] == [{"step": "extract", "reason": "extract: stopped after its time budget of 0.5 s"}]
    assert calls.read_text().splitlines() == ["page"]


async def test_after_two_overruns_in_a_poll_the_other_entries_skip_the_step(
        runtime: Runtime, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "quotes_of", spin_quotes)
    feed_id = await add_feed(runtime, serve(feed_server, 8))
    async with asyncio.timeout(60):
        report, _ = await IngestWorker(runtime).poll_now(feed_id)
    assert report.created == 8
    reasons = [a.skipped[0]["reason"] for a in await articles(runtime) if a.skipped]
    assert len(reasons) == 8
    overran = [r for r in reasons if "stopped after its time budget" in r]
    # two overruns open the breaker; steps already handed to the pool by then (one per slot) run
    assert 2 <= len(overran) <= 2 + runtime.cpu.slots
    assert all("other entries of this poll ran over its time budget" in r for r in reasons if r not in overran)


async def test_a_feed_whose_parsing_overruns_fails_its_poll_with_the_reason(
        runtime: Runtime, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "parse_feed", spin_parse)
    feed_id = await add_feed(runtime, serve(feed_server, 1, pages=False))
    async with asyncio.timeout(30):
        report, feed = await IngestWorker(runtime).poll_now(feed_id)
    assert report.outcome == "error" and feed.state == "degraded"
    assert "parse: stopped after its time budget of 1 s" in (feed.last_error or "")


async def test_entries_are_taken_newest_first_a_few_per_poll(database_url: str, feed_server: FeedServer) -> None:
    runtime = Runtime.from_settings(make_settings(database_url, fetch_articles=False, max_entries_per_poll=10,
                                                  max_feed_entries=25))
    try:
        feed_id = await add_feed(runtime, serve(feed_server, 30, pages=False))
        worker = IngestWorker(runtime)
        seen: list[set[str]] = []
        outcomes = []
        for _ in range(4):
            report, feed = await worker.poll_now(feed_id)
            seen.append({a.guid or "" for a in await articles(runtime)})
            outcomes.append((report.outcome, report.entries, report.created))
        # the document is read again while entries wait; once all are taken, it is not
        assert outcomes == [("ok", 30, 10), ("ok", 30, 10), ("ok", 30, 5), ("unchanged", 0, 0)]
        assert seen[0] == {f"notice-{n}" for n in range(10)}  # the newest first
        assert seen[3] == {f"notice-{n}" for n in range(25)}  # beyond the newest 25: never read
    finally:
        await runtime.close()


def _big_feed(server: FeedServer) -> bytes:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    return rss([(n, now - timedelta(minutes=n)) for n in range(5000)], server.url("")).encode()


def _deep_feed(_server: FeedServer) -> bytes:
    return (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Deep</title><item><title>Deep</title>'
            b"<guid>deep</guid><description>" + b"<a>" * 100_000 + b"</description></item></channel></rss>")


@pytest.mark.parametrize("document", [_big_feed, _deep_feed], ids=["5000-entries", "deep-xml"])
async def test_a_hostile_feed_does_not_stall_the_event_loop(
        runtime: Runtime, client: httpx.AsyncClient, feed_server: FeedServer, document: object) -> None:
    assert callable(document)
    feed_server.route("/feed.xml", body=document(feed_server), headers={"Content-Type": "application/rss+xml"})
    feed_id = await add_feed(runtime, feed_server.url("/feed.xml"))
    await runtime.cpu.run("warm", len, "")  # the pool's processes start before the clock does
    poll = asyncio.create_task(IngestWorker(runtime).poll_now(feed_id))
    latencies = await probe_while(poll, client, "/readyz")
    report, _ = await poll
    assert max(latencies, default=0.0) < STALL_S
    assert report.created <= runtime.settings.max_entries_per_poll


ENTRY = FeedEntry(guid="notice-1", link=None, title="Notice 1", summary=None, author=None, published=None,
                  content="The harbour board met on Tuesday. " * 20
                          + '"We will not raise the dues," chair Odile Varga said.')


async def test_quotes_over_their_budget_stop_in_the_worker_which_lives_on() -> None:
    # One task per article: the quotes phase has a deadline of its own, so its overrun neither
    # costs the article its text nor the pool its worker (no kill, no new process to start).
    pool = CpuPool(1, {"analyse": 30.0})
    try:
        before = await pool.run("pid", worker_pid)
        result = await pool.run("analyse", analyse_article, analyse_entry, slow_quotes, ENTRY, None, None, True,
                                datetime.now(UTC), False, 10.0, 0.3, None)
        assert result.overran == "quotes" and result.draft is not None
        assert "Odile Varga said" in (result.draft.text or "") and result.draft.quotes == ()
        assert await pool.run("pid", worker_pid) == before
        # the worker's first real quotes load their word lists: a generous budget on a loaded machine
        found = await pool.run("analyse", analyse_article, analyse_entry, quotes_of, ENTRY, None, None, True,
                               datetime.now(UTC), False, 60.0, 60.0, None)
        assert found.overran is None and found.draft is not None
        assert [q.speaker for q in found.draft.quotes] == ["Odile Varga"]
    finally:
        await pool.aclose()


async def test_without_soft_deadlines_an_overrunning_article_is_done_again_step_by_step(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process mode runs steps in threads, where no deadline can stop a phase: the task as a
    # whole overruns, and the article is done again as two steps, so it keeps its text.
    release = threading.Event()

    def stuck_quotes(text: str, title: str | None) -> tuple[()]:
        release.wait(30)
        return ()

    pool = CpuPool(0, {"analyse": 0.5, "extract": 5.0, "quotes": 0.3})
    fetcher = Fetcher()
    monkeypatch.setattr(flow, "quotes_of", stuck_quotes)
    try:
        (draft,) = await flow.build_drafts([ENTRY], fetcher, pool.run, now=datetime.now(UTC), fetch_pages=False,
                                           budgets=flow.StepBudgets(10.0, 10.0))
    finally:
        release.set()
        await pool.aclose()
        await fetcher.aclose()
    assert "Odile Varga said" in (draft.text or "") and draft.extraction == "feed_only"
    assert [(s.step, s.reason) for s in draft.skipped] == [("quotes", "quotes: stopped after its time budget of 0.3 s")]


async def test_an_extraction_deadline_is_not_taken_for_a_page_without_text() -> None:
    # Extraction catches Exception on hostile pages (and answers "no text"): the deadline must
    # pass through such a handler, so the article says its extraction overran.
    pool = CpuPool(1, {"analyse": 30.0})
    try:
        result = await pool.run("analyse", analyse_article, spin_in_a_handler, quotes_of, ENTRY, b"<html></html>",
                                None, True, datetime.now(UTC), False, 0.3, 5.0, None)
    finally:
        await pool.aclose()
    assert (result.draft, result.overran) == (None, "extract")
