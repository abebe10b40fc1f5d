"""The README's Quick start, run as written, in order, on a fresh folder: its commands are
taken from the README (the block after `<!-- quick-start -->`), so the two cannot drift apart.
The only change is the port: the server gets a free one (NEWS_INGEST_PORT) and the URLs follow.
The seeded public feeds cannot be reached from a test machine; their polls fail, as they may
on any machine, and must not disturb the rest."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.pipeline.poll import parse_opml
from tests.processes import clean_env, free_port, stop

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def quick_start() -> str:
    text = README.read_text()
    block = re.search(r"<!-- quick-start -->\n```[a-z]*\n(.*?)\n```", text, re.S)
    assert block, "README.md has no block after <!-- quick-start -->"
    return block.group(1)


def documents(output: str) -> list[Any]:
    """The JSON answers curl printed one after another (without newlines between them)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(output):
        if output[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(output, at)
        found.append(value)
    return found


@pytest.mark.skipif(shutil.which("curl") is None, reason="the Quick start uses curl")
def test_quick_start_runs_top_to_bottom(tmp_path: Path) -> None:
    script = quick_start()
    assert "127.0.0.1:8000" in script and "serve" in script
    port = free_port()
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)  # the installed .venv
    run = subprocess.Popen(["bash", "-eu", "-c", script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")],
                           cwd=tmp_path, env=clean_env(NEWS_INGEST_PORT=str(port)), start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, f"the Quick start failed ({run.returncode}):\n{out}\n{err}"
        # Its last line, `kill $SERVER`, stops the server: the port is released.
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) != 0:
                    break
            assert time.monotonic() < deadline, "the server still listens after the Quick start's kill"
            time.sleep(0.2)
    finally:
        stop(run, group=True)  # whatever it left running, should a step above have failed

    feeds, created, articles, extracted = documents(out)
    seeded = parse_opml((ROOT / "seeds" / "news-feeds.opml").read_bytes())
    assert f"seeded {len(seeded)} feeds" in err
    assert len(feeds["items"]) == 3 and {f["url"] for f in feeds["items"]} <= {o.url for o in seeded}
    assert created.get("id") and created["url"].startswith("https://"), created  # 201, not a 409 problem
    assert created["url"] not in {o.url for o in seeded}
    assert isinstance(articles["items"], list)
    [quote] = extracted["quotes"]
    assert quote["speaker"] == "Ana Ruiz" and quote["text"].startswith("We will rebuild"), extracted
    # The server's own log: plain text lines, no colour codes for a terminal, no clash on the port.
    assert "\x1b[" not in err and "color_message" not in err, err[-2000:]
    assert "address already in use" not in err and "Traceback" not in err, err[-4000:]
