#!/usr/bin/env python3
"""Ingestion throughput: the real pipeline (poll, fetch, extract, dedup, quotes, store) against
a local synthetic site of FEEDS feeds x 20 entries with unique ~100 KB article pages, served by
uvicorn in a separate process. Then the time to poll 10,000 feeds of which 80% answer 304.

    python bench/ingest.py [--backend sqlite|postgres|both] [--feeds 1000] [--poll-feeds 10000]
                           [--site corpus|synthetic] [--before DIR]

--site corpus (the default): the pages carry the real news texts of ../shared/corpus (~75 KB
pages); synthetic: generated ~100 KB pages. A run ends when every feed has been polled once (the
corpus holds a few texts twice: those update an article rather than add one).

--before DIR: the same ingest runs with the code of another checkout (e.g. a worktree of main),
interleaved with this one's on the same site, in subprocesses (the `before` lines).

Beside the service, the same run times a bare reference pipeline on the same site (bench/bare.py:
two processes, aiohttp, feedparser, trafilatura fast, one batched SQLite+FTS5 insert per feed),
before and after the service's runs, and splits the service's CPU per article by stage (each
stage's function timed alone on 100 of the site's pages, in this process).

Last lines: `calibration cpu_loop_ms=...`, `bare articles_per_s=...`, then one per backend:
articles_per_s=... ratio_to_bare=... cpu_ms_per_article=... poll_10000_feeds_s=... backend=...

    python bench/ingest.py --index-cost PAIRS [--backend ...] [--feeds N]

measures what keeping the full-text index costs: PAIRS pairs of ingest runs with and without the
index, interleaved (ABBA order, so a drift in machine speed does not favour one side); each pair
gives a cost, and the last lines are `index_cost_median_pct=... pairs=... backend=...`.

All feeds live on one host here, so the per-host politeness limit is raised for the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
# --before runs this script again with another checkout's app package (BENCH_APP_ROOT).
sys.path.insert(0, os.environ.get("BENCH_APP_ROOT", str(ROOT)))

import procstat  # noqa: E402
from calibrate import cpu_loop_ms  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from app.config import Settings  # noqa: E402
from app.domain.feeds import FeedEntry  # noqa: E402
from app.domain.ingest import ArticleDraft  # noqa: E402
from app.domain.query import IndexText  # noqa: E402
from app.runtime import Runtime  # noqa: E402
from app.storage.migrate import upgrade_to_head  # noqa: E402
from app.storage.models import Article, Feed  # noqa: E402
from app.workers.ingest import IngestWorker  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_site(corpus: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """The synthetic site; with corpus, its articles are the real news texts under that folder."""
    port = free_port()
    env = {**os.environ, "SITEGEN_CORPUS": str(corpus)} if corpus else None
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "sitegen:app", "--port", str(port),
                             "--log-level", "warning", "--no-access-log"], cwd=ROOT / "bench", env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, base
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("site did not start")


def database(backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='ni-bench-')}/bench.db"
    name = f"ni_bench_{os.getpid()}_{int(time.time())}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                    f"CREATE DATABASE {name}"], check=True)
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def drop(url: str) -> None:
    if "postgresql" in url:
        name = url.rsplit("/", 1)[1]
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)
    else:  # the temporary folder database() made
        shutil.rmtree(Path(url.split("///", 1)[1]).parent, ignore_errors=True)


def cpu_seconds(runtime: Runtime) -> tuple[float, float]:
    """(CPU seconds of this process, of the extraction pool's processes): the pool's workers are
    this process's children other than the synthetic site, living or (killed, replaced) reaped."""
    pool = os.times().children_user + os.times().children_system
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or (SITE[0] is not None and int(entry.name) == SITE[0].pid):
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            pool += (int(fields[11]) + int(fields[12])) / tick
    return sum(os.times()[:2]), pool


def server_cpu_seconds(site: subprocess.Popen[bytes] | None) -> tuple[float, float]:
    """(CPU seconds of the synthetic site, of all PostgreSQL server processes) so far."""
    site_s = sum(p.cpu_s for p in procstat.processes() if site is not None and p.pid == site.pid)
    return site_s, procstat.postgres_cpu_s()


async def add_feeds(runtime: Runtime, base: str, count: int, etag_for: float = 0.0) -> None:
    now = runtime.clock()
    rows = [{"url": f"{base}/feed/{f}", "paused": False, "state": "ok", "interval_s": 1800, "next_poll_at": now,
             "consecutive_failures": 0, "polls": 0, "created_at": now, "updated_at": now,
             "etag": f'"f{f}"' if f < count * etag_for else None} for f in range(count)]
    async with runtime.db.transaction() as session:
        for start in range(0, len(rows), 1000):
            await session.execute(insert(Feed), rows[start:start + 1000])


async def run_until(runtime: Runtime, done: Callable[[], Awaitable[bool]]) -> float:
    stop = asyncio.Event()
    worker = IngestWorker(runtime)
    started = time.perf_counter()
    task = asyncio.create_task(worker.run(stop))
    while not await done():  # noqa: ASYNC110 - polling the database is the point
        await asyncio.sleep(0.5)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed


TUNING: dict[str, Any] = {}
SITE: list[subprocess.Popen[bytes] | None] = [None]


def _no_index_text(title: str | None, body: str | None, *, english: bool, fts5: bool = False,
                   tsvector: bool = False) -> IndexText:
    return IndexText(("", "", "") if fts5 else None, "" if tsvector else None)


def analyse_without_index(entry: FeedEntry, html: bytes | None, page_url: str | None, fetched_ok: bool,
                          now: datetime, tsvector: bool = False) -> ArticleDraft:
    """analyse_entry without search tokens (runs in the pool processes, for --no-index)."""
    import app.pipeline.analyse as analyse

    # Rebinds the name analyse_entry looks up; setattr, as pytest's monkeypatch does, since the
    # module imports index_text rather than exporting it (B010: the constant name is the point).
    setattr(analyse, "index_text", _no_index_text)  # noqa: B010
    return analyse.analyse_entry(entry, html, page_url, fetched_ok, now, tsvector)


async def _skip_index(*_args: object, alongside: Any = None, **_kwargs: object) -> Any:
    return None if alongside is None else await alongside  # the outbox write it carries still happens


def search_index(on: bool) -> None:
    """For the A/B figure only: ingestion with or without maintaining the full-text index."""
    import app.pipeline.analyse as analyse
    import app.pipeline.flow as flow
    import app.storage.ingest as storing
    import app.storage.search_index as index

    # The names flow and storing imported (not theirs to export), rebound as monkeypatch does
    setattr(flow, "analyse_entry", analyse.analyse_entry if on else analyse_without_index)  # noqa: B010
    setattr(storing, "write_index", index.write_index if on else _skip_index)  # noqa: B010


def settings_for(url: str, **extra: Any) -> Settings:
    # Any: the fields' input forms, which pydantic converts when Settings is built
    values: dict[str, Any] = {"database_url": url, "allowed_networks": ["127.0.0.0/8"],
                                 "per_host_concurrency": 64, "worker_concurrency": 48, "poll_batch_size": 48,
                                 "idle_sleep_s": 0.05, **TUNING}
    values.update(extra)
    return Settings(**values)


async def ingest_run(backend: str, base: str, feeds: int) -> str:
    url = database(backend)
    try:
        upgrade_to_head(url)
        runtime = Runtime.from_settings(settings_for(url))
        await add_feeds(runtime, base, feeds)
        await runtime.cpu.run("warm", len, "warm")  # start the extraction processes before timing
        expected = feeds * 20

        async def articles() -> int:
            async with runtime.db.sessions() as session:
                return int(await session.scalar(select(func.count(Article.id))) or 0)

        async def done() -> bool:
            # Every feed polled once (its state is saved in the transaction storing its articles).
            async with runtime.db.sessions() as session:
                waiting = await session.scalar(select(func.count(Feed.id)).where(Feed.polls < 1))
            return int(waiting or 0) == 0 or await articles() >= expected

        main0, pool0 = cpu_seconds(runtime)
        site0, db0 = server_cpu_seconds(SITE[0])
        elapsed = await run_until(runtime, done)
        main1, pool1 = cpu_seconds(runtime)
        site1, db1 = server_cpu_seconds(SITE[0])
        cpu = (main1 - main0) + (pool1 - pool0)
        stored = await articles()
        await runtime.close()
        rate = stored / elapsed
        print(f"[{backend}] {feeds} feeds, {stored} articles in {elapsed:.1f} s: {rate:.1f} articles/s, "
              f"{cpu / stored * 1000:.1f} ms CPU per article: {(main1 - main0) / stored * 1000:.1f} in the "
              f"service process (fetch, parse, store), {(pool1 - pool0) / stored * 1000:.1f} in the extraction "
              f"pool (extract, quotes, fingerprints, search tokens); besides: "
              + (f"{(db1 - db0) / stored * 1000:.1f} ms in PostgreSQL, " if backend == "postgres" else "")
              + f"{(site1 - site0) / stored * 1000:.1f} ms in the synthetic site")
        return f"articles_per_s={rate:.1f} cpu_ms_per_article={cpu / stored * 1000:.1f}"
    finally:
        drop(url)


async def not_modified_run(backend: str, base: str, feeds: int) -> str:
    url = database(backend)
    try:
        upgrade_to_head(url)
        runtime = Runtime.from_settings(settings_for(url, fetch_articles=False, extract_processes=0,
                                                     worker_concurrency=64, poll_batch_size=64))
        await add_feeds(runtime, base, feeds, etag_for=0.8)

        async def done() -> bool:
            async with runtime.db.sessions() as session:
                polled = await session.scalar(select(func.count(Feed.id)).where(Feed.polls >= 1))
            return int(polled or 0) >= feeds

        elapsed = await run_until(runtime, done)
        await runtime.close()
        print(f"[{backend}] polled {feeds} feeds (80% 304, 20% new feed documents) in {elapsed:.1f} s")
        return f"poll_{feeds}_feeds_s={elapsed:.1f}"
    finally:
        drop(url)


async def index_cost(backend: str, base: str, feeds: int, pairs: int) -> str:
    """Pairs of runs with and without the index, in ABBA order; the cost is 1 - (rate with) / (rate without)."""
    costs = []
    for pair in range(pairs):
        rates = {}
        for on in ((True, False) if pair % 2 == 0 else (False, True)):
            search_index(on)
            line = await ingest_run(backend, base, feeds)
            rates[on] = float(line.split()[0].split("=")[1])
        search_index(True)
        costs.append(100 * (1 - rates[True] / rates[False]))
        print(f"[{backend}] pair {pair + 1}: {rates[True]:.1f} articles/s with the index, {rates[False]:.1f} "
              f"without: cost {costs[-1]:.1f}%", flush=True)
    return f"index_cost_median_pct={statistics.median(costs):.1f} pairs={pairs}"


def bare_run(base: str, feeds: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "bare.py"), base, str(feeds)], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    rate = result["stored"] / result["seconds"]
    print(f"[bare] {feeds} feeds, {result['stored']} articles in {result['seconds']:.1f} s: {rate:.1f} articles/s, "
          f"{result['cpu_ms_per_article']:.1f} ms CPU per article", flush=True)
    return {**result, "rate": rate}


