#!/usr/bin/env python3
"""API read throughput: `news-ingest api` (uvicorn, one or more processes) over a database of
ARTICLES articles stored by the real pipeline, loaded by aiohttp clients in a process of their own.

    python bench/api.py [--backend sqlite|postgres|both] [--articles 4000] [--concurrency 32]
                        [--seconds 15] [--processes 1] [--before DIR] [--fresh] [--site corpus|synthetic]
                        [--only KIND|PATHTEXT] [--per-kind]

The mix (fixed seed 17), with a read key: GET /v1/articles?limit=20 plain 25%, with q= one word
15%, with q= a two-word "phrase" 10%; /v1/articles/{id} 25%; /v1/quotes?limit=20 10%;
/v1/speakers?limit=20 10%; /v1/feeds?limit=20 5%.

--site corpus (the default): the articles are real news texts (../shared/corpus: news-text and
PolNeAR, about 1,400 texts, reused with varied titles, dates and one paragraph left out to reach
ARTICLES); a search word is the word at a random position of a random text (so common words are
searched more often, as by people), four letters or more; a phrase is two neighbouring words of a
text. --site synthetic: the earlier site of ~80 words, where every word is in nearly every
article (a worst case for search).

The databases are built once by ingesting the site (bench/sitegen.py, 20 articles per feed) with
the real pipeline and kept under /tmp (SQLite) and as PostgreSQL databases ni_bench_api[_corpus];
--fresh rebuilds.
--before DIR runs a second server from another source tree (e.g. `git archive main | tar -x -C DIR`)
on the same database, interleaved with this one (before, after, after, before), for a
before/after figure from one run on one machine state; with --cache off its response cache is
off too (the work itself on both sides), else on.

--cache on|off|both (default both): this code with its read cache (README, API: Conditional GET
and the response cache) on, off (NEWS_INGEST_READ_CACHE_MB=0; ETags still made), or both, in
ABBA order with --before. The mix is a fixed list of 4,000 paths every client walks in turn, so
after the first pass every request repeats an earlier one (the line `mix: ...` gives the distinct
paths per kind): with the database unchanged, a cache serves nearly all of them.

Last lines: `calibration cpu_loop_ms=...`, then one per backend:
`reads_per_s=... p50_ms=... p99_ms=... server_cpu_ms_per_read=... [postgres_cpu_ms_per_read=...]
[hit_rate=...] [first_asks=... repeat_p99_ms=...] [cache_off_reads_per_s=... cache_off_...] [before_reads_per_s=... before_...] backend=...`
(server CPU: the API processes, warm-up included; PostgreSQL's own CPU beside it; hit_rate: the
server's cache hits among the reads it answered, from its /metrics; first_asks: the measured
requests that asked a path for the first time in the run, which a cache cannot have answered;
repeat_p99_ms: the p99 of the others; the best run of each variant).
--per-kind adds a line `kind=... reads_per_s=... server_cpu_ms_per_read=... code=...` for each kind
of the mix measured alone and each variant (before the backend's line), which says where a read's
CPU goes.

Needs the bench extra (aiohttp): `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import procstat  # noqa: E402
from calibrate import cpu_loop_ms  # noqa: E402
from sitegen import article_text, corpus_texts  # noqa: E402

SEED = 17
CORPUS = ROOT.parent / "shared" / "corpus"
SITE = ["corpus"]  # --site: which articles the database holds
NAME = [""]  # --name: a suffix of the databases' names, for a copy of one's own


def pg_name() -> str:
    return "ni_bench_api" + ("_corpus" if SITE[0] == "corpus" else "") + (f"_{NAME[0]}" if NAME[0] else "")


def sqlite_dir() -> Path:
    return Path("/tmp/ni-bench-api" + ("-corpus" if SITE[0] == "corpus" else "") + (f"-{NAME[0]}" if NAME[0] else ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url(backend: str) -> str:
    if backend == "sqlite":
        sqlite_dir().mkdir(exist_ok=True)
        return f"sqlite+aiosqlite:///{sqlite_dir()}/bench.db"
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_name()}"


# ---------------------------------------------------------------- the database
async def count_articles(url: str) -> int:
    from sqlalchemy import func, select

    from app.storage.database import Database
    from app.storage.models import Article

    db = Database(url)
    try:
        async with db.sessions() as session:
            return int(await session.scalar(select(func.count(Article.id))) or 0)
    except Exception:  # no database or no tables yet
        return -1
    finally:
        await db.dispose()


def reset(backend: str, url: str) -> None:
    from app.storage.migrate import upgrade_to_head

    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_dir()}/bench.db{suffix}").unlink(missing_ok=True)
    else:
        for sql in (f"DROP DATABASE IF EXISTS {pg_name()} WITH (FORCE)", f"CREATE DATABASE {pg_name()}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True)
    upgrade_to_head(url)


async def build(backend: str, url: str, articles: int) -> None:
    """Ingests ARTICLES / 20 feeds of the site's articles with the real pipeline (quotes, speakers, index)."""
    import ingest as bench_ingest  # bench/ingest.py: the synthetic site and the ingest loop

    from app.runtime import Runtime

    site, base = bench_ingest.start_site(CORPUS if SITE[0] == "corpus" else None)
    try:
        runtime = Runtime.from_settings(bench_ingest.settings_for(url))
        await bench_ingest.add_feeds(runtime, base, articles // 20)

        seen: list[int] = []

        async def done() -> bool:
            # The corpus holds a few texts twice (an exact duplicate updates the stored article),
            # so the build also ends when the count has not moved for 10 s, almost complete.
            seen.append(await count_articles(url))
            return seen[-1] >= articles or (seen[-1] >= 0.99 * articles and len(seen) > 20 and seen[-21] == seen[-1])

        elapsed = await bench_ingest.run_until(runtime, done)
        await runtime.close()
        print(f"[{backend}] built: {articles} articles in {elapsed:.0f} s", flush=True)
    finally:
        site.terminate()


async def read_key(url: str) -> str:
    from app.runtime import utcnow
    from app.storage.database import Database
    from app.storage.keys import create_key

    db = Database(url)
    async with db.transaction() as session:
        _, plain = await create_key(session, scope="read", name="bench", now=utcnow())
    await db.dispose()
    return plain


# ---------------------------------------------------------------- the mix
def stored_texts() -> list[tuple[str, list[str]]]:
    """The texts of the SQLite bench database's articles, when the corpus's texts are not there
    (the mix is then drawn from the same texts as stored: each reused about three times, so a
    different but like mix). Sorted, so the mix does not depend on the order they were stored in."""
    import sqlite3

    path = sqlite_dir() / "bench.db"
    if not path.exists():
        raise SystemExit(f"no texts for the mix: {CORPUS} holds none and {path} does not exist")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT title, text FROM articles WHERE text IS NOT NULL ORDER BY title, text").fetchall()
    return [(title or "", text.split("\n\n")) for title, text in rows]


def search_words(rnd: random.Random) -> tuple[Callable[[], str], Callable[[], str]]:
    """(one word, a two-word phrase) pickers over the site's texts."""
    if SITE[0] == "synthetic":
        words = [w for w in " ".join(article_text(f, e)[1] for f in range(3) for e in range(3)).split()
                 if w.isalpha() and len(w) > 3]

        def synthetic_phrase() -> str:
            i = rnd.randrange(len(words) - 1)
            return f"{words[i]} {words[i + 1]}"
        return lambda: rnd.choice(words), synthetic_phrase
    # Tokens of each text in order, None where punctuation or a short word breaks the run.
    texts: list[list[str | None]] = [[w if w.isalpha() and len(w) > 3 else None for w in re.findall(r"[^\W\d_]+|\S", " ".join(paras))]
             for _, paras in corpus_texts(str(CORPUS)) or stored_texts()]

    def word() -> str:
        while True:
            tokens = rnd.choice(texts)
            if found := tokens[rnd.randrange(len(tokens))]:
                return found

    def phrase() -> str:
        while True:
            tokens = rnd.choice(texts)
            i = rnd.randrange(len(tokens) - 1)
            if tokens[i] and tokens[i + 1]:
                return f"{tokens[i]} {tokens[i + 1]}"
    return word, phrase


KINDS = ("plain", "word", "phrase", "id", "quotes", "speakers", "feeds")  # the mix's parts, for --only
KIND_OF = (("phrase", "/v1/articles?limit=20&q=%22"), ("word", "/v1/articles?limit=20&q="), ("plain", "/v1/articles?"),
           ("id", "/v1/articles/"), ("quotes", "/v1/quotes"), ("speakers", "/v1/speakers"), ("feeds", "/v1/feeds"))


def request_mix(articles: int, n: int = 4000, only: str | None = None) -> list[str]:
    """The mix's paths; `only` keeps one kind (a name of KINDS) or the paths holding that text."""
    rnd = random.Random(SEED)
    word, phrase = search_words(rnd)
    paths: list[tuple[str, str]] = []
    for _ in range(n):
        pick = rnd.random()
        if pick < 0.25:
            paths.append(("plain", "/v1/articles?limit=20"))
        elif pick < 0.40:
            paths.append(("word", f"/v1/articles?limit=20&q={quote_plus(word())}"))
        elif pick < 0.50:
            paths.append(("phrase", f"/v1/articles?limit=20&q={quote_plus(chr(34) + phrase() + chr(34))}"))
        elif pick < 0.75:
            paths.append(("id", f"/v1/articles/{rnd.randint(1, articles)}"))
        elif pick < 0.85:
            paths.append(("quotes", "/v1/quotes?limit=20"))
        elif pick < 0.95:
            paths.append(("speakers", "/v1/speakers?limit=20"))
        else:
            paths.append(("feeds", "/v1/feeds?limit=20"))
    return [p for kind, p in paths if only is None or only == kind or (only not in KINDS and only in p)]


# ---------------------------------------------------------------- the loader (its own process)
async def load(base: str, key: str, paths: list[str], concurrency: int, seconds: float, warmup: float) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    repeats: list[float] = []  # requests of a path asked before (a server cache's hits, once it is warm)
    errors: dict[str, int] = {}
    counter = iter(range(10**9))
    first_ask = {p: i for i, p in reversed(list(enumerate(paths)))}
    measuring = False
    stop_at = time.perf_counter() + warmup + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        while (now := time.perf_counter()) < stop_at:
            i = next(counter)
            path = paths[i % len(paths)]
            async with session.get(base + path) as response:
                await response.read()
                if response.status != 200:
                    what = f"{response.status} {path.split('?')[0]}"
                    errors[what] = errors.get(what, 0) + 1
            if measuring:
                latencies.append(time.perf_counter() - now)
                if i != first_ask[path]:
                    repeats.append(latencies[-1])

    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        tasks = [asyncio.create_task(client(session)) for _ in range(concurrency)]
        await asyncio.sleep(warmup)
        measuring = True
        started = time.perf_counter()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    latencies.sort()
    repeats.sort()
    return {"reads": len(latencies), "seconds": elapsed, "errors": errors,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            "first_asks": len(latencies) - len(repeats),
            "repeat_p99_ms": 1000 * repeats[int(len(repeats) * 0.99)] if repeats else None}


def postgres_cpu_s() -> float:
    """CPU seconds of all PostgreSQL server processes so far (the backend's share of a read)."""
    return procstat.postgres_cpu_s()


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn's worker processes)."""
    return sum(p.cpu_s for p in procstat.processes() if pid in (p.pid, p.ppid))


def start_server(url: str, source: Path, processes: int,
                 settings: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "NEWS_INGEST_DATABASE_URL": url, "NEWS_INGEST_LOG_LEVEL": "INFO",
           "PYTHONPATH": str(source), **settings}
    args = ["api", "--port", str(port)] + (["--processes", str(processes)] if processes > 1 else [])
    proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", *args], cwd=source, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(900):  # 90 s: on a machine shared by several suites an import alone took 30 s
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, base
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"the server from {source} exited with {proc.returncode}") from None
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def cache_counts(base: str) -> dict[str, float]:
    """The server's read-cache counters (/metrics: news_ingest_read_cache_total by result)."""
    import urllib.request

    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return {m[1]: float(m[2]) for m in re.finditer(r'^news_ingest_read_cache_total\{result="(\w+)"\} (\S+)$', text, re.M)}


