"""Rebuilding the search index: articles read in batches, analysed in a process pool, written in order.

The analyser (app.domain.query.analyze) is pure Python and most of the cost of a rebuild, so it
runs in worker processes (spawned, as app.cpu_pool explains) on plain tuples, never ORM
objects: a batch goes out as (id, published_at, title, body, source, language, quote_count,
feed_id) rows and comes back as what the index stores. Each document is made by the same
`index_document` that ingestion uses, so a rebuilt index is the one indexing each article would
give. The parent process only reads, writes (`write_index`) and keeps a few batches in flight, so
reading and writing overlap with analysis.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.cpus import usable_cpus
from app.storage.models import Article
from app.storage.search_index import SIZES, IndexDocument, index_document, write_index

# (id, published_at, title, body, source, language, quote_count, feed_id)
SourceRow = tuple[int, datetime, str | None, str | None, str | None, str | None, int, int | None]


def analyse_rows(rows: Sequence[SourceRow], postgres: bool) -> list[IndexDocument]:
    """Worker side: what the index stores for each row (picklable in and out)."""
    return [index_document(article_id=article_id, published_at=published_at, title=title, body=body,
                           source=source, language=language, quote_count=quote_count, feed_id=feed_id,
                           postgres=postgres)
            for article_id, published_at, title, body, source, language, quote_count, feed_id in rows]


def default_processes() -> int:
    """One per CPU but one: this process needs a core of its own to read and write (SQLite's FTS5
    tokenizer runs here), and it is the slower side of the pipeline."""
    return max(1, usable_cpus() - 1)


def make_executor(processes: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))


_COLUMNS = (Article.id, Article.published_at, Article.title, Article.text, Article.summary, Article.source,
            Article.language, Article.quote_count, Article.feed_id)


async def read_batch(session: AsyncSession, after_id: int, batch: int) -> list[SourceRow]:
    """Articles with id > after_id, in id order, as plain tuples (Core select, no ORM objects)."""
    result = await session.execute(select(*_COLUMNS).where(Article.id > after_id).order_by(Article.id)
                                   .limit(batch))
    return [(i, p, t, body or summary, s, lang, q or 0, f) for i, p, t, body, summary, s, lang, q, f in result]


async def _clear_fts(session: AsyncSession) -> None:
    """Empty the FTS5 table by dropping and creating it again, as the migrations defined it (its
    statement from sqlite_master, its options from its config table), in this transaction.
    ``DELETE FROM articles_fts`` would re-tokenize every stored row to write delete markers, which
    costs as much as indexing it, and leave them for every later merge to carry."""
    create = (await session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' "
                                         "AND name = 'articles_fts'"))).scalar_one()
    options = (await session.execute(text("SELECT k, v FROM articles_fts_config WHERE k != 'version'"))).all()
    await session.execute(text("DROP TABLE articles_fts"))
    await session.execute(text(f"DELETE FROM {SIZES}"))  # a plain table: rows written again below
    await session.execute(text(create))
    for key, value in options:
        await session.execute(text("INSERT INTO articles_fts (articles_fts, rank) VALUES (:k, :v)"),
                              {"k": key, "v": value})


async def reindex(session: AsyncSession, *, batch: int = 500, progress: Callable[[int], Any] | None = None,
                  processes: int | None = None) -> int:
    """Clear the index and index every article again, in this session's transaction.

    `processes`: analysis processes (None: `default_processes()`; 0: analyse in this process).
    Batches are analysed in parallel and written in id order; `progress(n)` after each batch is
    written. A pool is started only when the first batch is full (a small index is done inline).
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres:
        await _clear_fts(session)
    # PostgreSQL: the index is a column of the article row, and every row this transaction can see
    # is written again below, so clearing it first would only rewrite the whole table twice.
    processes = default_processes() if processes is None else processes
    loop = asyncio.get_running_loop()
    executor: ProcessPoolExecutor | None = None
    pending: deque[asyncio.Future[list[IndexDocument]]] = deque()
    depth = max(2, 2 * processes)  # batches in flight: every worker busy while the parent writes
    done, last_id, exhausted = 0, 0, False
    try:
        while True:
            while not exhausted and len(pending) < depth:
                rows = await read_batch(session, last_id, batch)
                if not rows:
                    exhausted = True
                    break
                last_id = rows[-1][0]
                if executor is None and processes > 0 and len(rows) == batch:
                    executor = make_executor(processes)
                if executor is None:
                    future: asyncio.Future[list[IndexDocument]] = loop.create_future()
                    future.set_result(analyse_rows(rows, postgres))
                else:
                    future = loop.run_in_executor(executor, analyse_rows, rows, postgres)
                pending.append(future)
                if executor is None:
                    break  # analysed inline: write it before reading on
            if not pending:
                break
            analysed = await pending.popleft()
            await write_index(session, analysed, replace=False)
            done += len(analysed)
            if progress is not None:
                progress(len(analysed))
    finally:
        for future in pending:
            future.cancel()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    if not postgres:
        await session.execute(text("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')"))
    return done
