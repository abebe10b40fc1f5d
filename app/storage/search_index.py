"""The search index, written in the article's own transaction: one document per article, the
SQLite FTS5 row or the PostgreSQL tsvector (app.storage.search describes both and queries them).
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import String, Table, TypeDecorator, cast, column, table, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import TableClause

from app.domain.query import IndexText, index_text, is_english, tokens
from app.storage.models import Article
from app.storage.sqlite_driver import run_on_thread

ID_BITS = 30
ID_MASK = (1 << ID_BITS) - 1
MAX_SECONDS = 1 << 32
# SQLite: the length in characters of each FTS5 row's title and body (key = the FTS5 rowid), written
# beside the row, so relevance reads no texts (app.storage.search_counts). Migration 0010.
SIZES = "articles_fts_size"

T = TypeVar("T")


def aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def search_key(article_id: int, published_at: datetime) -> int:
    """The FTS5 rowid, newest first in ascending order: ``((2^32 - unix seconds) << 30) | (2^30 - 1 -
    id)``. Ascending because FTS5 walks a large doclist backwards by loading all of it: a query
    that ANDs a rare word with one that every article has took 30 ms descending, 0.4 ms ascending."""
    if not 0 <= article_id <= ID_MASK:
        raise ValueError(f"search: article id {article_id} does not fit the search key")
    return (second_key(published_at) << ID_BITS) | (ID_MASK - article_id)


def article_id_of(key: int) -> int:
    return ID_MASK - (key & ID_MASK)


def second_key(moment: datetime) -> int:
    seconds = min(MAX_SECONDS, max(0, int(moment.astimezone(UTC).timestamp())))
    return MAX_SECONDS - seconds


def meta_tokens(source: str | None, language: str | None, has_quotes: bool | None, feed_id: int | None, *,
          document: bool) -> list[str]:
    """Filter values as single FTS5 tokens: an intersection with one rare token is cheap, where
    a phrase over tokens that every article has ("src", "example", "com") is not. A document
    stores "len" and "lengb" for en-GB, so a filter on "en" or on "en-gb" both find it."""
    out = []
    if source:
        normalized = source.strip().lower().removeprefix("www.")
        out.append("s" + hashlib.sha1(normalized.encode()).hexdigest()[:16])
    if language:
        parts = tokens(language)
        if parts:
            out += (["l" + parts[0], "l" + "".join(parts)] if document else ["l" + "".join(parts)])
    if has_quotes is not None:
        out.append("qyes" if has_quotes else "qno")
    if feed_id is not None:
        out.append(f"f{feed_id}")
    return list(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class IndexDocument:
    """One article as the index stores it; build with `index_document`."""

    article_id: int
    published_at: datetime
    text: IndexText  # in the form of the database it goes to
    meta: str

    def fts5_row(self) -> tuple[int, str, str, str, str]:
        """The FTS5 row: (search key, title, body, stems, meta)."""
        assert self.text.fts5 is not None
        return (search_key(self.article_id, self.published_at), *self.text.fts5, self.meta)

    def tsvector(self) -> str:
        """The PostgreSQL tsvector literal: positions and weights, filter values as C lexemes."""
        assert self.text.tsvector is not None
        return " ".join([self.text.tsvector, *(f"'{t}':1C" for t in self.meta.split())])


def index_document(*, article_id: int, published_at: datetime, title: str | None, body: str | None,
                   source: str | None, language: str | None, quote_count: int, feed_id: int | None,
                   postgres: bool, text: IndexText | None = None) -> IndexDocument:
    """What the index of one database (`postgres` or SQLite) stores for one article. `text` is
    the title/body analysis when the caller has it already (ingestion makes it in the extraction
    pool); it is made here when missing or in the other database's form."""
    if text is None or (text.tsvector if postgres else text.fts5) is None:
        text = index_text(title, body, english=is_english(language), fts5=not postgres, tsvector=postgres)
    meta = meta_tokens(source, language, bool(quote_count), feed_id, document=True)
    return IndexDocument(article_id, published_at, text, " ".join(meta))


