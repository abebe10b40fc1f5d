"""Feed parsing over the shared corpus, scheduling tables, discovery and OPML."""

from __future__ import annotations

import csv
import gzip
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

import pytest

from app.domain.errors import FeedParseError
from app.domain.feeds import OpmlOutline
from app.pipeline.markup import html_to_text
from app.pipeline.poll import (
    candidate_feed_urls,
    discover_feed_urls,
    opml_document,
    parse_feed,
    parse_opml,
    render_feed_rows,
    render_opml,
)
from app.pipeline.schedule import (
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    backoff_delay,
    feed_health,
    poll_interval_s,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
FEEDS = SHARED / "corpus" / "feeds"
NOW = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)
H, M, D = 3600, 60, 86400


def _manifest() -> list[dict[str, str]]:
    if not (FEEDS / "MANIFEST.tsv").exists():
        return []
    with open(FEEDS / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh, delimiter="\t") if (FEEDS / row["path"]).exists()]


MANIFEST = _manifest()


# --------------------------------------------------------------------------- corpus


@pytest.mark.skipif(not MANIFEST, reason="shared corpus not present")
@pytest.mark.parametrize("row", MANIFEST, ids=[r["path"] for r in MANIFEST])
def test_corpus_feed_parses_with_manifest_entry_count(row: dict[str, str]) -> None:
    data = (FEEDS / row["path"]).read_bytes()
    if row["path"].endswith(".gz"):
        data = gzip.decompress(data)
    expected = int(row["feedparser_entries"])
    try:
        feed = parse_feed(data, {}, "https://example.com/feeds/main.xml")
    except FeedParseError as exc:
        assert expected == 0, f"non-feed verdict for a document with {expected} entries"
        assert str(exc).startswith("poll: ")
        return
    assert len(feed.entries) == expected
    if row["feedparser_bozo"] == "1":
        assert feed.warning
    for entry in feed.entries:
        assert entry.guid
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo is not None
        for text in (entry.title, entry.summary, entry.content):
            assert text is None or "<script" not in text.lower()


def test_parse_feed_fields_and_relative_links() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Example &amp; News</title><link>/</link><ttl>30</ttl>
<item><title>A &lt;b&gt;bold&lt;/b&gt; move</title><link>/2024/a.html</link><guid isPermaLink="false">id-1</guid>
<pubDate>Tue, 01 Oct 2024 10:00:00 +0200</pubDate><author>ed@example.com (Ed)</author>
<description>&lt;p&gt;Hello &lt;script&gt;evil()&lt;/script&gt;&lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>Full</p><p>text &amp; more</p>]]></content:encoded></item>
<item><title>No id</title><link>https://other.example/b</link></item>
</channel></rss>"""
    feed = parse_feed(body, {"Content-Type": "application/rss+xml"}, "https://example.com/feeds/rss.xml")
    assert feed.title == "Example & News" and feed.site_link == "https://example.com/"
    assert feed.ttl_s == 30 * 60 and feed.version == "rss20" and feed.warning is None
    a, b = feed.entries
    assert a.guid == "id-1" and a.link == "https://example.com/2024/a.html"
    assert a.title == "A bold move"  # RSS titles are HTML in practice (feedparser: text/html)
    assert a.summary == "Hello world" and a.content == "Full\ntext & more"
    assert a.published == datetime(2024, 10, 1, 8, 0, tzinfo=UTC)
    assert a.author and "ed@example.com" in a.author
    assert b.guid == "https://other.example/b" and b.published is None


def test_parse_feed_honours_declared_charset() -> None:
    body = "<?xml version='1.0'?><rss version='2.0'><channel><title>Caf\u00e9</title></channel></rss>".encode("latin-1")
    feed = parse_feed(body, {"content-type": "application/rss+xml; charset=iso-8859-1"}, "http://x.example/f")
    assert feed.title == "Caf\u00e9"


def test_sy_update_period_hint() -> None:
    body = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
    <channel rdf:about="http://x.example/"><title>t</title><link>http://x.example/</link>
    <sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency></channel>
    <item rdf:about="http://x.example/1"><title>1</title><link>http://x.example/1</link></item></rdf:RDF>"""
    feed = parse_feed(body, {}, "http://x.example/rss")
    assert feed.ttl_s == D // 4 and len(feed.entries) == 1


def test_bozo_feed_keeps_entries() -> None:
    body = b"\n<?xml version='1.0'?><rss version='2.0'><channel><title>T & Co</title>" \
           b"<item><title>one</title><link>http://x.example/1</link></item></channel></rss>"
    feed = parse_feed(body, {}, "http://x.example/rss")
    assert feed.warning and len(feed.entries) == 1


@pytest.mark.parametrize("body", [b"", b"<html><body><p>hello</p></body></html>", b"\x00\xff\xfe garbage",
                                  b"<note><to>x</to></note>"])
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, {}, "http://x.example/")