def measure(url: str, source: Path, key: str, articles: int, args: argparse.Namespace,
            only: str | None = None, cache: bool = True) -> dict[str, Any]:
    only = only or args.only
    server, base = start_server(url, source, args.processes, {} if cache else {"NEWS_INGEST_READ_CACHE_MB": "0"})
    try:
        cpu0, db0 = tree_cpu_s(server.pid), postgres_cpu_s()
        out = subprocess.run([sys.executable, __file__, "--load", base, "--key", key, "--articles", str(articles),
                              "--concurrency", str(args.concurrency), "--seconds", str(args.seconds),
                              "--warmup", str(args.warmup), "--site", SITE[0], "--name", NAME[0]] + (["--only", only] if only else []),
                             check=True, capture_output=True, text=True).stdout
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])  # the loader's JSON line
        # The warm-up's CPU is included; the reads counted are the measured ones plus the warm-up's
        # estimate, so this is the CPU per read over the whole load.
        cpu, db_cpu = tree_cpu_s(server.pid) - cpu0, postgres_cpu_s() - db0
        total_s = result["seconds"] + args.warmup
        reads = result["reads"] * total_s / result["seconds"]
        result["server_cpu_ms_per_read"] = 1000 * cpu / reads
        result["db_cpu_ms_per_read"] = 1000 * db_cpu / reads if "postgresql" in url else None
        result["reads_per_s"] = result["reads"] / result["seconds"]
        # Hits among the reads the cache could answer (the warm-up's included); None where the
        # server has no cache (code before it). One process: --processes N reports one of them.
        counts = cache_counts(base)
        answered = counts.get("hit", 0) + counts.get("miss", 0) + counts.get("not_modified", 0)
        result["hit_rate"] = counts.get("hit", 0) / answered if counts and answered else None
        if result["errors"]:
            raise RuntimeError(f"non-200 answers: {result['errors']}")
        return result
    finally:
        server.terminate()
        server.wait()


