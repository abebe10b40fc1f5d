#!/usr/bin/env python3
"""Search latency at scale: synthetic English articles, the real index and the real query path.

    python bench/search.py --backend sqlite|postgres [--articles 1000000] [--queries 120] [--processes N]

1. Generates N articles (8-word title, ~60-word body in sentences) from a 30,000-word vocabulary
   with Zipf frequencies (s = 1) plus 600 two-word names; 3% are back-filled (published earlier
   than their id suggests); 200 sources, 90% English; a year of publication times.
2. Builds the search index the way `news-ingest search reindex` does, by calling the service's
   own rebuild (app.storage.reindex.reindex): articles read in batches, analysed in a process
   pool (as the product: one process per CPU but one; --processes), written as SQLite FTS5 rows or the PostgreSQL
   tsvector column (GIN index in place). index_build_s is that rebuild's wall time.
3. Runs a fixed mix of 1-, 2- and 3-word queries drawn from five frequency bands (top 50, 50-500,
   500-5,000, 5,000-30,000, names) through app.storage.search.search_articles, page size 20:
   relevance (no filter; language + last 30 days; one source) and newest first (no filter; a
   6-day window). Snippets are built as the API does.

Last line: relevance_p95_ms=... relevance_p99_ms=... recency_p99_ms=... backend=...
The database is kept (--reuse skips generation when it already holds N articles).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.query import parse_query  # noqa: E402
from app.storage.database import Database  # noqa: E402
from app.storage.migrate import upgrade_to_head  # noqa: E402
from app.storage.reindex import reindex  # noqa: E402
from app.storage.search import search_articles  # noqa: E402
from app.storage.search_plan import ArticleSearch  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 25, tzinfo=UTC)
VOCABULARY = 30_000
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "ea")]
BANDS = {"top50": (0, 50), "50-500": (50, 500), "500-5k": (500, 5000), "5k-30k": (5000, 30000)}


# ---------------------------------------------------------------- the corpus
class Corpus:
    def __init__(self, seed: int) -> None:
        rnd = random.Random(seed)
        words: set[str] = set()
        while len(words) < VOCABULARY:
            words.add("".join(rnd.choice(SYLLABLES) for _ in range(rnd.choice((1, 2, 2, 3, 3, 4)))))
        self.words = sorted(words, key=lambda w: (len(w), w))  # short words are the common ones
        rnd.shuffle(self.words[50:])
        weights = [1.0 / (rank + 1) for rank in range(VOCABULARY)]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)
        firsts = [w.capitalize() for w in rnd.sample(self.words[2000:], 60)]
        lasts = [w.capitalize() + "son" for w in rnd.sample(self.words[3000:], 300)]
        self.names = [f"{rnd.choice(firsts)} {last}" for last in lasts for _ in range(2)]
        self.sources = [f"{rnd.choice(self.words[100:])}{i}.example" for i in range(200)]
        self.rnd = rnd

    def sentence(self, n: int) -> str:
        picked = self.rnd.choices(self.words, cum_weights=self.cumulative, k=n)
        return picked[0].capitalize() + " " + " ".join(picked[1:]) + "."

    def article(self, i: int, count: int) -> tuple[str, str, str, str | None, datetime]:
        title = self.sentence(8)[:-1]
        parts = [self.sentence(12) for _ in range(5)]
        if self.rnd.random() < 0.3:
            parts[self.rnd.randrange(5)] += f" It was said by {self.rnd.choice(self.names)} on the record."
        age = (count - i) / count * 365 * 86400
        if self.rnd.random() < 0.03:
            age += self.rnd.uniform(0, 60 * 86400)  # back-filled: stored late, published earlier
        language = "en" if self.rnd.random() < 0.9 else self.rnd.choice(("fr", "de"))
        return title, " ".join(parts), self.rnd.choice(self.sources), language, NOW - timedelta(seconds=age)


def rows(corpus: Corpus, count: int, start: int, stop: int
         ) -> Iterator[tuple[int, str, str, str, str | None, datetime]]:
    for i in range(start, stop):
        title, body, source, language, published = corpus.article(i, count)
        yield i + 1, title, body, source, language, published


# ---------------------------------------------------------------- SQLite
def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it


def load_sqlite(path: Path, corpus: Corpus, count: int, processes: int | None) -> dict[str, float]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("DELETE FROM articles_fts")
    conn.execute("DELETE FROM articles")
    conn.commit()
    started = time.perf_counter()
    for start in range(0, count, 50_000):
        batch = list(rows(corpus, count, start, min(count, start + 50_000)))
        conn.executemany(
            "INSERT INTO articles (id, url, canonical_url, source, title, text, language, published_at, "
            "created_at, updated_at, story_id, revision, extraction, extraction_attempts, quote_count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'ok', 1, ?)",
            [(i, f"https://{s}/a/{i}", f"https://{s}/a/{i}", s, t, b, lang, _sqlite_time(p), _sqlite_time(p),
              _sqlite_time(p), i - (i % 7 == 0), int(i % 3 == 0))
             for i, t, b, s, lang, p in batch])
        conn.commit()
        print(f"  {start + len(batch):>9,} articles  {time.perf_counter() - started:6.0f} s", file=sys.stderr)
    conn.execute("DELETE FROM articles_fts")  # the articles' insert trigger, if any, is not what is measured
    conn.commit()
    conn.close()
    index_s = asyncio.run(build_index(f"sqlite+aiosqlite:///{path}", count, processes))
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    conn.close()
    return {"load_s": time.perf_counter() - started, "index_s": index_s}


async def build_index(url: str, count: int, processes: int | None) -> float:
    """The product's rebuild (what `news-ingest search reindex` runs), timed."""
    db = Database(url)
    shown = [0, time.perf_counter()]

    def progress(n: int) -> None:
        shown[0] += n
        if shown[0] % 100_000 < n or shown[0] == count:
            print(f"  indexed {shown[0]:>9,}  {time.perf_counter() - shown[1]:6.1f} s", file=sys.stderr)

    started = time.perf_counter()
    async with db.transaction() as session:
        await reindex(session, progress=progress, processes=processes)
    elapsed = time.perf_counter() - started
    await db.dispose()
    return elapsed