@pytest.mark.parametrize(("fragment", "text"), [
    (None, None),
    ("", None),
    ("plain", "plain"),
    ("<p>a</p><p>b &amp; c</p>", "a\nb & c"),
    ("<style>p{}</style><script>x()</script>kept", "kept"),
])
def test_html_to_text(fragment: str | None, text: str | None) -> None:
    assert html_to_text(fragment) == text


def test_html_to_text_broken_markup_keeps_text() -> None:
    out = html_to_text("<div><<<>>>unclosed <b")
    assert out is not None and "unclosed" in out


# --------------------------------------------------------------------------- scheduling


def hourly(n: int, *, start: datetime = NOW) -> list[datetime]:
    return [start - timedelta(hours=i) for i in range(n)]


class IntervalInputs(TypedDict, total=False):
    """poll_interval_s's keyword arguments, as the table below gives them."""
    entry_times: list[datetime | None]
    ttl_s: float
    headers: dict[str, str]
    override_s: float
    min_interval_s: float
    max_interval_s: float


@pytest.mark.parametrize(("kwargs", "expected_s"), [
    ({}, H),  # nothing known: default 1 h
    ({"entry_times": hourly(10)}, H),  # publishes hourly
    ({"entry_times": [NOW - timedelta(minutes=i) for i in range(20)]}, MIN_INTERVAL_S),  # clamped up
    ({"entry_times": [NOW - timedelta(days=3 * i) for i in range(5)]}, MAX_INTERVAL_S),  # clamped down
    ({"entry_times": hourly(10, start=NOW - timedelta(hours=10))}, 5 * H),  # quiet for 10 h -> half
    ({"entry_times": [NOW - timedelta(hours=4)]}, 2 * H),  # one entry: half the silence
    ({"entry_times": hourly(10) + [None]}, H),  # undated entries ignored
    ({"entry_times": [NOW + timedelta(days=400), *hourly(10)]}, H),  # far-future dates ignored
    ({"entry_times": hourly(10), "ttl_s": 2 * H}, 2 * H),  # ttl raises the interval
    ({"entry_times": hourly(10), "ttl_s": 10 * M}, H),  # but never lowers it
    ({"entry_times": hourly(10), "ttl_s": 3 * D}, MAX_INTERVAL_S),  # hints are clamped too
    ({"entry_times": hourly(10), "headers": {"Cache-Control": "public, max-age=7200"}}, 2 * H),
    ({"entry_times": hourly(10), "headers": {"cache-control": "max-age=7200", "age": "3600"}}, H),
    ({"entry_times": hourly(10), "headers": {"Cache-Control": "s-maxage=10800, max-age=60"}}, 3 * H),
    ({"entry_times": hourly(10), "headers": {"Cache-Control": "no-cache, max-age=99999"}}, H),
    ({"entry_times": hourly(10), "headers": {"Expires": "Tue, 01 Oct 2024 16:00:00 GMT"}}, 4 * H),
    ({"entry_times": hourly(10), "headers": {"Expires": "Tue, 01 Oct 2024 16:00:00 GMT",
                                             "Date": "Tue, 01 Oct 2024 13:00:00 GMT"}}, 3 * H),
    ({"entry_times": hourly(10), "headers": {"Expires": "0"}}, H),
    ({"entry_times": hourly(10), "ttl_s": 3 * H, "override_s": 600}, 600),  # override wins
    ({"entry_times": hourly(10), "override_s": 60}, 60),  # even below the floor
    ({"entry_times": hourly(10), "min_interval_s": 2 * H}, 2 * H),
    ({"entry_times": [NOW - timedelta(days=3 * i) for i in range(5)], "max_interval_s": 6 * H}, 6 * H),
])
def test_poll_interval(kwargs: IntervalInputs, expected_s: float) -> None:
    assert poll_interval_s(NOW, **kwargs) == pytest.approx(expected_s)


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(("failures", "r", "kwargs", "expected"), [
    (0, 0.5, {}, 0.0),
    (1, 0.0, {}, 30.0),  # base 60: uniform in [30, 60]
    (1, 1.0, {}, 60.0),
    (2, 1.0, {}, 120.0),
    (3, 0.5, {}, 180.0),  # d=240 -> 120 + 60
    (5, 1.0, {"base": 10}, 160.0),
    (30, 1.0, {}, float(MAX_INTERVAL_S)),  # capped
    (10_000, 0.0, {"cap": 3600}, 1800.0),  # no overflow on huge counts
    (1, 0.0, {"retry_after": 900}, 900.0),  # Retry-After is a floor
    (1, 0.0, {"retry_after": 10 * D, "cap": D}, float(D)),  # ... up to the cap
    (0, 0.0, {"retry_after": 120}, 120.0),
])
def test_backoff_delay(failures: int, r: float, kwargs: dict[str, float], expected: float) -> None:
    assert backoff_delay(failures, rng=FixedRandom(r), **kwargs) == pytest.approx(expected)


