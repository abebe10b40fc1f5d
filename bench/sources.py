"""Benchmark parse_feed on generated news sitemaps and JSON Feeds (CPU seconds, one core).

    python bench/sources.py [--urls 1000,50000] [--repeat 3]

A news sitemap of N URLs (each with <news:news> and <lastmod>) and a JSON Feed 1.1 of N items
(~1 KB of content_html each), the documents our parsers meet; the RSS feed of the same items
through feedparser for comparison. Last line: ms_per_1000_news_urls=<x> ms_per_1000_json_items=<y>.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.pipeline.poll import parse_feed  # noqa: E402

BODY = "<p>The harbour council met on Monday &amp; voted on the <b>ferry</b> timetable.</p>" * 12


def news_sitemap(n: int) -> bytes:
    urls = "".join(
        f"<url><loc>https://harbour.example/2026/11/{i}/story-{i}.html</loc>"
        f"<lastmod>2026-11-20T10:{i % 60:02d}:00Z</lastmod><news:news><news:publication>"
        f"<news:name>Harbour Town Gazette</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>2026-11-20T10:{i % 60:02d}:00+00:00</news:publication_date>"
        f"<news:title>Story {i} about the harbour &amp; the town</news:title></news:news></url>\n"
        for i in range(n))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{urls}</urlset>').encode()


def json_feed(n: int) -> bytes:
    items = [{"id": f"https://harbour.example/{i}", "url": f"https://harbour.example/{i}", "title": f"Story {i}",
              "content_html": BODY, "date_published": f"2026-11-20T10:{i % 60:02d}:00Z", "tags": ["harbour"],
              "authors": [{"name": "Ines Okafor"}]} for i in range(n)]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Harbour", "items": items}).encode()


def rss(n: int) -> bytes:
    items = "".join(f"<item><title>Story {i}</title><link>https://harbour.example/{i}</link>"
                    f"<guid>https://harbour.example/{i}</guid><pubDate>Fri, 20 Nov 2026 10:{i % 60:02d}:00 GMT"
                    f"</pubDate><description><![CDATA[{BODY}]]></description></item>" for i in range(n))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour</title>{items}</channel></rss>'.encode()


def cpu_ms(body: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        parse_feed(body, {}, "https://harbour.example/feed")
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", default="1000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    per_1000: dict[str, float] = {}
    for n in (int(x) for x in args.urls.split(",")):
        for name, make in (("news sitemap", news_sitemap), ("JSON Feed", json_feed), ("RSS (feedparser)", rss)):
            body = make(n)
            ms = cpu_ms(body, args.repeat)
            per_1000[name] = ms * 1000 / n
            print(f"{name:18} {n:>6} entries {len(body) / 1e6:6.1f} MB  {ms:8.1f} ms CPU (median of {args.repeat})")
    print(f"ms_per_1000_news_urls={per_1000['news sitemap']:.1f} ms_per_1000_json_items={per_1000['JSON Feed']:.1f}")


if __name__ == "__main__":
    main()