# ---------------------------------------------------------------- PostgreSQL
def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def load_postgres(dsn: str, url: str, corpus: Corpus, count: int, processes: int | None) -> dict[str, float]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("TRUNCATE articles RESTART IDENTITY CASCADE")
    conn.commit()
    started = time.perf_counter()
    columns = ("id, url, canonical_url, source, title, text, language, published_at, created_at, updated_at, "
               "story_id, revision, extraction, extraction_attempts, quote_count")
    for start in range(0, count, 50_000):
        buf = io.StringIO()
        for i, t, b, s, lang, p in rows(corpus, count, start, min(count, start + 50_000)):
            values = (i, f"https://{s}/a/{i}", f"https://{s}/a/{i}", s, t, b, lang, p.isoformat(), p.isoformat(),
                      p.isoformat(), i - (i % 7 == 0), 1, "ok", 1, int(i % 3 == 0))
            buf.write("\t".join(_copy_text(v) for v in values) + "\n")
        buf.seek(0)
        cur.copy_expert(f"COPY articles ({columns}) FROM STDIN", buf)
        conn.commit()
        print(f"  {min(count, start + 50_000):>9,} articles  {time.perf_counter() - started:6.0f} s", file=sys.stderr)
    cur.execute("SELECT setval(pg_get_serial_sequence('articles', 'id'), %s)", (count,))
    conn.commit()
    index_s = asyncio.run(build_index(url, count, processes))
    conn.autocommit = True
    t0 = time.perf_counter()
    cur.execute("VACUUM ANALYZE articles")
    vacuum_s = time.perf_counter() - t0
    conn.close()
    return {"load_s": time.perf_counter() - started, "index_s": index_s, "vacuum_s": vacuum_s}


def ensure_pg_database(name: str) -> str:
    import psycopg2

    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    base = PG_ADMIN.rsplit("/", 1)[0]
    return f"{base}/{name}"


