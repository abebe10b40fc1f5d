#!/usr/bin/env python3
"""Hostile input against a running service: does anything stall it?

Starts `news-ingest serve` (uvicorn, workers and CPU pools as in production) on a fresh database
and a local hostile site in this process, then, while a thread asks GET /readyz every 20 ms:

    quotes-typical / quotes-1kb ... quotes-200kb   POST /v1/quotes:extract, a news-like text and
                                                   alternating quote marks (quadratic before issue 12)
    feed-50000-entries                             register a 50,000-entry feed; the worker polls it
    feed-deep-xml                                  the same with 100,000 nested elements
    discovery-slowloris                            register a URL that drips one byte a second,
                                                   while a PATCH of another feed is timed
    discovery-slow-alternates                      a page advertising feeds that all drip

and round 2 (bodies and pages whose cost grew with their size on the event loop):

    body-2mb-unauthenticated                       2 MB of JSON `[[],[],...]` without a key: 413 unread
    body-6mb-quotes-extract                        6 MB of it to POST /v1/quotes:extract: parsed in the pool
    body-9mb-opml-json                             9 MB of it as the OPML import's JSON form
    body-5000-fields                               a JSON body of 5,000 unknown fields: one error
    feed-quotes-1x200kb / feed-quotes-10x200kb     entries of 200 KB of quote marks (1,000 quotes and
                                                   events each), a webhook subscribed to every quote
    feed-60-long-texts / search-60-long-texts      60 entries of 120 KB of text, then a page of 60 hits
                                                   whose snippets fall back on the title
    opml-import-20000 / opml-export-20000          an OPML import of 20,000 feeds, then the export of them
                                                   (last: the worker then polls the 20,000 feeds)

For each it prints the answer, the worst /readyz latency in its window, the worst latency of an
idle control server probed the same way (what the machine alone adds: on two shared cores the
pools' work and other processes delay any process's wake-ups) and the CPU seconds the service (its
process and its pool processes) spent. Last line:

    readyz_worst_ms=... readyz_idle_ms=... control_worst_ms=... cpu_s_quotes_200kb=... ... readyz_ms_quotes_200kb=...
    ... backend=sqlite|postgresql

    python bench/hostile.py [--database-url postgresql+asyncpg://postgres@127.0.0.1/some_db]

With --database-url the database is used as it is (it should be empty or a scratch one); without
it a temporary SQLite file is used and removed.
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import procstat

ROOT = Path(__file__).resolve().parents[1]
QUOTE_SIZES_KB = (1, 8, 64, 200)
TYPICAL = " ".join(
    f'The council met on day {n} to discuss the harbour. "We will keep the ferry running through the winter," '
    f"said Mara Lindqvist, the council's transport lead. Residents asked about the fares, and the board "
    f"said it would publish its figures next month." for n in range(20))[:5000]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- the hostile site


def big_feed(base: str, entries: int = 50_000) -> bytes:
    items = "".join(f"<item><title>Item {n}</title><link>{base}/p/{n}</link><guid>g{n}</guid>"
                    f"<pubDate>Fri, 20 Nov 2026 {n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d} GMT</pubDate>"
                    "</item>" for n in range(entries))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


def quote_feed(base: str, name: str, entries: int, kb: int = 200) -> bytes:
    """Entries of `kb` KB of alternating quote marks: a quote every three characters."""
    text = ('"a ' * (kb * 350))[:kb * 1024]
    items = "".join(f"<item><title>Notice {name} {n}</title><link>{base}/{name}/{n}</link><guid>{name}-{n}</guid>"
                    f"<description>{text}</description></item>" for n in range(entries))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'.encode()


def long_text_feed(base: str, entries: int = 60) -> bytes:
    """Entries of 120 KB of text whose only match for "harbour" is at the very end."""
    text = "a " * 60_000 + "harbour"
    items = "".join(f"<item><title>Harbour notice {n}</title><link>{base}/long/{n}</link><guid>long-{n}</guid>"
                    f"<description>{text}</description></item>" for n in range(entries))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Long</title>{items}</channel></rss>'.encode()


def opml(base: str, feeds: int) -> bytes:
    outlines = "".join(f'<outline type="rss" text="Feed {n}" xmlUrl="{base}/opml/{n}.xml"/>' for n in range(feeds))
    return (f'<?xml version="1.0"?><opml version="2.0"><head><title>Many</title></head><body>{outlines}</body>'
            "</opml>").encode()


def empty_lists(size: int) -> bytes:
    """`[],[],...` of about `size` bytes: the costliest JSON to parse per byte."""
    return b",".join([b"[]"] * (size // 3))


def deep_feed(depth: int = 100_000) -> bytes:
    return (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Deep</title><item><title>Deep</title>'
            b"<guid>deep</guid><description>" + b"<a>" * depth + b"</description></item></channel></rss>")


class Site(http.server.ThreadingHTTPServer):
    daemon_threads = True
    documents: dict[str, tuple[str, bytes]]
    closing = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Site

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        """The webhook receiver: takes every delivery."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/drip"):
            return self._drip()
        kind, body = self.server.documents.get(path, ("text/plain", b""))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        """Slowloris: headers, then one byte a second for as long as the client listens."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            while not self.server.closing.wait(1.0):
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            pass


def start_site() -> tuple[Site, str]:
    site = Site(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{site.server_address[1]}"
    alternates = "".join(f'<link rel="alternate" type="application/rss+xml" href="/drip-{n}.xml">' for n in range(10))
    site.documents = {
        "/big.xml": ("application/rss+xml", big_feed(base)),
        "/deep.xml": ("application/rss+xml", deep_feed()),
        "/big5k.xml": ("application/rss+xml", big_feed(base, 5000)),
        "/home": ("text/html", f"<html><head>{alternates}</head><body>home</body></html>".encode()),
        "/quotes-1.xml": ("application/rss+xml", quote_feed(base, "one", 1)),
        "/quotes-10.xml": ("application/rss+xml", quote_feed(base, "ten", 10)),
        "/long.xml": ("application/rss+xml", long_text_feed(base)),
    }
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site, base


# --------------------------------------------------------------------------- the service


def cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and its children, living (the pool's workers) or reaped (killed ones)."""
    return sum(p.cpu_s + p.reaped_children_s if p.pid == pid else p.cpu_s
               for p in procstat.processes() if pid in (p.pid, p.ppid))


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_service(database_url: str, port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "DATABASE_URL": database_url, "NEWS_INGEST_ALLOWED_NETWORKS": "127.0.0.0/8",
           "NEWS_INGEST_FETCH_ARTICLES": "false", "NEWS_INGEST_LOG_LEVEL": "WARNING",
           "NEWS_INGEST_ALLOW_HTTP_WEBHOOKS": "true"}  # the hostile site is the webhook receiver too
    cli = [sys.executable, "-c", "from app.cli import main; main()"]
    key = subprocess.run([*cli, "keys", "create", "--scope", "admin"], env=env, cwd=ROOT, check=True,
                         capture_output=True).stdout.decode().strip()
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc, key
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the service did not become ready")