def test_backoff_delay_spreads_and_stays_in_bounds() -> None:
    rng = random.Random(42)
    delays = [backoff_delay(4, 60, 3600, rng) for _ in range(200)]
    assert all(240 <= d <= 480 for d in delays) and len({round(d) for d in delays}) > 50


@pytest.mark.parametrize(("failures", "health"), [(0, "ok"), (2, "ok"), (3, "degraded"), (9, "degraded"),
                                                  (10, "failing"), (500, "failing")])
def test_feed_health(failures: int, health: str) -> None:
    assert feed_health(failures) == health


# --------------------------------------------------------------------------- discovery


def test_discover_feed_urls() -> None:
    page = b"""<!doctype html><html><head><base href="https://news.example/section/">
    <link rel="alternate" type="application/rss+xml" title="RSS" href="rss.xml">
    <LINK REL="Alternate" TYPE="application/atom+xml; charset=utf-8" HREF="/atom.xml"/>
    <link rel="alternate" type="application/rss+xml" href="rss.xml">
    <link rel="alternate" hreflang="de" href="/de/">
    <link rel="stylesheet" type="text/css" href="s.css">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    </head><body><a href="/feed">feed</a></body></html>"""
    assert discover_feed_urls(page, "https://news.example/section/page") == [
        "https://news.example/section/rss.xml", "https://news.example/atom.xml"]


@pytest.mark.parametrize("page", [b"", b"\x00\x01\x02\xff", b"<link rel=alternate type=application/rss+xml",
                                  "<html>" * 10000])
def test_discover_feed_urls_hostile(page: bytes | str) -> None:
    assert discover_feed_urls(page, "https://x.example/") == []


def test_candidate_feed_urls() -> None:
    assert candidate_feed_urls("https://x.example:8443/a/b?c=1") == [
        "https://x.example:8443/feed", "https://x.example:8443/rss", "https://x.example:8443/rss.xml",
        "https://x.example:8443/atom.xml", "https://x.example:8443/feed.xml", "https://x.example:8443/index.xml"]


# --------------------------------------------------------------------------- OPML


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>subs</title></head><body>
  <outline text="News" title="News">
    <outline type="rss" text="BBC" title="BBC" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml" htmlUrl="https://bbc.co.uk/"/>
    <outline text="Deeper"><outline text="Inner" xmlURL="https://inner.example/feed"/></outline>
    <outline text="Same again" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
  </outline>
  <outline text="Loose &amp; free" xmlUrl="http://loose.example/rss"/>
  <outline text="no url"/>
  <outline text="bad scheme" xmlUrl="file:///etc/passwd"/>
</body></opml>"""


def test_parse_opml_nested() -> None:
    outlines = parse_opml(OPML)
    assert outlines == [
        OpmlOutline("https://feeds.bbci.co.uk/news/rss.xml", "BBC", "https://bbc.co.uk/", "News"),
        OpmlOutline("https://inner.example/feed", "Inner", None, "Deeper"),
        OpmlOutline("http://loose.example/rss", "Loose & free", None, None),
    ]


def test_opml_round_trip() -> None:
    outlines = parse_opml(OPML)
    rendered = render_opml(outlines, title="mine", now=NOW)
    assert rendered.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert sorted(parse_opml(rendered), key=lambda o: o.url) == sorted(outlines, key=lambda o: o.url)
    assert render_opml([]).count(b"<outline") == 0


def test_an_export_rendered_in_slices_is_the_document_rendered_whole() -> None:
    rows = [("https://quay.example/feed?a=1&b=2", 'Quay "notices"', "https://quay.example/"),
            ("https://dock.example/rss", None, None), ("https://pier.example/atom", "Pier <news>", None)]
    whole = render_opml([OpmlOutline(url, title, site) for url, title, site in rows])
    assert opml_document(render_feed_rows(rows[:2]) + render_feed_rows(rows[2:])) == whole
    assert opml_document(b"") == render_opml([])


def test_parse_opml_lenient_when_not_well_formed() -> None:
    broken = b"""<opml version="2.0"><body><outline text="A & B" xmlUrl="http://a.example/rss?x=1&y=2"/>
    <outline text='C' xmlUrl='http://c.example/feed'></body>"""
    assert [o.url for o in parse_opml(broken)] == ["http://a.example/rss?x=1&y=2", "http://c.example/feed"]


@pytest.mark.parametrize("doc", [
    b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    b'<opml><body><outline text="&b;" xmlUrl="http://x.example/"/></body></opml>',
    b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "http://evil.example/x.dtd"><opml><body/></opml>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<opml><body><outline text="&xxe;" xmlUrl="http://x.example/"/></body></opml>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE opml [<!ENTITY a "x">]><opml><body/></opml>'.encode("utf-16"),
])
def test_parse_opml_refuses_dtds_and_entities(doc: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_opml(doc)


@pytest.mark.parametrize("doc", [b"", b"hello", b"\x00\xff\x00"])
def test_parse_opml_not_opml(doc: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_opml(doc)
