"""The speaker directory stays clean on news nobody tuned for (skipped when ../shared is absent).

tests/data/quotes-directory-judged.jsonl holds speakers the extractor gave over the news-text
corpus, each judged by reading its article: is it a person or organisation name as the article
gives it? It was judged for a fixed sample of 200 (bench/quotes_directory.py) before and after the
rules of issue 13; the speakers judged bad must not come back, except the few marked
`still_given` (the extractor still gives them; listed so that none is added silently).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from app.pipeline.quotes import find_quotes

ROOT = Path(__file__).resolve().parents[1]
JUDGED = ROOT / "tests" / "data" / "quotes-directory-judged.jsonl"
CORPUS = ROOT.parent / "shared" / "corpus" / "news-text"
MAX_BAD_SHARE = 0.02  # measured 0.000 (0 of 200) on 2026-11-29 (issue 13); 0.010 round 2, 0.025 round 1, 0.165 before


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quotes_directory", ROOT / "bench" / "quotes_directory.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _judged() -> list[dict[str, object]]:
    return [json.loads(line) for line in JUDGED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_speakers_judged_not_names_do_not_come_back() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared corpus not present")
    back = []
    for row in _judged():
        if row["ok"] or row.get("still_given"):
            continue
        text = (CORPUS / str(row["doc"])).read_text(encoding="utf-8", errors="replace")
        if row["speaker"] in {q.speaker for q in find_quotes(text)}:
            back.append((row["speaker"], row["why"]))
    assert back == []


def test_sample_is_judged_and_clean() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared corpus not present")
    bench = _bench()
    speakers = bench.directory()
    judged = bench.load_judged()
    sample = bench.sample(speakers)
    unjudged = [n for n in sample if (n, speakers[n][0]) not in judged]
    assert unjudged == [], "judge these by reading their articles (bench/quotes_directory.py --show-unjudged)"
    bad = [n for n in sample if not judged[(n, speakers[n][0])]["ok"]]
    assert len(bad) / len(sample) <= MAX_BAD_SHARE, bad
