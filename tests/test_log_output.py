"""What the log says at the default level: one summary per interval instead of a line per poll,
plain text without terminal colour codes, no line per outgoing HTTP request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest

from app.logging import configure_logging
from app.runtime import Runtime
from app.workers.summary import ActivitySummary
from tests.feedserver import FeedServer
from tests.test_ingest import add_feed, poll, serve_team_site


@pytest.fixture
def configured() -> Iterator[None]:
    """configure_logging as the command line calls it; pytest's own handlers are put back after.
    uvicorn's loggers are as the command line leaves them (their own level, no handler, passing
    records on to the root) for the test: a server an earlier test started with uvicorn's default
    logging config left them with a handler of their own, not propagating, at WARNING."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in ("httpx", "httpcore")}
    uvicorn = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    uvicorn_saved = [(lg.level, lg.propagate, lg.handlers[:]) for lg in uvicorn]
    for lg in uvicorn:
        lg.setLevel(logging.NOTSET)
        lg.propagate, lg.handlers[:] = True, []
    try:
        yield
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
        for lg, (level, propagate, handlers) in zip(uvicorn, uvicorn_saved, strict=True):
            lg.setLevel(level)
            lg.propagate, lg.handlers[:] = propagate, handlers


def test_text_lines_carry_no_colour_codes(configured: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    # What uvicorn logs on start: its coloured copy of the message rides along as an extra.
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42,
                                            extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"})
    logging.getLogger("news_ingest.test").info("feeds: imported", extra={"feed_id": 7})
    err = capsys.readouterr().err
    assert "Started server process [42]" in err and "feed_id=7" in err
    assert "\x1b" not in err and "color_message" not in err


def test_json_lines_carry_no_colour_codes(configured: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("uvicorn.error").info("Started", extra={"color_message": "\x1b[1mStarted\x1b[0m"})
    err = capsys.readouterr().err
    assert '"msg": "Started"' in err and "\\u001b" not in err and "color_message" not in err


def test_outgoing_requests_are_not_logged_at_info(configured: None, capsys: pytest.CaptureFixture[str],
                                                  feed_server: FeedServer) -> None:
    configure_logging("INFO", "text")
    feed_server.route("/page", body=b"ok")
    assert httpx.get(feed_server.url("/page")).status_code == 200
    assert "HTTP Request" not in capsys.readouterr().err  # httpx logs each request at INFO
    logging.getLogger("httpx").warning("kept")
    assert "kept" in capsys.readouterr().err


async def test_polls_log_at_debug_and_a_summary_at_info(runtime: Runtime, feed_server: FeedServer,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    summary = ActivitySummary(runtime.metrics, 60)
    good = await add_feed(runtime, serve_team_site(feed_server))
    broken = await add_feed(runtime, feed_server.url("/missing.xml"))
    await poll(runtime, good)
    await poll(runtime, broken)
    polled = [r for r in caplog.records if r.getMessage() == "ingest: polled"]
    assert [r.levelno for r in polled] == [logging.DEBUG, logging.DEBUG]
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith("news_ingest")]

    counts = summary.log_since_last()
    [line] = [r for r in caplog.records if r.levelno == logging.INFO and r.name.startswith("news_ingest")]
    assert counts is not None and counts["articles_created"] == 3 and counts["poll_errors"] == 1
    assert line.__dict__["polls"] == 2 and "2 polls (1 failed), 3 articles stored" in line.getMessage()
    caplog.clear()
    assert summary.log_since_last() is None  # a quiet interval says nothing
    assert not [r for r in caplog.records if r.name.startswith("news_ingest")]


class Lines(logging.Handler):
    """Hands each record to the test as it is logged (on the event loop's thread)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.queue: asyncio.Queue[logging.LogRecord] = asyncio.Queue()

    def emit(self, record: logging.LogRecord) -> None:
        self.queue.put_nowait(record)


async def test_the_summary_comes_every_interval(runtime: Runtime) -> None:
    lines, logger = Lines(), logging.getLogger("news_ingest.workers")
    logger.addHandler(lines)
    previous, logger.level = logger.level, logging.INFO
    summary, stop = ActivitySummary(runtime.metrics, 0.05), asyncio.Event()
    task = asyncio.create_task(summary.run(stop))
    try:
        for n in (1, 2):
            runtime.metrics.polls.labels("ok").inc(n)
            line = await asyncio.wait_for(lines.queue.get(), timeout=10)
            assert line.__dict__["polls"] == n and line.__dict__["counts"]["polls_ok"] == n
    finally:
        stop.set()
        await task
        logger.removeHandler(lines)
        logger.setLevel(previous)
