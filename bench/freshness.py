"""Freshness: from an article's publication to its verified webhook delivery, pushed and polled.

    python bench/freshness.py [--seconds 240] [--push-gap 4] [--poll-feeds 8] [--poll-gap 40]
                              [--min-poll 10] [--max-poll 120] [--database-url URL]

A local publisher (tests/feedserver.py, tests/websub_live.py) runs one feed that advertises a
WebSub hub (Flask-WebSub's hub, tests/websub_hub.py, in this process) and `--poll-feeds` feeds
that do not, each with a page per article. `news-ingest serve` runs in its own process with
NEWS_INGEST_PUBLIC_URL set, subscribes to the hub and polls the others. Articles are published
at random times (exponential gaps: `--push-gap` seconds on average on the pushed feed,
`--poll-gap` on each polled feed); each publication on the pushed feed is announced to the hub,
which fetches the feed and pushes it to the service. A webhook receiver (tests/webhook_receiver.py)
verifies every delivery's Standard Webhooks signature and records when it arrived.

Latency = arrival of the verified `article.created` delivery - the moment the article appeared
in its feed (both clocks are this process's). Polling is time-compressed: the adaptive interval
is bounded by `--min-poll`/`--max-poll` (the service's defaults are 300 s / 86,400 s), and the
publishing gaps are scaled with it. Needs the test extras (`pip install -e '.[test]'`).

Last line: `push_p50_s=... push_p99_s=... poll_p50_s=... poll_p99_s=... ...`.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.feedserver import FeedServer  # noqa: E402
from tests.webhook_receiver import WebhookReceiver  # noqa: E402
from tests.websub_hub import LiveHub  # noqa: E402
from tests.websub_live import Publisher  # noqa: E402

BIN = Path(sys.executable).with_name("news-ingest")
WORDS = ("harbour council ferry bridge school library market river station budget festival museum rail "
         "weather clinic park tram square report plan vote water energy housing street").split()
NAMES = ("Mara Lindqvist", "Tomas Herrera", "Ines Okafor", "Jonas Berg", "Lea Moreau", "Kai Sato")


def article_text(rng: random.Random) -> str:
    sentences = [" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(5)]
    sentences.insert(2, f"\u201cThis is good news for the {rng.choice(WORDS)},\u201d said {rng.choice(NAMES)}.")
    return " ".join(sentences)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def start_service(database_url: str, port: int, args: argparse.Namespace, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = dict(os.environ, DATABASE_URL=database_url, NEWS_INGEST_ALLOWED_NETWORKS="127.0.0.0/8",
               NEWS_INGEST_ALLOW_HTTP_WEBHOOKS="true", NEWS_INGEST_WEBSUB_ALLOW_HTTP_HUBS="true",
               NEWS_INGEST_PUBLIC_URL=f"http://127.0.0.1:{port}", NEWS_INGEST_LOG_LEVEL="WARNING",
               NEWS_INGEST_MIN_POLL_INTERVAL_S=str(args.min_poll), NEWS_INGEST_MAX_POLL_INTERVAL_S=str(args.max_poll),
               NEWS_INGEST_MAX_BACKOFF_S=str(args.max_poll), NEWS_INGEST_WEBSUB_POLL_INTERVAL_S=str(args.max_poll))
    subprocess.run([str(BIN), "migrate"], env=env, check=True, capture_output=True)
    key = subprocess.run([str(BIN), "keys", "create", "--scope", "admin"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return proc, key


def wait_until(check: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"freshness: {what} did not happen within {timeout_s:g} s")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=240.0, help="how long articles are published")
    parser.add_argument("--push-gap", type=float, default=4.0, help="mean seconds between articles, pushed feed")
    parser.add_argument("--poll-feeds", type=int, default=8)
    parser.add_argument("--poll-gap", type=float, default=40.0, help="mean seconds between articles, each polled feed")
    parser.add_argument("--min-poll", type=int, default=10, help="NEWS_INGEST_MIN_POLL_INTERVAL_S")
    parser.add_argument("--max-poll", type=int, default=120, help="NEWS_INGEST_MAX_POLL_INTERVAL_S")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    timing, rng = random.Random(args.seed), random.Random(args.seed + 1)  # when, and what

    workdir = Path(tempfile.mkdtemp(prefix="freshness-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    server, receiver, hub = FeedServer().start(), WebhookReceiver().up(), LiveHub(workdir).start()
    pushed = Publisher(server, hub.url, path="/pushed.xml")
    polled = [Publisher(server, None, path=f"/polled-{n}.xml") for n in range(args.poll_feeds)]
    for site in (pushed, *polled):  # something to find on the first poll (not measured)
        site.add(f"Opening notice {site.path}", article_text(rng), published=None)
    port = free_port()
    proc, key = start_service(database_url, port, args, workdir / "serve.log")
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    published: dict[str, tuple[str, float]] = {}  # page URL -> (arm, when it appeared in its feed)
    lock = threading.Lock()
    try:
        wait_until(lambda: _healthy(api), 60, "the service start")
        hook = api.post("/v1/subscriptions", json={"url": receiver.url("bench"), "events": ["article.created"]})
        receiver.secret("bench", hook.json()["secret"])
        feed_ids = {site.path: api.post("/v1/feeds", json={"url": site.topic}).json()["id"]
                    for site in (pushed, *polled)}
        wait_until(lambda: (api.get(f"/v1/feeds/{feed_ids[pushed.path]}").json().get("websub") or {}).get("state")
                   == "active", 60, "the WebSub subscription")
        wait_until(lambda: len(receiver.of("bench")) >= len(feed_ids), 120, "the first poll of every feed")
        print(f"freshness: service on :{port}, pushed feed subscribed at {hub.url}; publishing for "
              f"{args.seconds:g} s (pushed every {args.push_gap:g} s, {args.poll_feeds} polled feeds every "
              f"{args.poll_gap:g} s on average; poll interval {args.min_poll}..{args.max_poll} s)")

        def publish(site: Publisher, arm: str) -> None:
            item = site.add(f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} update", article_text(rng))
            with lock:
                published[site.page_url(item.guid)] = (arm, time.time())
            if arm == "push":  # the publisher pings its hub, which fetches the feed and pushes it
                threading.Thread(target=hub.publish, args=(site.topic,), daemon=True).start()

        schedule = [(timing.expovariate(1 / args.push_gap), pushed, "push")]
        schedule += [(timing.expovariate(1 / args.poll_gap), site, "poll") for site in polled]
        start = time.monotonic()
        while True:
            schedule.sort(key=lambda e: e[0])
            at, site, arm = schedule.pop(0)
            if at > args.seconds:
                break
            time.sleep(max(0.0, start + at - time.monotonic()))
            publish(site, arm)
            gap = args.push_gap if arm == "push" else args.poll_gap
            schedule.append((at + timing.expovariate(1 / gap), site, arm))
        # every publication is delivered once its feed is read: within the longest poll interval
        wait_until(lambda: _delivered(receiver, published) >= len(published), args.max_poll * 2 + 60,
                   "delivery of every published article")
        metrics = api.get("/metrics").text
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        receiver.down()
        hub.stop()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the SQLite files, the hub's store, the service's log
    arrivals = {r.data["article"]["url"]: r.at for r in receiver.of("bench")}
    lat: dict[str, list[float]] = {"push": [], "poll": []}
    for url, (arm, when) in published.items():
        lat[arm].append(arrivals[url] - when)
    load = os.getloadavg()
    for arm, name in (("push", "pushed feed (WebSub)"), ("poll", f"{args.poll_feeds} polled feeds")):
        values = lat[arm]
        print(f"{name}: {len(values)} articles, publish -> verified webhook delivery p50 {percentile(values, .5):.3f} s, "
              f"p99 {percentile(values, .99):.3f} s, max {max(values):.3f} s, mean {statistics.fmean(values):.3f} s")
    pushes = _metric(metrics, 'news_ingest_websub_pushes_total{verdict="accepted"}')
    polls = {o: _metric(metrics, f'news_ingest_polls_total{{outcome="{o}"}}') for o in ("ok", "unchanged", "not_modified")}
    print(f"service: {pushes:.0f} pushes accepted; polls: {polls['ok']:.0f} parsed, "
          f"{polls['unchanged'] + polls['not_modified']:.0f} unchanged (304 or the same bytes); "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(f"push_p50_s={percentile(lat['push'], .5):.3f} push_p99_s={percentile(lat['push'], .99):.3f} "
          f"poll_p50_s={percentile(lat['poll'], .5):.3f} poll_p99_s={percentile(lat['poll'], .99):.3f} "
          f"push_n={len(lat['push'])} poll_n={len(lat['poll'])} load1={load[0]:.1f}")


def free_port() -> int:
    """A free port on 127.0.0.1 for the service (taken and released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def _delivered(receiver: WebhookReceiver, published: dict[str, tuple[str, float]]) -> int:
    return sum(1 for r in receiver.of("bench") if r.data["article"]["url"] in published)


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


if __name__ == "__main__":
    main()
