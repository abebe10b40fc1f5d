"""Logging never breaks the work it describes: no reserved LogRecord keys in `extra`, and a poll
logged at INFO (the default level) answers like any other."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import httpx
import pytest

from app.logging import RESERVED
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]


def _extra_keys(path: Path) -> list[tuple[int, str | None]]:
    """(line, key) for every key of every `extra=` argument in the file; key None when the
    argument is not a dict literal with constant string keys (then nothing can be checked)."""
    found: list[tuple[int, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        for keyword in node.keywords:
            if keyword.arg != "extra":
                continue
            if not isinstance(keyword.value, ast.Dict):
                found.append((node.lineno, None))
                continue
            for key in keyword.value.keys:
                value = key.value if isinstance(key, ast.Constant) else None  # key None: a ** spread
                found.append((node.lineno, value if isinstance(value, str) else None))
    return found


def test_no_log_call_passes_a_reserved_extra_key() -> None:
    """Logger.makeRecord raises KeyError for an `extra` key that LogRecord already has
    (created, msg, args, name, module, ...): the call fails in the code that logs, and only when
    its level is enabled, so a test at a quieter level never sees it. Every `extra=` of a call
    in the code must be a dict literal of plain keys outside that set."""
    problems = []
    for folder in ("app", "bench", "migrations"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, key in _extra_keys(path):
                where = f"{path.relative_to(ROOT)}:{line}"
                if key is None:
                    problems.append(f"{where}: extra= must be a dict literal with string keys")
                elif key in RESERVED:
                    problems.append(f"{where}: {key!r} is a reserved LogRecord attribute")
    assert not problems, "\n".join(problems)


def test_the_guard_sees_a_reserved_key(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('log.info("x", extra={"created": 1, "feed_id": 2})\nlog.info("y", extra=fields)\n')
    assert _extra_keys(sample) == [(1, "created"), (1, "feed_id"), (2, None)]
    assert {"created", "msg", "args", "name", "message", "module", "asctime"} <= RESERVED


async def test_poll_now_answers_and_logs_its_counts(client: httpx.AsyncClient, feed_server: FeedServer,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The poll's line (INFO then, DEBUG now) used to raise after the poll had committed: the API
    answered 500 and background polls died with 'Task exception was never retrieved'."""
    feed_server.route("/feed.xml", body=(ROOT / "seeds" / "team-feed.xml").read_bytes(),
                      headers={"Content-Type": "application/rss+xml"})
    created = await client.post("/v1/feeds", json={"url": feed_server.url("/feed.xml")})
    assert created.status_code == 201, created.text
    with caplog.at_level(logging.DEBUG, logger="news_ingest"):
        polled = await client.post(f"/v1/feeds/{created.json()['id']}/poll")
    assert polled.status_code == 200, polled.text
    lines = [r for r in caplog.records if r.getMessage() == "ingest: polled"]
    assert len(lines) == 1
    fields = lines[0].__dict__  # where Logger.makeRecord puts the `extra` keys
    assert fields["feed_id"] == created.json()["id"]
    assert fields["articles_created"] == polled.json()["articles_created"]