class Prober(threading.Thread):
    """GET `url` every 20 ms; keeps (started, latency) of each."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=120) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    client.get(self.url)
                except httpx.HTTPError:
                    pass
                self.samples.append((started, time.monotonic() - started))
                self.stop.wait(0.02)

    def worst(self, start: float, end: float) -> float:
        """Worst latency of probes overlapping [start, end], in ms."""
        return 1000 * max((lat for at, lat in self.samples if at <= end and at + lat >= start), default=0.0)


def start_control(port: int) -> subprocess.Popen[bytes]:
    """An idle HTTP server of its own (the standard library's), probed like /readyz: its latency is
    what the machine alone adds (other processes, the pools' work competing for the cores)."""
    return subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port),
                             "--directory", tempfile.gettempdir()], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


class Bench:
    def __init__(self, base: str, key: str, pid: int, prober: Prober, control: Prober) -> None:
        self.api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=300)
        self.pid = pid
        self.prober = prober
        self.control = control
        self.results: dict[str, tuple[float, float]] = {}
        self.controls: dict[str, float] = {}

    def phase(self, name: str, work: Any) -> Any:
        cpu0, start = cpu_seconds(self.pid), time.monotonic()
        outcome = work()
        end = time.monotonic()
        time.sleep(0.1)  # the last probes of the window finish
        worst, cpu = self.prober.worst(start, end), cpu_seconds(self.pid) - cpu0
        self.results[name] = (worst, cpu)
        self.controls[name] = self.control.worst(start, end)
        print(f"{name:28} {str(outcome):42} {end - start:7.1f} s  readyz worst {worst:8.1f} ms  "
              f"(idle control server {self.controls[name]:7.1f} ms)  service CPU {cpu:6.2f} s", flush=True)
        return outcome

    def extract(self, text: str) -> str:
        response = self.api.post("/v1/quotes:extract", json={"text": text})
        if response.status_code == 200:
            return f"200, {len(response.json()['quotes'])} quotes"
        return f"{response.status_code} {response.json().get('type', '').rsplit('-', 3)[-1]}"

    def ingest(self, url: str) -> str:
        created = self.api.post("/v1/feeds", json={"url": url})
        if created.status_code != 201:
            return f"register {created.status_code}"
        feed_id = created.json()["id"]
        while True:  # the embedded worker polls a new feed at once
            feed = self.api.get(f"/v1/feeds/{feed_id}").json()
            if feed["last_polled_at"]:
                break
            time.sleep(0.1)
        stored = len(self.api.get("/v1/articles", params={"feed_id": feed_id, "limit": 200}).json()["items"])
        return f"{feed['state']}, {stored} articles" + (f" ({feed['last_error'][:30]})" if feed["last_error"] else "")

    def search(self, q: str, limit: int) -> str:
        response = self.api.get("/v1/articles", params={"q": q, "limit": limit})
        return f"{response.status_code}, {len(response.json().get('items', []))} hits"

    def import_opml(self, document: bytes) -> str:
        response = self.api.post("/v1/feeds:import", content=document, headers={"Content-Type": "text/x-opml"})
        if response.status_code != 200:
            return str(response.status_code)
        result = response.json()
        return f"200, {result['created']} created, {result['existing']} existing"

    def export_opml(self) -> str:
        response = self.api.get("/v1/feeds.opml")
        return f"{response.status_code}, {response.text.count('<outline ')} outlines"

    def register_while_patching(self, url: str, other_feed: int) -> str:
        result: dict[str, Any] = {}

        def register() -> None:
            response = self.api.post("/v1/feeds", json={"url": url})
            result["status"] = response.status_code

        thread = threading.Thread(target=register)
        thread.start()
        time.sleep(1.0)  # the registration is waiting on the slow host by now
        started = time.monotonic()
        self.api.patch(f"/v1/feeds/{other_feed}", json={"paused": True})
        patch_ms = 1000 * (time.monotonic() - started)
        self.api.patch(f"/v1/feeds/{other_feed}", json={"paused": False})
        thread.join()
        self.results[f"patch_during_{url.rsplit('/', 1)[1]}"] = (patch_ms, 0.0)
        return f"{result['status']}, PATCH meanwhile {patch_ms:.0f} ms"


