"""XML sitemaps and news sitemaps through parse_feed: entries newest first with the news
metadata, indexes listing their freshest children first, and the broken documents servers send."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from app.domain.errors import FeedParseError
from app.domain.feeds import ParsedFeed, SitemapRef
from app.pipeline.poll import parse_feed
from app.pipeline.sitemap import merge_sitemaps

URL = "http://harbour.example/news-sitemap.xml"
NEWS_NS = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
           'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"')


def news_url(path: str, title: str, published: str, *, language: str = "en", keywords: str = "") -> str:
    return (f"<url><loc>http://harbour.example{path}</loc>"
            f"<news:news><news:publication><news:name>Harbour Town Gazette</news:name>"
            f"<news:language>{language}</news:language></news:publication>"
            f"<news:publication_date>{published}</news:publication_date><news:title>{title}</news:title>"
            f"<news:keywords>{keywords}</news:keywords></news:news>"
            f"<image:image><image:loc>http://harbour.example/i.jpg</image:loc>"
            f"<image:title>Not the article title</image:title></image:image></url>")


def urlset(*urls: str, ns: str = NEWS_NS) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {ns}>{"".join(urls)}</urlset>'.encode()


NEWS = urlset(
    news_url("/articles/fishing-season.html", "Fishing cooperative warns of poor season", "2026-11-24T14:40:00Z",
             keywords="fishing, cooperative ,"),
    news_url("/articles/lighthouse.html", "Lighthouse reopens &amp;amp; visitors return", "2026-11-25T08:05:00+01:00",
             language="nb"),
    news_url("/articles/ferry-timetable.html", "Council approves new ferry timetable", "2026-11-23"),
    news_url("/articles/lighthouse.html", "A repeat of the same URL", "2026-11-26T00:00:00Z"),
)


def test_news_sitemap_entries_newest_first_with_their_metadata() -> None:
    feed = parse_feed(NEWS, {"Content-Type": "application/xml"}, URL)
    assert (feed.version, feed.title, feed.site_link) == ("sitemap", "Harbour Town Gazette", "http://harbour.example/")
    assert [e.link for e in feed.entries] == ["http://harbour.example/articles/lighthouse.html",
                                              "http://harbour.example/articles/fishing-season.html",
                                              "http://harbour.example/articles/ferry-timetable.html"]
    lighthouse, fishing, ferry = feed.entries
    assert lighthouse.guid == lighthouse.link
    assert lighthouse.title == "Lighthouse reopens & visitors return"  # twice-escaped, as sites send it
    assert lighthouse.published == datetime(2026, 11, 25, 7, 5, tzinfo=UTC) and lighthouse.language == "nb"
    assert fishing.tags == ("fishing", "cooperative")
    assert ferry.published == datetime(2026, 11, 23, tzinfo=UTC)
    assert (ferry.summary, ferry.content, ferry.author) == (None, None, None)


def test_plain_sitemap_dates_pages_by_lastmod_and_tolerates_a_missing_namespace() -> None:
    body = urlset("<url><loc>http://harbour.example/a</loc><lastmod>2026-11-20</lastmod></url>",
                  "<url><loc> http://harbour.example/b </loc></url>",
                  "<url><loc>/relative</loc><lastmod>2026-11-22T10:00:00Z</lastmod></url>",
                  "<url><loc>ftp://harbour.example/c</loc></url><url></url>", ns="")
    feed = parse_feed(body, {}, URL)
    assert [(e.link, e.published) for e in feed.entries] == [
        ("http://harbour.example/relative", datetime(2026, 11, 22, 10, tzinfo=UTC)),
        ("http://harbour.example/a", datetime(2026, 11, 20, tzinfo=UTC)),
        ("http://harbour.example/b", None)]
    assert feed.title is None and feed.entries[0].title is None


def test_gzipped_sitemap_file() -> None:
    assert len(parse_feed(gzip.compress(NEWS), {"Content-Type": "application/x-gzip"}, URL + ".gz").entries) == 3


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (51 * 1024 * 1024))
    with pytest.raises(FeedParseError, match="exceeds 50 MiB"):
        parse_feed(bomb, {}, URL)


def test_truncated_sitemap_keeps_what_was_read() -> None:
    cut = NEWS[: NEWS.index(b"/articles/ferry-timetable.html")]
    feed = parse_feed(cut, {}, URL)
    assert [e.title for e in feed.entries] == ["Lighthouse reopens & visitors return",
                                               "Fishing cooperative warns of poor season"]
    assert feed.warning is not None and feed.warning.startswith("ExpatError")


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">]><urlset><url><loc>&a;</loc></url></urlset>',
    b'<?xml version="1.0"?><!DOCTYPE urlset SYSTEM "http://harbour.example/x.dtd"><urlset></urlset>',
    b'<?xml version="1.0"?><urlset><url><loc>broken',
])
def test_dtds_and_unreadable_sitemaps_are_refused(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, {}, URL)


INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated -->
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://harbour.example/sitemap-2026-09.xml</loc><lastmod>2026-09-30T23:00:00Z</lastmod></sitemap>
  <sitemap><loc>http://harbour.example/sitemap-pages.xml</loc></sitemap>
  <sitemap><loc>http://harbour.example/sitemap-2026-11.xml</loc><lastmod>2026-11-25T08:00:00Z</lastmod></sitemap>
  <sitemap><loc>http://harbour.example/sitemap-2026-11.xml</loc></sitemap>
  <sitemap><loc>http://harbour.example/news-sitemap.xml</loc></sitemap>
</sitemapindex>"""


def test_index_lists_its_children_freshest_first() -> None:
    feed = parse_feed(INDEX, {}, URL)
    assert feed.version == "sitemapindex" and feed.entries == ()
    # repeats and the index itself are dropped; children without lastmod follow in document order
    assert feed.sitemaps == (
        SitemapRef("http://harbour.example/sitemap-2026-11.xml", datetime(2026, 11, 25, 8, tzinfo=UTC)),
        SitemapRef("http://harbour.example/sitemap-2026-09.xml", datetime(2026, 9, 30, 23, tzinfo=UTC)),
        SitemapRef("http://harbour.example/sitemap-pages.xml"))


def test_merged_index_has_each_url_once_newest_first() -> None:
    index = parse_feed(INDEX, {}, URL)
    first = parse_feed(NEWS, {}, URL)
    second = parse_feed(urlset(news_url("/articles/ferry-timetable.html", "Ferry again", "2026-11-23"),
                               news_url("/articles/new.html", "Newest of all", "2026-11-27T00:00:00Z")), {}, URL)
    merged = merge_sitemaps(index, [first, second], ["sitemap http://harbour.example/x.xml: answered 500"])
    assert [e.title for e in merged.entries] == ["Newest of all", "Lighthouse reopens & visitors return",
                                                 "Fishing cooperative warns of poor season",
                                                 "Council approves new ferry timetable"]
    assert merged.title == "Harbour Town Gazette" and merged.sitemaps == index.sitemaps
    assert merged.warning == "sitemap http://harbour.example/x.xml: answered 500"
    assert merge_sitemaps(ParsedFeed(None, None, "sitemapindex", None), [], []).warning is None


def test_rss_and_atom_are_not_taken_for_sitemaps() -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>urlset</title></channel></rss>'
    assert parse_feed(rss, {}, URL).version == "rss20"