# ---------------------------------------------------------------- queries
def query_mix(corpus: Corpus, n: int, seed: int) -> list[tuple[str, str]]:
    rnd = random.Random(seed + 1)
    bands = list(BANDS.values())
    out = []
    for i in range(n):
        size = 1 + i % 3
        words = []
        for j in range(size):
            kind = (i // 3 + j) % 5
            if kind == 4:
                words.append(rnd.choice(corpus.names).split()[1])
            else:
                lo, hi = bands[kind]
                words.append(corpus.words[rnd.randrange(lo, hi)])
        label = f"{size}w"
        out.append((label, " ".join(words)))
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


async def run_queries(url: str, corpus: Corpus, queries: list[tuple[str, str]]) -> dict[str, list[float]]:
    db = Database(url)
    timings: dict[str, list[float]] = {}
    variants = {  # each search but its query
        "relevance": ArticleSearch(sort="relevance"),
        "relevance+lang+30d": ArticleSearch(sort="relevance", language="en", published_after=NOW - timedelta(days=30)),
        "relevance+source": ArticleSearch(sort="relevance", source=corpus.sources[7]),
        "recency": ArticleSearch(sort="published"),
        "recency+window": ArticleSearch(sort="published", published_after=NOW - timedelta(days=100),
                                        published_before=NOW - timedelta(days=94)),
    }
    hits: dict[str, int] = {}
    for warm in (True, False):
        for label, q in queries[:20] if warm else queries:
            for name, variant in variants.items():
                params = replace(variant, query=parse_query(q))
                started = time.perf_counter()
                async with db.sessions() as session:
                    found, _ = await search_articles(session, params, cursor=None, limit=20)
                elapsed = (time.perf_counter() - started) * 1000
                if not warm:
                    timings.setdefault(name, []).append(elapsed)
                    timings.setdefault(f"{name} {label}", []).append(elapsed)
                    hits[name] = hits.get(name, 0) + len(found)
    await db.dispose()
    for name in variants:
        print(f"  {name}: {hits[name] / len(queries):.1f} hits per query on average", file=sys.stderr)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--path", default=None, help="SQLite file (default /tmp/ni-bench-search-N.db)")
    parser.add_argument("--reuse", action="store_true", help="Skip generation when the database is filled")
    parser.add_argument("--pg-database", default=None, help="PostgreSQL database (default ni_bench_search_N)")
    parser.add_argument("--processes", type=int, default=None,
                        help="Analysis processes for the index build (default: as the product, one per CPU but one)")
    parser.add_argument("--build-only", action="store_true", help="Build the index, run no queries")
    args = parser.parse_args()

    corpus = Corpus(args.seed)
    if args.backend == "sqlite":
        path = Path(args.path or f"/tmp/ni-bench-search-{args.articles}.db")
        url = f"sqlite+aiosqlite:///{path}"
    else:
        dsn = ensure_pg_database(args.pg_database or f"ni_bench_search_{args.articles}")
        url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    upgrade_to_head(url)
    existing = _count(args.backend, path if args.backend == "sqlite" else dsn)
    build: dict[str, float] = {}
    if not (args.reuse and existing == args.articles):
        print(f"generating {args.articles:,} articles ({args.backend})", file=sys.stderr)
        build = (load_sqlite(path, corpus, args.articles, args.processes) if args.backend == "sqlite"
                 else load_postgres(dsn, url, corpus, args.articles, args.processes))
        print("build: " + " ".join(f"{k}={v:.1f}" for k, v in build.items()), file=sys.stderr)
    if args.build_only:
        print(f"index_build_s={build.get('index_s', 0):.0f} articles={args.articles} backend={args.backend}")
        return

    queries = query_mix(corpus, args.queries, args.seed)
    timings = asyncio.run(run_queries(url, corpus, queries))
    print(f"{'variant':<30} {'n':>4} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (ms)")
    for name, values in timings.items():
        print(f"{name:<30} {len(values):>4} {statistics.median(values):8.1f} {percentile(values, 95):8.1f} "
              f"{percentile(values, 99):8.1f} {max(values):8.1f}")
    relevance = [v for k, vs in timings.items() if k.startswith("relevance") and " " not in k for v in vs]
    recency = [v for k, vs in timings.items() if k.startswith("recency") and " " not in k for v in vs]
    extra = f" index_build_s={build['index_s']:.0f}" if build else ""
    print(f"relevance_p95_ms={percentile(relevance, 95):.1f} relevance_p99_ms={percentile(relevance, 99):.1f} "
          f"recency_p99_ms={percentile(recency, 99):.1f}{extra} articles={args.articles} backend={args.backend}")


def _count(backend: str, where: object) -> int:
    try:
        if backend == "sqlite":
            with sqlite3.connect(str(where)) as conn:
                return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        import psycopg2

        conn = psycopg2.connect(str(where))
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM articles")
            n = int(cur.fetchone()[0])
        conn.close()
        return n
    except Exception:
        return -1


if __name__ == "__main__":
    main()
