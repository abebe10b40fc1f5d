"""Values that do not fit where they go. On PostgreSQL one over-long field or one NUL failed the
whole transaction of a feed's poll, every poll, and every other article of the feed was lost;
SQLite stored them. Now each is cleaned or bounded where it enters, the same on both."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from app.domain.limits import MAX_LANGUAGE_CHARS, MAX_TITLE_CHARS, clean_text, clip, language_tag
from app.runtime import Runtime
from app.storage.models import Article
from tests.feedserver import FeedServer
from tests.test_ingest import add_feed, poll

BRIEF = ("The night ferry leaves the north quay at nine from Monday, the harbour office said, and the "
         "last bus now waits for it. Harbour master Lena Varga said \u201cnobody will be left on the pier "
         "again,\u201d after a winter of complaints from late passengers who missed the last bus. ")
FAR_HOST = "a" * 300 + ".example"  # no DNS label may be longer than 63: refused before any lookup


def hostile_feed(site: str) -> bytes:
    items = [
        f"<item><title>Night\x00ferry {'late ' * 300}</title><link>{site}/articles/ferry</link>"
        f"<author>{'Ines Okafor ' * 100}</author><description>The ferry\x00 leaves\x07 at nine.</description>"
        "<guid>ferry-1</guid></item>",
        f"<item><title>A link too long</title><link>{site}/articles/{'a' * 2100}</link><guid>long-link</guid></item>",
        f"<item><title>A GUID too long</title><link>{site}/articles/quay</link><guid>{'g' * 2100}</guid></item>",
        f"<item><title>A host too long</title><link>http://{FAR_HOST}/story</link><guid>far-host</guid>"
        "<description>Held at the quay.</description></item>",
    ]
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{"Quayside " * 200}</title>'
            f"<link>{site}/</link>{''.join(items)}</channel></rss>").encode()


def page(text: str, lang: str = "en") -> str:
    return (f'<html lang="{lang}"><head><title>Ferry</title></head><body><article><h1>Ferry</h1>'
            f"<p>{text}</p></article></body></html>")


async def articles(runtime: Runtime) -> dict[str | None, Article]:
    async with runtime.db.sessions() as session:
        return {a.guid: a for a in (await session.execute(select(Article))).scalars()}


async def test_nul_bytes_and_overlong_fields_lose_no_article(runtime: Runtime, feed_server: FeedServer) -> None:
    site = feed_server.url("").rstrip("/")
    feed_server.route("/feed.xml", body=hostile_feed(site), headers={
        "Content-Type": "application/rss+xml", "ETag": '"' + "e" * 600 + '"',
        "Last-Modified": "Wed, 25 Nov 2026 07:00:00 GMT" + " " * 80 + "(and then some)" * 8})
    feed_server.route("/articles/ferry", body=page(BRIEF.replace("nine", "ni\x00ne") * 2, "en-GB-x-harbour-quay-side"),
                      headers={"Content-Type": "text/html"})
    feed_server.route("/articles/quay", body=page(BRIEF.replace("night", "morning") * 2),
                      headers={"Content-Type": "text/html"})
    feed_id = await add_feed(runtime, feed_server.url("/feed.xml"))

    report, feed = await poll(runtime, feed_id)
    assert (report.outcome, report.created) == ("ok", 3), report.error
    assert feed.etag is None and feed.last_modified is None  # too long to store, and cut they match nothing
    assert feed.parse_warning is not None and "skipped 1 entry: link longer than 2048" in feed.parse_warning
    assert feed.title is not None and len(feed.title) <= MAX_TITLE_CHARS

    stored = await articles(runtime)
    ferry = stored["ferry-1"]
    for value in (ferry.title, ferry.summary, ferry.text, ferry.byline):
        assert value and "\x00" not in value and "\x07" not in value
    assert len(ferry.title or "") <= MAX_TITLE_CHARS and len(ferry.byline or "") <= MAX_TITLE_CHARS
    assert ferry.language == "en-GB-x-harbour" and ferry.extraction == "ok"
    long_guid = next(a for guid, a in stored.items() if guid is not None and guid.startswith("sha256:"))
    assert long_guid.title == "A GUID too long" and long_guid.url.endswith("/articles/quay")
    far = stored["far-host"]
    assert far.source is None and far.text == "Held at the quay."

    feed_server.route("/feed.xml", body=hostile_feed(site) + b" ", headers={"Content-Type": "application/rss+xml"})
    again, _ = await poll(runtime, feed_id)
    assert (again.outcome, again.created) == ("ok", 0)  # the hashed GUID is the same next time


async def test_a_database_error_leaves_no_sql_in_last_error(runtime: Runtime, feed_server: FeedServer,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    import app.workers.ingest as worker

    async def refused(*_args: Any, **_kwargs: Any) -> None:
        raise DataError("INSERT INTO articles (title) VALUES ($1::VARCHAR)", {"title": "Secret draft"},
                        Exception("value too long for type character varying(1024)"))

    feed_server.route("/feed.xml", body=hostile_feed(feed_server.url("").rstrip("/")),
                      headers={"Content-Type": "application/rss+xml"})
    monkeypatch.setattr(worker, "store_drafts", refused)
    monkeypatch.setattr(worker, "store_each", refused)  # refused article by article too: the poll fails
    monkeypatch.setattr(runtime.settings, "fetch_articles", False)
    report, feed = await poll(runtime, await add_feed(runtime, feed_server.url("/feed.xml")))
    assert report.outcome == "error" and feed.last_error is not None
    assert feed.last_error.startswith("store: ") and "DataError" in feed.last_error
    assert "INSERT" not in feed.last_error and "Secret draft" not in feed.last_error
    logged = [logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info]
    assert any("INSERT INTO articles" in text for text in logged)  # the whole error is in the log


@pytest.mark.parametrize(("value", "cleaned"), [
    ("plain", "plain"), ("a\x00b", "ab"), ("line\r\nnext\rlast", "line\nnext\nlast"), ("tab\there\n", "tab\there\n"),
    ("bell\x07 and escape\x1b", "bell and escape"), ("lone \ud800 surrogate", "lone \ufffd surrogate"), (None, None)])
def test_clean_text(value: str | None, cleaned: str | None) -> None:
    assert clean_text(value) == cleaned


@pytest.mark.parametrize(("value", "tag"), [
    ("en", "en"), ("en_GB", "en-GB"), ("en-gb, fr", "en-gb"), ("zh-Hant-TW-variant1", "zh-Hant-TW"),
    ("en-GB-x-harbour-quay-side", "en-GB-x-harbour"), ("english", None), ("", None), ("e\x00n", None)])
def test_language_tags_fit_their_column(value: str, tag: str | None) -> None:
    assert language_tag(value) == tag
    assert tag is None or len(tag) <= MAX_LANGUAGE_CHARS


def test_clip_cuts_free_text_at_its_limit() -> None:
    assert clip("word " * 300, 1024) == ("word " * 300)[:1024].rstrip()
    assert clip("\x00\x01", 10) is None


async def test_opml_with_overlong_values_imports_what_fits(client: httpx.AsyncClient) -> None:
    opml = ('<?xml version="1.0"?><opml version="2.0"><body>'
            f'<outline type="rss" text="{"Quay " * 400}" xmlUrl="http://127.0.0.1/quay.xml"/>'
            f'<outline type="rss" text="Nul\x00feed" xmlUrl="http://127.0.0.1/nul.xml"/>'
            f'<outline type="rss" text="Far" xmlUrl="http://127.0.0.1/{"a" * 3000}"/></body></opml>')
    imported = await client.post("/v1/feeds:import", content=opml, headers={"content-type": "text/x-opml"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 2
    feeds = (await client.get("/v1/feeds")).json()["items"]
    assert sorted(len(f["title"]) <= MAX_TITLE_CHARS and "\x00" not in f["title"] for f in feeds) == [True, True]
