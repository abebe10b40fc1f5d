"""Steps for the CPU pool tests. A module of its own so that spawned pool workers can import
them; each stands for an input that makes a real step run on and on."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from datetime import datetime

from app.domain.feeds import FeedEntry, ParsedFeed
from app.domain.ingest import ArticleDraft
from app.pipeline.analyse import analyse_entry


def spin(*_args: object) -> None:
    while True:
        pass


def worker_pid() -> int:
    return os.getpid()


def spin_quotes(text: str, title: str | None) -> tuple[()]:
    spin()
    return ()


def spin_quotes_json(read: Callable[[bytes], tuple[str, str | None]], body: bytes) -> bytes:
    read(body)
    spin()
    return b"[]"


def spin_on_pages(entry: FeedEntry, html: bytes | None, page_url: str | None, fetched_ok: bool,
                  now: datetime, tsvector: bool = False) -> ArticleDraft:
    """Extraction that never ends on a fetched page; the feed's own content is analysed as usual."""
    if html is not None:
        spin()
    return analyse_entry(entry, html, page_url, fetched_ok, now, tsvector)


def spin_parse(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    spin()
    raise AssertionError("unreachable")


def slow_quotes(text: str, title: str | None) -> tuple[()]:
    """Quotes that take far longer than any budget of the tests, in pure Python: a soft deadline
    stops them between two bytecodes."""
    for _ in range(10**10):
        pass
    return ()


def spin_in_a_handler(entry: FeedEntry, html: bytes | None, page_url: str | None, fetched_ok: bool,
                      now: datetime, tsvector: bool = False) -> ArticleDraft:
    """Extraction that never ends inside an `except Exception`, as extract_page's own is."""
    try:
        spin()
    except Exception:  # noqa: BLE001, S110 - what a hostile page's handler does
        pass
    return analyse_entry(entry, None, page_url, fetched_ok, now, tsvector)


CALLS_FILE = "NEWS_INGEST_TEST_CALLS_FILE"


def stuck_in_c_on_pages(entry: FeedEntry, html: bytes | None, page_url: str | None, fetched_ok: bool,
                        now: datetime, tsvector: bool = False) -> ArticleDraft:
    """Extraction that never ends on a fetched page and that no soft deadline stops, as a call
    into C that never returns to Python; each call on a page adds a line to $CALLS_FILE."""
    if html is not None:
        with open(os.environ[CALLS_FILE], "a", encoding="utf-8") as calls:
            calls.write("page\n")
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # the deadline's handler never runs
        spin()
    return analyse_entry(entry, html, page_url, fetched_ok, now, tsvector)
