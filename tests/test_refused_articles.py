"""The safety net under storing a poll: when the database refuses one article for a value nobody
foresaw, the feed's other articles are stored (with their quotes and events), the refused entry
is left out, named in the feed's warning and not fetched again on every poll, and the feed stays
healthy. "A value nobody foresaw" is a trigger the test puts on the articles table, on the
suite's database (SQLite or PostgreSQL); the feed and its pages come from a real server."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

import app.workers.ingest as ingest_worker
from app.domain.feeds import FeedEntry
from app.domain.refusals import REFUSAL_RETRY_AFTER, RefusedEntry, edition, in_force, merged
from app.runtime import Runtime
from app.storage.dialects import refused_value
from app.storage.ingest import store_drafts
from app.storage.models import Article, Event, Quote
from tests.feedserver import FeedServer

REFUSED_TITLE = "Reservoir sluice gates reopened after inspection"
REFUSED_EDIT = "Footbridge over the Lune closes for repainting until spring"
STORIES = {  # path: (title, guid, the quoted sentence)
    "orchard": ("Community orchard plants forty apple trees", "valley-101",
                "We wanted fruit that anyone walking past could pick"),
    "sluice": (REFUSED_TITLE, "valley-102", "The gates held through every flood test we could devise"),
    "library": ("Mobile library adds a Sunday stop in Brackwater", "valley-103",
                "Sunday is the only day many farm families can come into town"),
    "bridge": ("Footbridge over the Lune closes for repainting", "valley-104",
                "The steel is sound, it only needs a fresh coat before winter"),
}
LATE = ("Choir from the upper valley wins the regional cup", "valley-105",
        "Nobody expected a village of three hundred to sing like that")


def page(title: str, quote: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f"<main><article><h1>{title}</h1>"
            "<p>The valley council confirmed the news on Tuesday after a long meeting in the old market hall, "
            "where residents filled every seat and several stood along the back wall to listen.</p>"
            f"<p>“{quote},” said Teodora Vance, who chairs the council's works committee.</p>"
            "<p>The work is paid for from the council's maintenance budget and is expected to take several "
            "weeks, with a public notice posted at the market hall once the dates are fixed.</p>"
            "<p>Residents with questions were asked to write to the council office on Mill Street or to "
            "speak to the committee at its next open session at the end of the month.</p>"
            "</article></main></body></html>")


def rss(site: str, stories: dict[str, tuple[str, str, str]]) -> str:
    items = "".join(f"<item><title>{title}</title><link>{site}/news/{path}</link><guid>{guid}</guid>"
                    f"<pubDate>Tue, 1{n} Nov 2026 08:00:00 GMT</pubDate><description>{title}.</description></item>"
                    for n, (path, (title, guid, _)) in enumerate(stories.items()))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Valley Courier</title>'
            f"<link>{site}/</link>{items}</channel></rss>")


def serve(server: FeedServer, stories: dict[str, tuple[str, str, str]]) -> str:
    site = server.url("").rstrip("/")
    server.route("/feed.xml", body=rss(site, stories), headers={"Content-Type": "application/rss+xml"})
    for path, (title, _, quote) in stories.items():
        server.route(f"/news/{path}", body=page(title, quote), headers={"Content-Type": "text/html"})
    return server.url("/feed.xml")


@pytest.fixture
async def refusing_title(runtime: Runtime) -> AsyncIterator[str]:
    """The database refuses an article (new or edited) titled REFUSED_TITLE or REFUSED_EDIT, as it
    would a value we never bounded."""
    titles = ", ".join(f"'{t}'" for t in (REFUSED_TITLE, REFUSED_EDIT))
    if runtime.db.dialect == "postgresql":
        create = [f"CREATE FUNCTION test_refuse_title() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  f"IF NEW.title IN ({titles}) THEN RAISE EXCEPTION 'test: this title is refused'; END IF; "
                  "RETURN NEW; END $$",
                  "CREATE TRIGGER test_refuse_title BEFORE INSERT OR UPDATE ON articles FOR EACH ROW "
                  "EXECUTE FUNCTION test_refuse_title()"]
        drop = ["DROP TRIGGER IF EXISTS test_refuse_title ON articles", "DROP FUNCTION IF EXISTS test_refuse_title()"]
    else:
        create = [f"CREATE TRIGGER test_refuse_{event.lower()} BEFORE {event} ON articles WHEN NEW.title IN ({titles}) "
                  "BEGIN SELECT RAISE(ABORT, 'test: this title is refused'); END" for event in ("INSERT", "UPDATE")]
        drop = ["DROP TRIGGER IF EXISTS test_refuse_insert", "DROP TRIGGER IF EXISTS test_refuse_update"]
    async with runtime.db.transaction() as session:
        for statement in create:
            await session.execute(text(statement))
    try:
        yield REFUSED_TITLE
    finally:
        async with runtime.db.transaction() as session:
            for statement in drop:
                await session.execute(text(statement))


async def titles(client: httpx.AsyncClient, feed_id: int) -> set[str]:
    body = (await client.get("/v1/articles", params={"feed_id": feed_id, "limit": 50})).json()
    return {a["title"] for a in body["items"]}


async def events(runtime: Runtime, kind: str) -> list[dict[str, Any]]:
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(Event.payload).where(Event.type == kind))).scalars())


def refusal_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "news_ingest.ingest" and r.levelno == logging.WARNING
            and "left out" in r.getMessage()]


async def test_a_refused_article_costs_only_itself(runtime: Runtime, client: httpx.AsyncClient,
                                                   feed_server: FeedServer, refusing_title: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    url = serve(feed_server, STORIES)
    feed = (await client.post("/v1/feeds", json={"url": url})).json()

    polled = (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()
    assert polled["outcome"] == "ok" and polled["articles_created"] == 3, polled
    good = {t for t, _, _ in STORIES.values()} - {refusing_title}
    assert await titles(client, feed["id"]) == good
    shown = (await client.get(f"/v1/feeds/{feed['id']}")).json()
    assert shown["state"] == "ok" and shown["consecutive_failures"] == 0 and shown["last_error"] is None
    assert "left out 1 entry the database refused" in shown["parse_warning"]
    assert "/news/sluice" in shown["parse_warning"]
    assert datetime.fromisoformat(shown["next_poll_at"]) > datetime.fromisoformat(shown["last_polled_at"])
    # Events only for what was stored: three articles and their quotes, none of the refused one.
    created = await events(runtime, "article.created")
    assert sorted(e["article"]["title"] for e in created) == sorted(good)
    async with runtime.db.sessions() as session:
        quotes = int(await session.scalar(select(func.count(Quote.id))) or 0)
    assert quotes >= 3 and len(await events(runtime, "quote.created")) == quotes
    orchard = next(e["article"]["id"] for e in created if e["article"]["title"].startswith("Community orchard"))
    said = (await client.get(f"/v1/articles/{orchard}/quotes")).json()["items"]
    assert [q["speaker"] for q in said] == ["Teodora Vance"]
    [logged] = refusal_logs(caplog)
    assert (logged.feed_id, logged.guid) == (feed["id"], "valley-102")  # type: ignore[attr-defined]
    assert logged.url.endswith("/news/sluice")  # type: ignore[attr-defined]

    # A new entry: stored in one batch; the refused entry's page is not fetched again.
    caplog.clear()
    serve(feed_server, {**STORIES, "choir": LATE})
    polled = (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()
    assert polled["outcome"] == "ok" and polled["articles_created"] == 1, polled
    assert polled["feed"]["state"] == "ok" and "/news/sluice" in polled["feed"]["parse_warning"]
    assert not [r for r in caplog.records if "one by one" in r.getMessage()] and not refusal_logs(caplog)
    assert [r.path for r in feed_server.requests].count("/news/sluice") == 1

    # The feed edits the entry: it is tried again, stored, and the warning is gone.
    edited = {**STORIES, "sluice": ("Reservoir sluice gates reopen", "valley-102", STORIES["sluice"][2])}
    serve(feed_server, {**edited, "choir": LATE})
    polled = (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()
    assert polled["articles_created"] == 1 and polled["feed"]["parse_warning"] is None, polled
    assert "Reservoir sluice gates reopen" in await titles(client, feed["id"])
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(func.count(Article.id))) == 5
        assert await session.scalar(text("SELECT count(*) FROM feeds WHERE refused_entries IS NULL")) == 1


async def test_a_refused_edit_keeps_the_stored_version(runtime: Runtime, client: httpx.AsyncClient,
                                                     feed_server: FeedServer, refusing_title: str) -> None:
    stories = {k: v for k, v in STORIES.items() if k != "sluice"}
    feed = (await client.post("/v1/feeds", json={"url": serve(feed_server, stories)})).json()
    assert (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()["articles_created"] == 3
    bridge = stories["bridge"]
    serve(feed_server, {**stories, "bridge": (REFUSED_EDIT, *bridge[1:]), "choir": LATE})
    polled = (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()
    assert polled["outcome"] == "ok" and polled["articles_created"] == 1 and polled["articles_updated"] == 0
    assert polled["feed"]["state"] == "ok" and "/news/bridge" in polled["feed"]["parse_warning"]
    assert bridge[0] in await titles(client, feed["id"]) and LATE[0] in await titles(client, feed["id"])
    assert await events(runtime, "article.updated") == []


def failing_once(exc: Exception, calls: list[int]) -> Callable[..., Any]:
    real = store_drafts

    async def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(args[2]))
        if len(calls) == 1:
            raise exc
        return await real(*args, **kwargs)
    return failing


async def no_store_each(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("stored article by article")


def db_error(cls: type[DBAPIError], orig: Exception) -> DBAPIError:
    return cls("INSERT INTO articles ...", {}, orig)


async def test_a_transient_conflict_still_retries_the_whole_batch(
        client: httpx.AsyncClient, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(ingest_worker, "store_drafts",
                        failing_once(db_error(OperationalError, sqlite3.OperationalError("database is locked")), calls))
    monkeypatch.setattr(ingest_worker, "store_each", no_store_each)
    feed = (await client.post("/v1/feeds", json={"url": serve(feed_server, STORIES)})).json()
    polled = (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()
    assert polled["articles_created"] == 4 and polled["feed"]["parse_warning"] is None, polled
    assert calls == [4, 4]


async def test_a_full_disk_fails_the_poll_as_before(client: httpx.AsyncClient, feed_server: FeedServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    full = db_error(OperationalError, sqlite3.OperationalError("database or disk is full"))
    monkeypatch.setattr(ingest_worker, "store_drafts", failing_once(full, []))
    monkeypatch.setattr(ingest_worker, "store_each", no_store_each)
    feed = (await client.post("/v1/feeds", json={"url": serve(feed_server, STORIES)})).json()
    polled = (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()
    assert polled["outcome"] == "error" and polled["feed"]["state"] == "degraded", polled
    assert "OperationalError" in polled["feed"]["last_error"] and await titles(client, feed["id"]) == set()


def pg(sqlstate: str) -> Exception:
    return SimpleNamespace(sqlstate=sqlstate)  # type: ignore[return-value]


@pytest.mark.parametrize(("exc", "refused"), [
    (db_error(IntegrityError, sqlite3.IntegrityError("CHECK constraint failed")), True),
    (db_error(IntegrityError, sqlite3.IntegrityError("test: this title is refused")), True),
    (db_error(DataError, sqlite3.DataError("string or blob too big")), True),
    (db_error(OperationalError, sqlite3.OperationalError("database is locked")), False),
    (db_error(OperationalError, sqlite3.OperationalError("disk I/O error")), False),
    (db_error(DBAPIError, pg("22001")), True),  # value too long (asyncpg: a plain DBAPIError)
    (db_error(DBAPIError, pg("22021")), True),  # NUL in text
    (db_error(DBAPIError, pg("54000")), True),  # index row size exceeds btree maximum
    (db_error(DBAPIError, pg("P0001")), True),  # a trigger's RAISE EXCEPTION
    (db_error(IntegrityError, pg("23505")), True),
    (db_error(DBAPIError, pg("40P01")), False),  # deadlock: retried whole
    (db_error(DBAPIError, pg("53100")), False),  # disk full
    (db_error(DBAPIError, pg("57014")), False),  # statement timeout
    (db_error(DBAPIError, pg("08006")), False),  # connection failure
    (db_error(DBAPIError, pg("42703")), False),  # our SQL is wrong: every article would fail
    (ValueError("not from the database"), False),
])
def test_which_errors_are_a_refused_value(exc: Exception, refused: bool) -> None:
    assert refused_value(exc) is refused


NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ENTRY = FeedEntry(guid="valley-102", link="http://valley.test/news/sluice", title=REFUSED_TITLE, summary="Gates.",
                  content=None, author=None, published=None)


@pytest.mark.parametrize(("entries", "refused_at", "holds"), [
    ([ENTRY], NOW - timedelta(hours=1), True),
    ([replace(ENTRY, title="Reservoir gates reopen")], NOW - timedelta(hours=1), False),  # edited: tried again
    ([replace(ENTRY, summary="Gates, edited.")], NOW - timedelta(hours=1), False),
    ([ENTRY], NOW - REFUSAL_RETRY_AFTER, False),  # waited long enough: tried again
    ([], NOW - timedelta(hours=1), False),  # gone from the document: forgotten
])
def test_a_refusal_holds_until_the_entry_changes_or_a_day_passes(entries: list[FeedEntry], refused_at: datetime,
                                                                   holds: bool) -> None:
    known = (RefusedEntry(edition(ENTRY), "http://valley.test/news/sluice", refused_at),)
    assert bool(in_force(known, entries, NOW)) is holds


def test_refusals_stay_bounded_and_a_new_refusal_replaces_the_old() -> None:
    old = tuple(RefusedEntry(f"e{i}", f"u{i}", NOW) for i in range(60))
    kept = merged(old, [RefusedEntry("e3", "u3", NOW + timedelta(hours=1))])
    assert len(kept) == 50 and kept[-1].at == NOW + timedelta(hours=1) and [r.edition for r in kept].count("e3") == 1
