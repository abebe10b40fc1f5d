"""Helpers for tests that run the `news-ingest` command as users do: a real process on a free
port, waited for by what it answers, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_database_url(database_url: str, directory: Path, name: str = "api.db") -> str:
    """The database a process under test uses: the session's PostgreSQL database, or a SQLite
    file of its own in `directory` (the session's SQLite file belongs to the test process)."""
    return database_url if "postgresql" in database_url else f"sqlite+aiosqlite:///{directory / name}"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the project's own settings, so a developer's or CI's
    NEWS_INGEST_*/DATABASE_URL cannot change what the process under test does."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NEWS_INGEST_") and k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update(extra)
    return env


def wait_ready(base: str, process: subprocess.Popen[str], timeout_s: float = 60.0) -> None:
    """Until GET {base}/readyz answers 200; fails at once if the process has exited."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"the server exited with {process.returncode}:\n{output}")
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.2)


def stop(process: subprocess.Popen[str], timeout_s: float = 30.0, *, group: bool = False) -> str:
    """SIGTERM, then its output. `group`: the process was started with start_new_session, and
    whatever it started in the background (still running after it exited) is stopped too."""
    try:
        if group:
            os.killpg(process.pid, signal.SIGTERM)
        elif process.poll() is None:
            process.terminate()
    except ProcessLookupError:
        pass
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""
