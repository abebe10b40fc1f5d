"""The speaker directory check: over the news-text corpus (598 articles from other outlets, no
gold), list the distinct speakers the extractor gives, draw a fixed random sample of 200 (by salted
hash, so it moves little when the extractor changes a little), and
report the share that a reader judged not to be a person or organisation name as the article
gives it.

The judgements live in tests/data/quotes-directory-judged.jsonl, one object per line:
{"speaker": ..., "doc": ..., "ok": true|false, "why": ...}. A sampled speaker with no judgement
is listed for judging (with the sentence that attributes it) and counted apart.

    python bench/quotes_directory.py [--show-unjudged] [--sample-only]

Last line: directory_bad=<share of judged sample> judged=<n> unjudged=<n> distinct=<n>
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus" / "news-text"
JUDGED = ROOT / "tests" / "data" / "quotes-directory-judged.jsonl"
SAMPLE = 200
SEED = 20261129


def directory() -> dict[str, tuple[str, int, int]]:
    """Distinct speaker -> (article, quote start, quote end) of its first quote, in corpus order."""
    from app.pipeline.quotes import find_quotes

    out: dict[str, tuple[str, int, int]] = {}
    for path in sorted(CORPUS.glob("*/*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for q in find_quotes(text):
            if q.speaker and q.kind != "post" and q.speaker not in out:
                out[q.speaker] = (str(path.relative_to(CORPUS)), q.start, q.end)
    return out


def sample(speakers: dict[str, tuple[str, int, int]]) -> list[str]:
    """The 200 speakers whose salted hash is lowest: a fixed random sample that changes by a
    few names, not wholesale, when the extractor gains or loses a few speakers."""
    return sorted(speakers, key=lambda n: hashlib.sha256(f"{SEED}:{n}".encode()).hexdigest())[:SAMPLE]


def load_judged() -> dict[tuple[str, str], dict[str, object]]:
    if not JUDGED.is_file():
        return {}
    rows = [json.loads(line) for line in JUDGED.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(str(r["speaker"]), str(r["doc"])): r for r in rows}


def context(doc: str, start: int, end: int) -> str:
    text = (CORPUS / doc).read_text(encoding="utf-8", errors="replace")
    return " ".join(text[max(0, start - 250):min(len(text), end + 150)].split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show-unjudged", action="store_true", help="print sampled speakers not yet judged")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} not found")
    speakers = directory()
    judged = load_judged()
    bad = ok = 0
    unjudged: list[str] = []
    bad_names: list[str] = []
    for name in sample(speakers):
        doc, s, e = speakers[name]
        row = judged.get((name, doc))
        if row is None:
            unjudged.append(name)
            if args.show_unjudged:
                print(json.dumps({"speaker": name, "doc": doc, "context": context(doc, s, e)}, ensure_ascii=False))
        elif row["ok"]:
            ok += 1
        else:
            bad += 1
            bad_names.append(name)
    if bad_names:
        print("judged not a name:", "; ".join(bad_names))
    n = ok + bad
    print(f"directory_bad={bad / n if n else 0:.3f} judged={n} unjudged={len(unjudged)} distinct={len(speakers)}")


if __name__ == "__main__":
    main()