def article_document(article: Article, text: IndexText | None, *, postgres: bool) -> IndexDocument:
    return index_document(article_id=article.id, published_at=article.published_at, title=article.title,
                          body=article.text or article.summary, source=article.source, language=article.language,
                          quote_count=article.quote_count, feed_id=article.feed_id, postgres=postgres, text=text)


class _TsvectorLiteral(TypeDecorator[str]):
    """A tsvector written as its literal text and cast by the server."""

    impl = String
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return cast(bindvalue, TSVECTOR)


def uses_tsvector(dialect: str) -> bool:
    """Which form the index text takes (`IndexText`) for a database: PostgreSQL's tsvector, else
    SQLite's FTS5 columns."""
    return dialect == "postgresql"


def indexed_on_insert(session: AsyncSession) -> bool:
    """PostgreSQL keeps the index in a column of the article row: a new article's vector goes
    in its INSERT (see `insert_target`); an UPDATE afterwards would write the row and every one
    of its index entries twice. SQLite's FTS5 table is written after the insert."""
    return uses_tsvector(session.get_bind().dialect.name)


def insert_target(session: AsyncSession, articles: Table) -> Table | TableClause:
    """The table new article rows are inserted into: on PostgreSQL with its `search_vector`
    column (rows then carry `search_vector=IndexDocument.tsvector()`)."""
    if not indexed_on_insert(session):
        return articles
    return table(articles.name, *(column(c.name, c.type) for c in articles.columns),
                 column("search_vector", _TsvectorLiteral()))


async def write_index(session: AsyncSession, docs: Sequence[IndexDocument], *, replace: bool = True,
                      alongside: Awaitable[T] | None = None) -> T | None:
    """(Re)index stored articles, in the same transaction as their rows, with one statement per
    kind (executemany): a storing transaction holds SQLite's single write lock, so every round
    trip saved there is throughput. `replace=False` skips the delete (new articles, reindex).

    `alongside` is another write of the same transaction (its result is returned). On SQLite the
    new rows go to the database thread right beside it, so the lock waits for one round trip
    instead of two: each round trip also waits for the busy event loop to resume the writer."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and docs:
        await session.execute(text("UPDATE articles SET search_vector = CAST(:vector AS tsvector) WHERE id = :id"),
                              [{"vector": d.tsvector(), "id": d.article_id} for d in docs])
    if postgres or not docs:
        return None if alongside is None else await alongside
    rows = [d.fts5_row() for d in docs]
    if replace:
        keys = [{"key": r[0]} for r in rows]
        await session.execute(text("DELETE FROM articles_fts WHERE rowid = :key"), keys)
        await session.execute(text(f"DELETE FROM {SIZES} WHERE key = :key"), keys)
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    if alongside is None:
        await _fts_insert(driver, rows)
        return None
    inserting = asyncio.ensure_future(_fts_insert(driver, rows))
    try:
        result = await alongside
    except BaseException:
        await asyncio.wait([inserting])  # done before a rollback can reach the connection
        raise
    await inserting
    return result


async def _fts_insert(driver: Any, rows: list[tuple[Any, ...]]) -> None:
    """The FTS5 rows and their sizes through the aiosqlite connection itself, inside the session's
    transaction, in one hop to its thread."""
    await run_on_thread(driver, _insert_rows, rows, [(r[0], len(r[1]) + len(r[2])) for r in rows])


def _insert_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], sizes: list[tuple[int, int]]) -> None:
    # REPLACE: a size left behind by an FTS5 row removed without it (a test emptying the table)
    # is overwritten.
    conn.executemany("INSERT INTO articles_fts (rowid, title, body, stems, meta) VALUES (?, ?, ?, ?, ?)", rows)
    conn.executemany(f"INSERT OR REPLACE INTO {SIZES} (key, chars) VALUES (?, ?)", sizes)
