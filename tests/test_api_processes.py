"""`news-ingest api --processes N` as an operator runs it: N server processes share one port,
each with its own key cache, and a key revoked with the CLI is refused by all of them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.processes import clean_env, free_port, process_database_url, stop, wait_ready

BIN = Path(sys.executable).with_name("news-ingest")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def test_api_processes_share_the_port_and_refuse_a_revoked_key(database_url: str, tmp_path: Path) -> None:
    url = process_database_url(database_url, tmp_path)
    env = clean_env(NEWS_INGEST_DATABASE_URL=url, NEWS_INGEST_KEY_CACHE_S="0.5")
    subprocess.run([str(BIN), "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    key = subprocess.run([str(BIN), "keys", "create", "--scope", "read", "--name", "two-processes"], env=env,
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    server = subprocess.Popen([str(BIN), "api", "--port", str(port), "--processes", "2"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        deadline = time.monotonic() + 30
        while len(_children(server.pid)) < 2:  # the supervisor and its two server processes
            assert time.monotonic() < deadline, "uvicorn did not start two server processes"
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            for _ in range(10):  # new connections: the processes take turns at accepting them
                assert http.get("/v1/feeds", headers={"Connection": "close"}).status_code == 200
            listed = subprocess.run([str(BIN), "keys", "list"], env=env, cwd=tmp_path, capture_output=True,
                                    text=True, check=True).stdout
            key_id = next(line.split()[0] for line in listed.splitlines() if "two-processes" in line)
            subprocess.run([str(BIN), "keys", "revoke", key_id], env=env, cwd=tmp_path, check=True,
                           capture_output=True)
            revoked_at = time.monotonic()
            # Every process must refuse it: ask on fresh connections until ten in a row say 401.
            refused = 0
            while refused < 10:
                status = http.get("/v1/feeds", headers={"Connection": "close"}).status_code
                refused = refused + 1 if status == 401 else 0
                assert time.monotonic() - revoked_at < 10, "a revoked key was still served after 10 s"
    finally:
        stop(server, group=True)