def raw_post(port: int, path: str, body: bytes, key: str | None, content_type: str = "application/json") -> str:
    """POST over a plain socket: the service may answer (413) and close before the body is sent,
    which an HTTP client reports as an error rather than the answer. The status line's code."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            + (f"Authorization: Bearer {key}\r\n" if key else "") + "\r\n").encode()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=300) as conn:
        try:
            conn.sendall(head + body)
        except OSError:  # answered and closed early
            pass
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer.split(b"\r\n", 1)[0].split(b" ")[1].decode() if answer.startswith(b"HTTP/") else "no answer"


def idle() -> str:
    time.sleep(3)
    return "-"


def round_two(bench: Bench, port: int, key: str, site_base: str) -> None:
    lists = empty_lists(6_000_000)
    bench.phase("body-2mb-unauthenticated", lambda: raw_post(
        port, "/v1/feeds", b'{"url": "https://x.example/", "title": [' + lists[:2_000_000] + b"]}", None))
    bench.phase("body-6mb-quotes-extract", lambda: raw_post(port, "/v1/quotes:extract",
                                                            b'{"text": [' + lists + b"]}", key))
    bench.phase("body-9mb-opml-json", lambda: raw_post(port, "/v1/feeds:import",
                                                       b'{"document": [' + empty_lists(9_000_000) + b"]}", key))
    bench.phase("body-5000-fields", lambda: raw_post(
        port, "/v1/feeds", ("{" + ",".join(f'"field{n}": {n}' for n in range(5000)) + "}").encode(), key))
    hook = bench.api.post("/v1/subscriptions", json={"url": f"{site_base}/hook",
                                                     "events": ["article.created", "quote.created"]})
    hook.raise_for_status()
    bench.phase("feed-quotes-1x200kb", lambda: bench.ingest(f"{site_base}/quotes-1.xml"))
    bench.phase("feed-quotes-10x200kb", lambda: bench.ingest(f"{site_base}/quotes-10.xml"))
    bench.phase("feed-60-long-texts", lambda: bench.ingest(f"{site_base}/long.xml"))
    bench.phase("search-60-long-texts", lambda: bench.search("harbour", 60))
    document = opml(site_base, 20_000)
    bench.phase("opml-import-20000", lambda: bench.import_opml(document))
    bench.phase("opml-export-20000", bench.export_opml)


def run(database_url: str) -> str:
    load_before = os.getloadavg()[0]
    site, site_base = start_site()
    port = free_port()
    proc, key = start_service(database_url, port)
    base = f"http://127.0.0.1:{port}"
    control_port = free_port()
    control_proc = start_control(control_port)
    prober, control = Prober(f"{base}/readyz"), Prober(f"http://127.0.0.1:{control_port}/missing")
    prober.start()
    control.start()
    bench = Bench(base, key, proc.pid, prober, control)
    try:
        bench.phase("idle", idle)
        bench.phase("quotes-typical-5kb", lambda: bench.extract(TYPICAL))
        for kb in QUOTE_SIZES_KB:
            bench.phase(f"quotes-{kb}kb", lambda kb=kb: bench.extract(('"a ' * (kb * 350))[:kb * 1024]))
        bench.phase("feed-50000-entries", lambda: bench.ingest(f"{site_base}/big.xml"))
        bench.phase("feed-deep-xml", lambda: bench.ingest(f"{site_base}/deep.xml"))
        other = bench.api.get("/v1/feeds").json()["items"][0]["id"]
        bench.phase("discovery-slowloris", lambda: bench.register_while_patching(f"{site_base}/drip", other))
        bench.phase("discovery-slow-alternates", lambda: bench.register_while_patching(f"{site_base}/home", other))
        round_two(bench, port, key, site_base)
    finally:
        prober.stop.set()
        control.stop.set()
        control_proc.terminate()
        site.closing.set()
        rss = peak_rss_mb(proc.pid)
        proc.terminate()
        proc.wait(30)
        site.shutdown()
    hostile = [name for name in bench.results if not name.startswith("patch_") and name != "idle"]
    worst = max(bench.results[name][0] for name in hostile)
    control_worst = max(bench.controls[name] for name in hostile)
    median = 1000 * sorted(lat for _, lat in prober.samples)[len(prober.samples) // 2]
    print(f"service peak RSS {rss:.0f} MB; /readyz median {median:.1f} ms, worst over all hostile inputs "
          f"{worst:.1f} ms (idle control server {control_worst:.1f} ms); load average before/after {load_before:.1f}/{os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    pairs = [f"readyz_worst_ms={worst:.1f}", f"readyz_idle_ms={bench.results['idle'][0]:.1f}",
             f"readyz_median_ms={median:.1f}", f"control_worst_ms={control_worst:.1f}"]
    for name, (ms, cpu) in bench.results.items():
        key_name = name.replace("-", "_")
        pairs.append(f"{key_name}_ms={ms:.0f}" if name.startswith("patch_") else f"cpu_s_{key_name}={cpu:.2f}")
    pairs += [f"readyz_ms_{name.replace('-', '_')}={bench.results[name][0]:.0f}" for name in hostile]
    return " ".join([*pairs, f"peak_rss_mb={rss:.0f}", f"load_avg={load_before:.1f}", f"backend={backend}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default: a temporary SQLite file)")
    args = parser.parse_args()
    folder = None
    url = args.database_url
    if url is None:
        folder = tempfile.mkdtemp(prefix="ni-hostile-")
        url = f"sqlite+aiosqlite:///{folder}/hostile.db"
    try:
        line = run(url)
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    print(line)


if __name__ == "__main__":
    main()
