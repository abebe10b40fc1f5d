"""Steps for the CPU pool tests. A module of its own so that spawned pool workers can import
them; each stands for an input that makes a real step run on and on."""

from __future__ import annotations

import os
from collections.abc import Mapping
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


def spin_quotes_json(text: str, title: str | None) -> bytes:
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
