"""End to end as a user runs it: `news-ingest serve` as a real process on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.feedserver import FeedServer
from tests.processes import free_port, process_database_url, stop, wait_ready

BIN = Path(sys.executable).with_name("news-ingest")


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "NEWS_INGEST_ALLOWED_NETWORKS": "127.0.0.0/8",
                "NEWS_INGEST_EXTRACT_PROCESSES": "1", "NEWS_INGEST_IDLE_SLEEP_S": "0.1"})
    return env


def test_serve_creates_key_registers_feed_and_ingests(empty_database_url: str, tmp_path: Path,
                                                      feed_server: FeedServer) -> None:
    seeds = Path(__file__).resolve().parents[1] / "seeds"
    feed = (seeds / "team-feed.xml").read_text().replace("http://harbour.example", feed_server.url("").rstrip("/"))
    feed_server.route("/feed.xml", body=feed, headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    for page in (seeds / "articles").glob("*.html"):
        feed_server.route(f"/articles/{page.name}", body=page.read_bytes(),
                          headers={"Content-Type": "text/html; charset=utf-8"})

    # Its own SQLite file (or the PostgreSQL test database): the server migrates on start.
    url = process_database_url(empty_database_url, tmp_path, "smoke.db")
    env = _env(url)
    port = free_port()
    server = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)

        key = subprocess.run([str(BIN), "keys", "create", "--scope", "admin"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout.strip()
        assert key.startswith("ni_") and "\n" not in key
        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(f"{base}/v1/feeds", json={"url": feed_server.url("/feed.xml")}, headers=headers)
        assert created.status_code == 201, created.text
        feed_id = created.json()["id"]
        assert httpx.get(f"{base}/v1/feeds/{feed_id}", headers=headers).json()["url"] == feed_server.url("/feed.xml")

        # The embedded workers poll the new feed on their own and store its three articles.
        deadline = time.monotonic() + 60
        while True:
            items = httpx.get(f"{base}/v1/articles", params={"feed_id": feed_id}, headers=headers).json()["items"]
            if len(items) == 3:
                break
            assert time.monotonic() < deadline, f"articles did not arrive: {items}"
            time.sleep(0.3)
        ferry = next(a for a in items if "ferry" in a["title"].lower())
        assert ferry["canonical_url"].endswith("/articles/ferry-timetable.html")
        article = httpx.get(f"{base}/v1/articles/{ferry['id']}", headers=headers).json()
        assert "two early crossings" in article["text"] and "Most read" not in article["text"]
        quotes = httpx.get(f"{base}/v1/articles/{ferry['id']}/quotes", headers=headers).json()["items"]
        assert any(q["speaker"] == "Margaret Ellison" for q in quotes), quotes
    finally:
        stop(server)
