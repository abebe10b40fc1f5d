#!/usr/bin/env python3
"""What handing articles to the extraction pool costs: one task per article (analyse_article:
extraction, then quotes, as ingestion does now) against two (analyse_entry, then quotes_of, as it
did before), on the same pages of the local corpus site, interleaved (ABBA...), CPU time of this
process (the service's side: pickling, pebble's threads, the event loop) and of the pool's
workers, per article.

    python bench/handover.py [--rounds 4] [--feeds 15]

Last lines: `calibration cpu_loop_ms=...`, then one per way:
`way=one service_ms=... pool_ms=...` (medians over the rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import procstat
from calibrate import cpu_loop_ms
from ingest import CORPUS, start_site

from app.cpu_pool import CpuPool
from app.domain.feeds import FeedEntry
from app.pipeline.analyse import analyse_article, analyse_entry, quotes_of
from app.pipeline.poll import parse_feed


def pool_cpu_s(site_pid: int) -> float:
    """CPU seconds of this process's children (the pool's workers) other than the site."""
    return sum(p.cpu_s for p in procstat.processes() if p.ppid == os.getpid() and p.pid != site_pid)


def pages(feeds: int) -> tuple[list[tuple[FeedEntry, bytes]], int]:
    site, base = start_site(CORPUS)
    try:
        with httpx.Client() as client:
            entries = [e for f in range(feeds) for e in
                       parse_feed(client.get(f"{base}/feed/{f}").content, {}, f"{base}/feed/{f}").entries]
            return [(e, client.get(e.link).content) for e in entries if e.link], site.pid
    finally:
        site.terminate()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--feeds", type=int, default=15)
    args = parser.parse_args()
    calibration = [cpu_loop_ms()]
    articles, site_pid = pages(args.feeds)
    now = datetime.now(UTC)
    pool = CpuPool(2, {"extract": 10.0, "quotes": 5.0, "analyse": 16.0})

    async def two(entry: FeedEntry, html: bytes) -> None:
        draft = await pool.run("extract", analyse_entry, entry, html, entry.link, True, now, False)
        if draft.text:
            await pool.run("quotes", quotes_of, draft.text, draft.title)

    async def one(entry: FeedEntry, html: bytes) -> None:
        await pool.run("analyse", analyse_article, analyse_entry, quotes_of, entry, html, entry.link, True, now,
                       False, 10.0, 5.0, None)

    ways: dict[str, Callable[[FeedEntry, bytes], Awaitable[None]]] = {"two": two, "one": one}
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    try:
        await asyncio.gather(*(two(e, h) for e, h in articles[:20]))  # workers started and warm
        for turn in range(args.rounds):
            for name in (["two", "one"] if turn % 2 == 0 else ["one", "two"]):
                service0, pool0 = sum(os.times()[:2]), pool_cpu_s(site_pid)
                await asyncio.gather(*(ways[name](e, h) for e, h in articles))
                service = (sum(os.times()[:2]) - service0) * 1000 / len(articles)
                workers = (pool_cpu_s(site_pid) - pool0) * 1000 / len(articles)
                figures[name].append((service, workers))
                print(f"{name} task(s) per article: service process {service:.2f} ms, pool {workers:.2f} ms "
                      f"per article ({len(articles)} articles)", flush=True)
    finally:
        await pool.aclose()
    calibration.append(cpu_loop_ms())
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"calibration cpu_loop_ms={statistics.mean(calibration):.0f} (fixed pure-Python loop, before and after)")
    for name, runs in figures.items():
        print(f"way={name} service_ms={statistics.median(r[0] for r in runs):.2f} "
              f"pool_ms={statistics.median(r[1] for r in runs):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