def line(r: dict[str, Any], prefix: str = "") -> str:
    return (f"{prefix}reads_per_s={r['reads_per_s']:.0f} {prefix}p50_ms={r['p50_ms']:.1f} {prefix}p99_ms={r['p99_ms']:.1f} "
            f"{prefix}server_cpu_ms_per_read={r['server_cpu_ms_per_read']:.2f}"
            + (f" {prefix}postgres_cpu_ms_per_read={r['db_cpu_ms_per_read']:.2f}" if r["db_cpu_ms_per_read"] is not None else "")
            + (f" {prefix}hit_rate={r['hit_rate']:.3f}" if r["hit_rate"] is not None else "")
            + (f" {prefix}first_asks={r['first_asks']} {prefix}repeat_p99_ms={r['repeat_p99_ms']:.1f}"
               if r.get("repeat_p99_ms") is not None else ""))


def repeats(paths: list[str]) -> str:
    """How the mix repeats itself: distinct paths of each kind, and the share of the first pass
    over the list a cache could serve (each path's second and later requests)."""
    kinds = [next(k for k, prefix in KIND_OF if p.startswith(prefix) and (k != "plain" or "&q=" not in p)) for p in paths]
    by_kind = {k: (kinds.count(k), len({p for p, pk in zip(paths, kinds, strict=True) if pk == k})) for k in KINDS}
    repeated = 1 - len(set(paths)) / len(paths)
    return (f"mix: {len(paths)} requests, cycled by every client; distinct paths per kind (requests/distinct): "
            + ", ".join(f"{k} {n}/{d}" for k, (n, d) in by_kind.items())
            + f"; repeats within one pass: {100 * repeated:.0f}%, every request after the first pass")


