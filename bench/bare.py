#!/usr/bin/env python3
"""The bare reference pipeline that bench/ingest.py compares the service with, on the same
synthetic site in the same run: what the hardware does with the same libraries and none of the
service's features (no politeness, SSRF checks, budgets, dedup, quotes, leases, outbox, webhooks).

PROCESSES processes (default 2), each an asyncio loop with aiohttp: fetch a feed, parse it with
feedparser, fetch its pages, extract each with trafilatura in fast mode (on the loop: nothing else
needs it), then one batched insert per feed into SQLite with an FTS5 index (WAL, busy timeout).

    python bench/bare.py BASE_URL FEEDS [--processes 2]

Prints one JSON line: {"stored": ..., "seconds": ..., "cpu_ms_per_article": ...}.

Needs the bench extra (aiohttp): `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: only the benchmark's run needs the bench extra
    import aiohttp

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS articles (id INTEGER PRIMARY KEY, url TEXT UNIQUE, title TEXT, published TEXT,
                                     text TEXT);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(title, text, content='articles', content_rowid='id');
"""


async def _feed(session: aiohttp.ClientSession, base: str, f: int, db: sqlite3.Connection) -> int:
    import feedparser
    import trafilatura

    async with session.get(f"{base}/feed/{f}") as response:
        parsed = feedparser.parse(await response.read())

    async def page(url: str) -> str:
        async with session.get(url) as response:
            return await response.text()

    entries = [e for e in parsed.entries if e.get("link")]
    pages = await asyncio.gather(*(page(e.link) for e in entries))
    rows = []
    for entry, html in zip(entries, pages, strict=True):
        text = trafilatura.extract(html, fast=True) or entry.get("summary", "")
        rows.append((entry.link, entry.get("title"), entry.get("published"), text))
    with db:  # one transaction per feed
        for url, title, published, text in rows:
            cursor = db.execute("INSERT OR IGNORE INTO articles (url, title, published, text) VALUES (?, ?, ?, ?)",
                                (url, title, published, text))
            if cursor.rowcount:
                db.execute("INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
                           (cursor.lastrowid, title, text))
    return len(rows)


async def _worker(base: str, feeds: list[int], db_path: str, concurrency: int) -> None:
    import aiohttp

    db = sqlite3.connect(db_path, timeout=30)
    db.execute("PRAGMA synchronous=NORMAL")
    queue = list(feeds)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        async def loop() -> None:
            while queue:
                await _feed(session, base, queue.pop(), db)

        await asyncio.gather(*(loop() for _ in range(concurrency)))
    db.close()


def _process(base: str, feeds: list[int], db_path: str, concurrency: int) -> None:
    asyncio.run(_worker(base, feeds, db_path, concurrency))


def run(base: str, feeds: int, processes: int = 2, concurrency: int = 8) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="ni-bare-")
    db_path = str(Path(folder) / "bare.db")
    db = sqlite3.connect(db_path)
    db.executescript(SCHEMA)
    db.close()
    context = multiprocessing.get_context("fork")
    cpu0 = os.times()
    started = time.perf_counter()
    workers = [context.Process(target=_process, args=(base, list(range(p, feeds, processes)), db_path, concurrency))
               for p in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    cpu1 = os.times()
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    db = sqlite3.connect(db_path)
    stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    indexed = db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'the'").fetchone()[0]
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(db_path + suffix).unlink(missing_ok=True)
    os.rmdir(folder)
    return {"stored": stored, "indexed": indexed, "seconds": elapsed, "cpu_ms_per_article": 1000 * cpu / max(stored, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("feeds", type=int)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.base, args.feeds, args.processes)))


if __name__ == "__main__":
    main()
