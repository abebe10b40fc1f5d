"""Webhook fan-out benchmark: throughput to a local receiver, and ingest-to-delivery latency.

    python bench/webhooks.py [--database-url URL] [--workers N] [--articles 30] [--rate 100] [--seconds 10]

1. Matching: one event against 5,000 subscriptions, index vs a full scan (microseconds).
2. Throughput: 100 subscriptions (every one matches), `--articles` articles stored -> 100 x
   articles deliveries; `--workers` `news-ingest worker` processes deliver them to a receiver
   on 127.0.0.1 (a separate process: minimal asyncio HTTP/1.1 server answering 204).
3. Latency: 100 subscriptions filtered by feed (5 per feed, 20 feeds), articles stored at
   `--rate` per second (each with its outbox event, in one transaction) for `--seconds`;
   latency = receipt time - event time (the body's `timestamp`).

Last line: `deliveries_per_s=... p99_latency_s=... cpu_ms_per_delivery=...` (CPU of the worker
processes during the throughput run, divided by the deliveries).

A/B mode, `--ab REV [--pairs 4]`: throughput only, the workers of git revision REV (A, e.g. `main`;
its `app/` exported to a temporary folder and run in this venv: it needs the same database schema
and its dependencies installed) against the working tree (B), interleaved AB BA AB BA ... so that
the load of a shared machine falls on both alike. Prints each pair's deliveries/s and worker CPU
ms per delivery, then the medians and the median of the per-pair ratios B/A. Last line:
`deliveries_per_s=<B> baseline_deliveries_per_s=<A> ratio=... cpu_ms_per_delivery=<B>
baseline_cpu_ms_per_delivery=<A>`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.domain.subscriptions import EventFacts, SubscriptionIndex, SubscriptionSpec, naive_match  # noqa: E402

BIN = Path(sys.executable).with_name("news-ingest")


# --------------------------------------------------------------------------- receiver process


def _receiver_main(port_out: mp.connection.Connection) -> None:
    received: list[float] = []  # latency of each delivery (s)
    ids: set[str] = set()

    class Proto(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)  # a TCP server's: it writes
            self.t = transport
            self.buf = b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while True:
                head_end = self.buf.find(b"\r\n\r\n")
                if head_end < 0:
                    return
                head = self.buf[:head_end].decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                if len(self.buf) < head_end + 4 + length:
                    return
                body = self.buf[head_end + 4: head_end + 4 + length]
                self.buf = self.buf[head_end + 4 + length:]
                if head.startswith("GET /stats"):
                    out = json.dumps({"count": len(received), "unique": len(ids), "latencies": received}).encode()
                    self.t.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(out) + out)
                    continue
                if head.startswith("POST /reset"):
                    received.clear()
                    ids.clear()
                else:
                    now = time.time()
                    envelope = json.loads(body)
                    ts = datetime.fromisoformat(envelope["timestamp"].replace("Z", "+00:00")).timestamp()
                    received.append(now - ts)
                    for line in head.split("\r\n"):
                        if line.lower().startswith("webhook-id:"):
                            ids.add(line.split(":", 1)[1].strip() + head.split(" ")[1])
                self.t.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Proto, "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(serve())


def _get(port: int, path: str) -> dict[str, Any]:
    import urllib.request

    if path == "/reset":
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/reset", data=b"{}"), timeout=30)
        return {}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        stats: dict[str, Any] = json.loads(response.read())
        return stats


# --------------------------------------------------------------------------- matching


def bench_matching() -> tuple[float, float, int]:
    rng = random.Random(1)
    types = ["article.created", "article.updated", "quote.created"]
    specs = []
    for i in range(1, 5001):
        flt: dict[str, object] = {"feed_ids": rng.sample(range(1, 2000), 3)} if rng.random() < 0.98 else {}
        if rng.random() < 0.3:
            flt["languages"] = [rng.choice(["en", "de", "fr", "es"])]
        if rng.random() < 0.1:
            flt["q"] = rng.choice(["harbour", "storm", "budget"])
        specs.append(SubscriptionSpec.build(i, rng.sample(types, 2), flt))
    index = SubscriptionIndex(specs)
    events = [EventFacts("article.created", rng.randint(1, 2000), rng.choice(["en", "de"]), frozenset(),
                         "harbour storm report") for _ in range(2000)]
    t = time.perf_counter()
    matched = sum(len(index.match(e)) for e in events)
    indexed = (time.perf_counter() - t) / len(events) * 1e6
    t = time.perf_counter()
    assert matched == sum(len(naive_match(specs, e)) for e in events)
    naive = (time.perf_counter() - t) / len(events) * 1e6
    return indexed, naive, matched


# --------------------------------------------------------------------------- database work


async def setup(url: str, port: int, *, filtered: bool) -> list[int]:
    from app.runtime import Runtime
    from app.storage.models import Feed, Subscription
    from app.storage.subscriptions import create_subscription
    from tests.conftest import wipe

    rt = Runtime.from_settings(Settings(database_url=url))
    await wipe(rt)
    now = datetime.now(UTC)
    async with rt.db.transaction() as session:
        feeds = [Feed(url=f"https://feeds.example/{i}", next_poll_at=now + timedelta(days=30), created_at=now,
                      updated_at=now, paused=True) for i in range(20)]
        session.add_all(feeds)
        await session.flush()
        for i in range(100):
            flt = {"feed_ids": [feeds[i % 20].id]} if filtered else {}
            await create_subscription(session, url=f"http://127.0.0.1:{port}/hook/{i}", events=["article.created"],
                                      flt=flt, description=None, include_text=False, now=now)
        ids = [f.id for f in feeds]
        _ = Subscription
    await rt.close()
    return ids


async def store_articles(url: str, n: int, feed_ids: list[int], *, rate: float | None) -> None:
    """`n` articles, each with its outbox event in one transaction; `rate` per second if given."""
    from app.runtime import Runtime
    from app.storage.models import Article
    from app.storage.outbox import article_event, record_events

    rt = Runtime.from_settings(Settings(database_url=url))
    started = time.monotonic()
    per_tick = max(1, int((rate or n) / 10))
    done = 0
    while done < n:
        now = datetime.now(UTC)
        async with rt.db.transaction() as session:
            batch = []
            for _ in range(min(per_tick, n - done)):
                u = f"https://news.example/{done}-{random.random()}"
                article = Article(feed_id=feed_ids[done % len(feed_ids)], url=u, canonical_url=u, title=f"T {done}",
                                  language="en", published_at=now, created_at=now, updated_at=now)
                session.add(article)
                batch.append(article)
                done += 1
            await session.flush()
            await record_events(session, [article_event("article.created", a) for a in batch], now=now)
        if rate:
            target = started + done / rate
            await asyncio.sleep(max(0.0, target - time.monotonic()))
    await rt.close()


def start_workers(url: str, n: int, code: Path = ROOT) -> list[subprocess.Popen[bytes]]:
    """`n` worker processes running the `app` package found in `code` (this tree or a baseline)."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "NEWS_INGEST_ALLOWED_NETWORKS": "127.0.0.0/8",
                "NEWS_INGEST_ALLOW_HTTP_WEBHOOKS": "true", "NEWS_INGEST_EXTRACT_PROCESSES": "0",
                "NEWS_INGEST_IDLE_SLEEP_S": "0.05", "NEWS_INGEST_LOG_LEVEL": "WARNING",
                "NEWS_INGEST_WEBHOOK_PER_HOST_CONCURRENCY": "64", "PYTHONPATH": str(code)})
    return [subprocess.Popen([str(BIN), "worker"], env=env, cwd=code) for _ in range(n)]