def run_backend(backend: str, args: argparse.Namespace) -> list[str]:
    url = database_url(backend)
    if args.fresh or asyncio.run(count_articles(url)) < 0.99 * args.articles:
        reset(backend, url)
        asyncio.run(build(backend, url, args.articles))
        if backend != "sqlite":
            # Statistics now: with autovacuum off (as on the development VM) the tables had none,
            # and the search probe read every article by primary key instead of the newest by
            # ix_articles_published.
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", pg_name(), "-qc", "ANALYZE"],
                           check=True)
    else:
        # A kept database may predate this code's last migration (`news-ingest api` does not
        # migrate: a missing column answered 500s).
        from app.storage.migrate import upgrade_to_head

        upgrade_to_head(url)
    key = asyncio.run(read_key(url))
    stored = asyncio.run(count_articles(url))  # ids 1..stored: the mix's /v1/articles/{id} draws from them
    # Variants: the code before (--before), this code with its read cache off and on; ABBA order.
    variants: dict[str, tuple[Path, bool]] = {}
    if args.before:  # with the cache as asked (--cache off: the code before without its cache too)
        variants["before"] = (Path(args.before).resolve(), args.cache != "off")
    if args.cache in ("off", "both"):
        variants["cache off"] = (ROOT, False)
    if args.cache in ("on", "both"):
        variants["cache on"] = (ROOT, True)
    order = [*variants, *reversed(variants)] if len(variants) > 1 else [*variants]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for name in order:
        source, cache = variants[name]
        r = measure(url, source, key, stored, args, cache=cache)
        results[name].append(r)
        print(f"[{backend}] {name}: {line(r)} (concurrency {args.concurrency}, {args.processes} process(es))",
              flush=True)
    lines = []
    if args.per_kind:
        for kind in KINDS:
            for name in order[:len(variants)]:
                source, cache = variants[name]
                r = measure(url, source, key, stored, args, only=kind, cache=cache)
                lines.append(f"kind={kind} {line(r)} backend={backend} code={name.replace(' ', '_')}")
                print(f"[{backend}] {lines[-1]}", flush=True)
    best = {name: max(runs, key=lambda r: r["reads_per_s"]) for name, runs in results.items()}
    # The last line of a backend: this code as configured by default (cache on), then with the
    # cache off and the code before, when measured (best run of each).
    main_name = "cache on" if "cache on" in best else "cache off"
    extra = [line(best[name], prefix) for name, prefix in (("cache off", "cache_off_"), ("before", "before_"))
             if name in best and name != main_name]
    lines.append(" ".join([line(best[main_name]), *extra, f"backend={backend}"]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--articles", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--processes", type=int, default=1, help="news-ingest api --processes")
    parser.add_argument("--before", help="source tree of the code to compare with (same database)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the databases")
    parser.add_argument("--site", choices=["corpus", "synthetic"], default="corpus",
                        help="real news texts (default) or the synthetic ~80-word site")
    parser.add_argument("--only", help=f"only one kind of the mix ({', '.join(KINDS)}) or the requests whose "
                        "path holds this text (for profiling)")
    parser.add_argument("--per-kind", action="store_true",
                        help="also measure each kind of the mix alone: server CPU per read of each kind")
    parser.add_argument("--name", default="", help="suffix of the databases' names (ni_bench_api_corpus_NAME, "
                        "/tmp/ni-bench-api-corpus-NAME): a copy of one's own beside other users of the machine")
    parser.add_argument("--cache", choices=["on", "off", "both"], default="both",
                        help="this code's read cache (NEWS_INGEST_READ_CACHE_MB=0 turns it off)")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # internal: run as the loader process
    parser.add_argument("--key", help=argparse.SUPPRESS)
    args = parser.parse_args()
    SITE[0] = args.site
    NAME[0] = args.name
    if args.site == "corpus" and not CORPUS.is_dir():
        parser.error(f"--site corpus needs the texts at {CORPUS}; use --site synthetic")
    if args.load:
        result = asyncio.run(load(args.load, args.key, request_mix(args.articles, only=args.only), args.concurrency,
                                  args.seconds, args.warmup))
        print(json.dumps(result))
        return
    calibration = [cpu_loop_ms()]
    lines = []
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        lines += run_backend("postgresql" if backend == "postgres" else backend, args)
    calibration.append(cpu_loop_ms())
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"site: {args.site}, {args.articles} articles; the mix's words from "
          + ("the corpus" if SITE[0] == "synthetic" or corpus_texts(str(CORPUS)) else "the stored articles"))
    print(repeats(request_mix(args.articles, only=args.only)))
    print(f"calibration cpu_loop_ms={statistics.mean(calibration):.0f} (fixed pure-Python loop, before and after)")
    for text in lines:
        print(text)


if __name__ == "__main__":
    main()
