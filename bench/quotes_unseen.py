"""Quote extraction on news from outlets the rules were never tuned on: a small gold set of our own.

`bench/data/news-text-quotes-gold.jsonl` holds every quotation of 24 articles of
`../shared/corpus/news-text` (12 from each of its two collections, British public-service news
of 2004–05 and a citizen-journalism wiki of 2019–20; picked by salted hash among the articles with
three or more quoted spans, one 41 KB interview set aside as too long to annotate), each with the
speaker a reader finds by reading the whole article, in the conventions of
`../shared/eval/README.md`: the fullest name the article gives, an organisation where an
organisation speaks, null where the article names nobody; labels, titles of works and names in
quotation marks are "ignore" spans. Interview turns ("Initials: answer") count as quotes of the
one who answers. Annotated on 2026-11-29 by correcting the extractor's output of that day, quote
by quote, after reading each article.

It is a held-out set: never read it, or the extractor's misses on it, while writing rules. Run it
once at the end of a round of quote work and report the figure beside the PolNeAR ones.

    python bench/quotes_unseen.py

Last line: e2e_f1=… extract_f1=… attribution=… invented=<quotes given a speaker where the
article names nobody> set=news-text docs=24
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GOLD = ROOT / "bench" / "data" / "news-text-quotes-gold.jsonl"
SHARED = ROOT.parent / "shared"


def invented(gold_lines: list[str]) -> tuple[int, int]:
    """(quotes given a speaker, gold quotes whose article names nobody) among matched quotes."""
    from app.pipeline.quotes import find_quotes

    given = nobody = 0
    for line in gold_lines:
        doc = json.loads(line)
        preds = find_quotes((SHARED / doc["doc"]).read_text(encoding="utf-8"))
        for g in doc["quotes"]:
            if g["speaker"] is not None:
                continue
            nobody += 1
            for q in preds:
                ov = min(g["end"], q.end) - max(g["start"], q.start)
                if ov >= 0.5 * (g["end"] - g["start"]) and ov >= 0.5 * max(1, q.end - q.start):
                    given += bool(q.speaker)
                    break
    return given, nobody


def main() -> None:
    from quotes_eval import score_lines

    if not (SHARED / "corpus" / "news-text").is_dir():
        sys.exit(f"{SHARED / 'corpus' / 'news-text'} not found")
    lines = [line for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    last = score_lines(lines).strip().splitlines()[-1]
    given, nobody = invented(lines)
    print(f"{given} of the {nobody} quotes whose article names no speaker were given one")
    print(f"{last} invented={given} set=news-text docs={len(lines)}")


if __name__ == "__main__":
    main()
