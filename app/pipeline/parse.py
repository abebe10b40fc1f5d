"""Reading documents in a CPU worker (the "parse" step, with its time budget): a feed, or a page
met during discovery. Pure and picklable; the caller runs them through the CPU pool.

    parse_newest(parser, body, headers, url, limit) -> ParsedFeed     the newest `limit` entries
    read_candidate(body, headers, url) -> Candidate                a feed, or a page's feed links

`parser` is any function with parse_feed's contract (bytes + headers + url -> ParsedFeed), so
every feed format runs in the pool the same way and only the kept entries cross back to the
service process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from app.domain.errors import FeedParseError
from app.domain.feeds import ParsedFeed, newest_first
from app.pipeline.poll import discover_feed_urls, parse_feed

FeedParser = Callable[[bytes, Mapping[str, str], str], ParsedFeed]


def parse_newest(parser: FeedParser, body: bytes, headers: Mapping[str, str], url: str, limit: int) -> ParsedFeed:
    """Parse with `parser` and keep the newest `limit` entries; `omitted` counts the others."""
    parsed = parser(body, headers, url)
    entries = tuple(newest_first(parsed.entries))
    return replace(parsed, entries=entries[:limit], omitted=parsed.omitted + max(0, len(entries) - limit))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A document met during discovery: a feed (`is_feed`), else the feed URLs it advertises."""

    is_feed: bool
    links: tuple[str, ...] = ()


def read_candidate(body: bytes, headers: Mapping[str, str], url: str) -> Candidate:
    try:
        parse_feed(body, headers, url)
    except FeedParseError:
        return Candidate(False, tuple(discover_feed_urls(body, url)))
    return Candidate(True)
