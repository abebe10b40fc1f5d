"""JSON Feed 1.0 and 1.1 through parse_feed, the one entry point the poller uses: real feeds
from a public package (tests/fixtures/jsonfeed/README.md), the team's 1.1 feed, and broken input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.domain.errors import FeedParseError
from app.domain.feeds import Attachment, ParsedFeed
from app.pipeline.poll import parse_feed

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "jsonfeed"
JSON_TYPE = {"Content-Type": "application/feed+json"}


def parse(name: str, headers: dict[str, str] | None = None,
          url: str = "http://harbour.example/notes/feed.json") -> ParsedFeed:
    return parse_feed((FIXTURES / name).read_bytes(), JSON_TYPE if headers is None else headers, url)


@pytest.mark.parametrize(("name", "title", "site", "version", "count", "first"), [
    ("feed-reader__json-feed-standard.json", "JSON Feed", "https://www.jsonfeed.org/", "json10", 2,
     {"guid": "http://jsonfeed.micro.blog/2020/08/07/json-feed-version.html",
      "link": "https://www.jsonfeed.org/2020/08/07/json-feed-version.html", "title": "JSON Feed version 1.1",
      "published": datetime(2020, 8, 7, 16, 44, 36, tzinfo=UTC), "author": None}),
    ("feed-reader__json-feed-standard-realworld.json", "Adactio: Journal", "https://adactio.com/journal/",
     "json10", 10,
     {"guid": "19317", "link": "https://adactio.com/journal/19317",
      "title": "The line-up for dConstruct 2022 …revealed!",
      # "2022-07-26 13:01:01": a space for the T and no zone, taken as UTC
      "published": datetime(2022, 7, 26, 13, 1, 1, tzinfo=UTC), "author": "Jeremy Keith",
      "summary": "Eight fantastic people who are going to provoke, entertain, and stimulate you."}),
])
def test_real_json_feeds_give_the_entries_rss_would(name: str, title: str, site: str, version: str, count: int,
                                                     first: dict[str, object]) -> None:
    feed = parse(name)
    assert (feed.title, feed.site_link, feed.version, len(feed.entries), feed.warning) == (
        title, site, version, count, None)
    entry = feed.entries[0]
    for field, value in first.items():
        assert getattr(entry, field) == value, field
    assert all(e.content and "<" not in e.content for e in feed.entries)  # HTML stripped to text
    assert len({e.guid for e in feed.entries}) == count


def test_real_feed_keeps_tags_and_the_feed_level_author() -> None:
    entry = parse("feed-reader__json-feed-standard-realworld.json").entries[0]
    assert entry.tags[:3] == ("dconstruct", "conferences", "events")
    assert entry.content is not None and entry.content.startswith("Alright, I’ve kept you in suspense")


def test_json_feed_1_1_fields() -> None:
    feed = parse("harbour-1.1.json")
    assert (feed.title, feed.site_link, feed.version) == ("Harbour Town Notes", "http://harbour.example/notes/",
                                                         "json11")
    ferry, fishing, podcast, orphan = feed.entries
    # url is the item's own page; external_url (what a link blog points at) only without it
    assert ferry.link == "http://harbour.example/articles/ferry-timetable.html"
    assert ferry.content == "The council voted 7-2 for earlier crossings & a later last boat."
    assert ferry.summary == "Earlier morning crossings from December."
    assert ferry.author == "Ines Okafor"
    assert ferry.published == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert ferry.updated == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert ferry.tags == ("ferries", "council")  # repeats, non-strings and blanks dropped
    assert ferry.language == "en-GB"  # the feed's language
    # a numeric id is coerced to a string; a relative url is resolved against the feed
    assert fishing.guid == "1002" and fishing.link == "http://harbour.example/articles/fishing-season.html"
    assert fishing.content == "Catches fell by a third this autumn,\nthe cooperative said."
    assert fishing.published == datetime(2026, 11, 24, 14, 40, tzinfo=UTC)  # date_modified when no date_published
    assert fishing.language == "nb-NO"
    assert fishing.author is None  # authors given, none with a name: not the feed's authors
    assert podcast.link == "http://radio.example/harbour/12"
    assert podcast.author == "Ines Okafor, Tomas Lindqvist"  # no authors: the feed's (1.1 §authors)
    assert podcast.attachments == (Attachment(url="http://radio.example/harbour/12.mp3", mime_type="audio/mpeg",
                                              title="Episode 12", size_bytes=28311552, duration_s=1769.0),)
    assert orphan.link is None and orphan.published is None and orphan.guid.startswith("sha256:")
    assert feed.warning == "1 items are not JSON objects and were skipped"


def test_json_feed_1_0_author_object() -> None:
    doc = {"version": "https://jsonfeed.org/version/1", "title": "T", "author": {"name": "Ana Ruiz"},
           "items": [{"id": "a", "url": "http://harbour.example/a", "author": {"name": "Olga Petrenko"}},
                     {"id": "b", "url": "http://harbour.example/b"}]}
    entries = parse_feed(json.dumps(doc).encode(), {}, "http://harbour.example/feed.json").entries
    assert [e.author for e in entries] == ["Olga Petrenko", "Ana Ruiz"]


@pytest.mark.parametrize(("body", "headers"), [
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', {"Content-Type": "text/plain"}),
    (b'\xef\xbb\xbf  {"version": "https://jsonfeed.org/version/1.1", "items": []}', {}),
    (b'\n{"version":"https://jsonfeed.org/version/1","items":[]}', {"Content-Type": "application/octet-stream"}),
    ('{"version": "https://jsonfeed.org/version/1.1", "items": []}'.encode("utf-16"), {"Content-Type": "application/json"}),
])
def test_json_feeds_are_recognised_by_type_and_by_body(body: bytes, headers: dict[str, str]) -> None:
    assert parse_feed(body, headers, "http://harbour.example/feed.json").version.startswith("json")


def test_xml_served_as_json_is_still_read_as_xml() -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>X</title><item><title>A</title>' \
          b"<link>http://harbour.example/a</link></item></channel></rss>"
    assert parse_feed(rss, {"Content-Type": "application/json"}, "http://harbour.example/f").version == "rss20"


@pytest.mark.parametrize(("body", "message"), [
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "invalid JSON"),
    (b"", "invalid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),  # deeper than the json module recurses
    (b'{"title": "no version", "items": []}', "without a jsonfeed.org version"),
    (b'{"version": "https://example.org/version/1", "items": []}', "without a jsonfeed.org version"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": {"id": "x"}}', "without an items list"),
    (b'["https://jsonfeed.org/version/1.1"]', "without a jsonfeed.org version"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [], "title": "\xff\xfe"}', "invalid JSON"),
])
def test_malformed_json_is_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(body, JSON_TYPE, "http://harbour.example/feed.json")


def test_fields_of_the_wrong_type_are_ignored() -> None:
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": ["x"], "home_page_url": 5, "language": {},
           "items": [{"id": True, "url": 17, "external_url": "javascript:alert(1)", "title": {"a": 1},
                      "content_html": ["<p>x</p>"], "content_text": None, "summary": 3, "tags": "news",
                      "authors": "Ana", "date_published": 1732000000, "attachments": {"url": "x"}}]}
    feed = parse_feed(json.dumps(doc).encode(), JSON_TYPE, "http://harbour.example/feed.json")
    (entry,) = feed.entries
    assert feed.title is None and feed.site_link is None
    assert (entry.link, entry.title, entry.content, entry.summary, entry.tags, entry.author, entry.published,
            entry.attachments) == (None, None, None, None, (), None, None, ())
    assert entry.guid.startswith("sha256:")