def before_run(checkout: Path, backend: str, base: str, feeds: int) -> str:
    """One ingest run with the app package of another checkout, in a subprocess of this script."""
    command = [sys.executable, __file__, "--backend", backend, "--feeds", str(feeds), "--base-url", base,
               *(arg for item in TUNING.items() for arg in ("--set", "=".join(map(str, item))))]
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         env={**os.environ, "BENCH_APP_ROOT": str(checkout.resolve())}).stdout
    for line in out.splitlines()[:-1]:
        print(f"[before] {line}", flush=True)
    return out.strip().splitlines()[-1].rsplit(" backend=", 1)[0]


def stage_split(base: str, pages: int = 400) -> str:
    """CPU ms per article of each CPU step, each timed alone in this process on the site's pages,
    and of the pool's whole task (`analyse_article`) run here: the pool's CPU per article beyond
    that is the hand-over and two processes sharing two cores with the service (the pages of the
    site's first feeds are shorter than its average: 100 of them gave about 25% less)."""
    import httpx

    from app.domain.query import index_text
    from app.pipeline.analyse import analyse_article, analyse_entry, quotes_of
    from app.pipeline.dedup import body_hash, simhash64
    from app.pipeline.extract import extract_page
    from app.pipeline.poll import parse_feed

    feeds = max(1, pages // 20)
    with httpx.Client() as client:
        bodies = [client.get(f"{base}/feed/{f}").content for f in range(feeds)]
        parsed = [parse_feed(b, {}, f"{base}/feed/{f}") for f, b in enumerate(bodies)]
        linked = [(e, e.link) for p in parsed for e in p.entries if e.link is not None][:pages]  # sitegen's all are
        entries = [e for e, _ in linked]
        htmls = [client.get(link).content for _, link in linked]
    timings: dict[str, float] = {}
    # the quote finder builds its word tables on first use (0.2-0.6 s, once per pool worker): built
    # here, on a sentence of our own, so that the per-article figure does not carry them
    quotes_of("Port director Jane Roe of North Harbour said on Monday that the delay was “entirely "
              "avoidable”, the Harbour Board said.", "Harbour Board USD")

    def timed(name: str, fn: Any, items: list[Any], per: int) -> list[Any]:
        started = time.process_time()
        out = [fn(item) for item in items]
        timings[name] = (time.process_time() - started) * 1000 / per
        return out

    now = datetime.now(UTC)
    timed("parse", lambda b: parse_feed(b, {}, base), bodies, len(entries))
    drafts = timed("analyse", lambda eh: analyse_entry(eh[0], eh[1], eh[0].link, True, now),
                   list(zip(entries, htmls, strict=True)), len(entries))
    timed("extract", lambda eh: extract_page(eh[1], eh[0].link), list(zip(entries, htmls, strict=True)),
          len(entries))
    texts = [d.text or "" for d in drafts]
    timed("dedup", lambda t: (body_hash(t), simhash64(t)), texts, len(texts))
    timed("index", lambda d: index_text(d.title, d.text, english=True, fts5=True), drafts, len(drafts))
    timed("quotes", lambda d: quotes_of(d.text or "", d.title), drafts, len(drafts))
    timed("task", lambda eh: analyse_article(analyse_entry, quotes_of, eh[0], eh[1], eh[0].link, True, now, False,
                                             10.0, 5.0, None), list(zip(entries, htmls, strict=True)), len(entries))
    other = timings["analyse"] - timings["extract"] - timings["dedup"] - timings["index"]
    return (f"pool steps per article (alone, {len(entries)} pages): parse {timings['parse']:.2f}, extract "
            f"{timings['extract']:.2f}, dedup fingerprints {timings['dedup']:.2f}, search tokens "
            f"{timings['index']:.2f}, other analysis {max(other, 0):.2f}, quotes {timings['quotes']:.2f} ms; "
            f"the pool's whole task in this process {timings['task']:.2f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--poll-feeds", type=int, default=10000)
    parser.add_argument("--no-index", action="store_true",
                        help="skip the full-text index (to measure what keeping it costs)")
    parser.add_argument("--index-cost", type=int, default=0, metavar="PAIRS",
                        help="instead: PAIRS interleaved pairs of runs with and without the index")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare reference pipeline")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a setting for the ingest run, e.g. --set worker_concurrency=48")
    parser.add_argument("--site", choices=["corpus", "synthetic"], default="corpus")
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="also run the ingest runs with the app package of checkout DIR (interleaved)")
    parser.add_argument("--base-url", help=argparse.SUPPRESS)  # --before's subprocesses: the running site
    args = parser.parse_args()
    TUNING.update(item.split("=", 1) for item in args.set)
    if args.no_index:
        search_index(False)
    if args.base_url:  # one ingest run for --before, on the caller's site; its CPU split is the caller's
        for backend in (["sqlite", "postgres"] if args.backend == "both" else [args.backend]):
            print(f"{await ingest_run(backend, args.base_url, args.feeds)} backend={backend}", flush=True)
        return
    site, base = start_site(CORPUS if args.site == "corpus" else None)
    SITE[0] = site
    lines = []
    calibration = [cpu_loop_ms()]
    bare: list[float] = []
    bare_cpu_ms: list[float] = []
    try:
        if not args.index_cost and not args.no_bare:
            result = bare_run(base, args.feeds)
            bare.append(result["rate"])
            bare_cpu_ms.append(result["cpu_ms_per_article"])
            print(stage_split(base), flush=True)
        for backend in (["sqlite", "postgres"] if args.backend == "both" else [args.backend]):
            if args.index_cost:
                lines.append(await index_cost(backend, base, args.feeds, args.index_cost))
                continue
            if args.before:
                lines.append(f"{before_run(args.before, backend, base, args.feeds)} backend={backend} code=before")
            line = await ingest_run(backend, base, args.feeds)
            if args.poll_feeds:
                line += " " + await not_modified_run(backend, base, args.poll_feeds)
            lines.append(f"{line} backend={backend}")
        if bare:
            result = bare_run(base, args.feeds)
            bare.append(result["rate"])
            bare_cpu_ms.append(result["cpu_ms_per_article"])
    finally:
        site.terminate()
    calibration.append(cpu_loop_ms())
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    print(f"calibration cpu_loop_ms={statistics.mean(calibration):.0f} (fixed pure-Python loop, before and after)")
    if bare:
        reference = statistics.mean(bare)
        print(f"bare articles_per_s={reference:.1f} cpu_ms_per_article={statistics.mean(bare_cpu_ms):.1f} "
              f"(runs: {', '.join(f'{b:.1f}' for b in bare)})")
        bare_cpu = statistics.mean(bare_cpu_ms)

        def ratios(line: str) -> str:
            fields = dict(f.split("=", 1) for f in line.split())
            # On a busy machine the rates are bounded by the share of the cores each run gets;
            # the CPU ratio says what an idle machine's rates would tend to.
            return line.replace(" cpu_ms_per_article", f" ratio_to_bare={float(fields['articles_per_s']) / reference:.2f}"
                                f" cpu_ratio_to_bare={bare_cpu / float(fields['cpu_ms_per_article']):.2f}"
                                " cpu_ms_per_article", 1)

        lines = [ratios(line) if "articles_per_s" in line else line for line in lines]
    for line in lines:
        print(line)


if __name__ == "__main__":
    asyncio.run(main())