def cpu_s(procs: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc)."""
    total = 0
    for p in procs:
        fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
    return total / os.sysconf("SC_CLK_TCK")


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(30)


def wait_count(port: int, expected: int, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _get(port, "/stats")["count"] >= expected:
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"bench: only {_get(port, '/stats')['count']} of {expected} deliveries arrived")


def throughput(url: str, port: int, articles: int, workers: int, code: Path = ROOT) -> tuple[float, float]:
    """(deliveries/s, worker CPU ms per delivery): workers are up and idle, then a backlog of
    `articles` articles (x 100 matching subscriptions) is committed at once."""
    feed_ids = asyncio.run(setup(url, port, filtered=False))
    _get(port, "/reset")
    expected = articles * 100
    procs = start_workers(url, workers, code)
    try:
        time.sleep(3.0)  # workers started and idle
        started, cpu_before = time.monotonic(), cpu_s(procs)
        asyncio.run(store_articles(url, articles, feed_ids, rate=None))
        finished = wait_count(port, expected, 300)
        cpu = cpu_s(procs) - cpu_before
    finally:
        stop_workers(procs)
    return expected / (finished - started), cpu / expected * 1000


def export_tree(rev: str) -> Path:
    """The `app` package of git revision `rev`, in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-ab-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "app"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def ab(url: str, port: int, args: argparse.Namespace) -> None:
    baseline = export_tree(args.ab)
    try:
        runs: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
        for pair in range(args.pairs):
            order = "AB" if pair % 2 == 0 else "BA"
            for side in order:
                runs[side].append(throughput(url, port, args.articles, args.workers,
                                             baseline if side == "A" else ROOT))
            (a, a_cpu), (b, b_cpu) = runs["A"][-1], runs["B"][-1]
            print(f"pair {pair + 1} ({order}): A {a:,.0f}/s {a_cpu:.3f} ms CPU/delivery, "
                  f"B {b:,.0f}/s {b_cpu:.3f} ms CPU/delivery, B/A {b / a:.3f}", flush=True)
    finally:
        shutil.rmtree(baseline, ignore_errors=True)
    med = {side: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
           for side, rs in runs.items()}
    ratio = statistics.median(b[0] / a[0] for a, b in zip(runs["A"], runs["B"], strict=True))
    print(f"A = {args.ab}, B = working tree, {args.pairs} pairs of {args.articles * 100} deliveries, "
          f"{args.workers} worker process(es): median A {med['A'][0]:,.0f}/s ({med['A'][1]:.3f} ms CPU), "
          f"B {med['B'][0]:,.0f}/s ({med['B'][1]:.3f} ms CPU), median ratio B/A {ratio:.3f}")
    print(f"deliveries_per_s={med['B'][0]:.0f} baseline_deliveries_per_s={med['A'][0]:.0f} ratio={ratio:.3f} "
          f"cpu_ms_per_delivery={med['B'][1]:.3f} baseline_cpu_ms_per_delivery={med['A'][1]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ab", metavar="REV", default=None, help="A/B throughput: git revision REV vs this tree")
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args()
    folder = None if args.database_url else tempfile.mkdtemp(prefix="bench-webhooks-")
    url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
    from app.storage.migrate import upgrade_to_head

    parent, child = mp.Pipe()
    receiver = mp.Process(target=_receiver_main, args=(child,), daemon=True)
    try:
        upgrade_to_head(url)
        receiver.start()
        port = parent.recv()
        if args.ab:
            ab(url, port, args)
            return
        indexed, naive, matched = bench_matching()
        print(f"matching: 5000 subscriptions, {indexed:.1f} us/event indexed vs {naive:.1f} us/event full scan "
              f"({matched / 2000:.0f} matches/event)")

        per_s, cpu_ms = throughput(url, port, args.articles, args.workers)
        print(f"throughput: {args.articles * 100} deliveries ({args.articles} articles x 100 subscriptions) by "
              f"{args.workers} worker process(es): {per_s:.0f}/s, {cpu_ms:.3f} ms worker CPU per delivery")

        # Latency at a steady ingest rate.
        feed_ids = asyncio.run(setup(url, port, filtered=True))
        _get(port, "/reset")
        procs = start_workers(url, args.workers)
        try:
            time.sleep(2.0)  # workers up
            n = int(args.rate * args.seconds)
            asyncio.run(store_articles(url, n, feed_ids, rate=args.rate))
            wait_count(port, n * 5, 120)
        finally:
            stop_workers(procs)
        lat = sorted(_get(port, "/stats")["latencies"])
        p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
        print(f"latency: {n} articles at {args.rate:g}/s, {len(lat)} deliveries (5 subscriptions/article): "
              f"p50={p50:.3f}s p99={p99:.3f}s max={lat[-1]:.3f}s")
        print(f"deliveries_per_s={per_s:.0f} p99_latency_s={p99:.3f} cpu_ms_per_delivery={cpu_ms:.3f}")
    finally:
        if receiver.is_alive():
            receiver.terminate()
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
