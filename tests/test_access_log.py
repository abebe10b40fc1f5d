"""The API's access log is off unless NEWS_INGEST_ACCESS_LOG=true: a line per request costs a
read ~5% of its CPU. Run as operators run it: `news-ingest api`, a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import clean_env, free_port, stop, wait_ready

BIN = Path(sys.executable).with_name("news-ingest")


@pytest.mark.parametrize(("setting", "logged"), [(None, False), ("true", True), ("false", False)])
def test_requests_are_logged_only_when_asked(tmp_path: Path, setting: str | None, logged: bool) -> None:
    env = clean_env(NEWS_INGEST_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'api.db'}",
                    NEWS_INGEST_LOG_LEVEL="INFO", NEWS_INGEST_OPEN_READ="true",
                    **({"NEWS_INGEST_ACCESS_LOG": setting} if setting else {}))
    subprocess.run([str(BIN), "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([str(BIN), "api", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", server)
        assert httpx.get(f"http://127.0.0.1:{port}/v1/feeds?limit=3").status_code == 200
    finally:
        output = stop(server)
    assert "Application startup complete" in output  # the process logs at INFO either way
    assert ('"GET /v1/feeds?limit=3 HTTP/1.1" 200' in output) is logged, output
