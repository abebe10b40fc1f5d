"""Quote extraction on news from outlets the rules were never tuned on: two small gold sets of our own.

Set 1, `bench/data/news-text-quotes-gold.jsonl`, holds every quotation of 24 articles of
`../shared/corpus/news-text` (12 from each of its two collections, British public-service news
of 2004–05 and a citizen-journalism wiki of 2019–20; picked by salted hash among the articles with
three or more quoted spans, one 41 KB interview set aside as too long to annotate), each with the
speaker a reader finds by reading the whole article, in the conventions of
`../shared/eval/README.md`: the fullest name the article gives, an organisation where an
organisation speaks, null where the article names nobody; labels, titles of works and names in
quotation marks are "ignore" spans. Interview turns ("Initials: answer") count as quotes of the
one who answers. Annotated on 2026-11-29 by correcting the extractor's output of that day, quote
by quote, after reading each article.

Set 2, `bench/data/news-text-quotes-gold-2.jsonl`, holds every quotation of 24 further articles
(12 `bbc`, 12 `wikinews`; 154 quotes), drawn on 2026-11-30 before any of them was scored: among
the articles of `news-text/MANIFEST.tsv` with `quoted_spans` >= 3, not in set 1 and of at most
20 KB (20,480 bytes; this left out 12 wikinews articles and no bbc one), the 12 of each
`collection` with the lowest `sha256(("unseen2-2026-11-30:" + id).encode()).hexdigest()`.
Annotated the same day by reading each whole article, in set 1's conventions, and besides:

- a quotation is the text between its marks (a closing mark the text forgets ends it where the
  next quotation opens, or where the attribution begins: `…had not happened, he said. "But`);
- null also where the speaker is a group or several parties at once ("critics", "members
  shouted", "the Tories and Lib Dems … saying"), or an unnamed spokesman, official or source of a
  named body (as the PolNeAR gold resolves "a spokesman for X");
- an organisation's words ("the EU said", "the court found", "the alliance said in a statement")
  go to the organisation by the fullest name the article gives ("European Union");
- "ignore" also covers quotation marks in the headline (first line; outside the article's text and
  its quote count), a word mentioned as a word ("coined the phrase …"), and the wording of a
  ballot or census question or of protest signs;
- `kind` is "direct" when the quotation starts as a sentence (a capital), else "partial"; it is
  not scored.

Both are held-out sets: never read them, or the extractor's misses on them, while writing rules.
Run them once at the end of a round of quote work and report the figures beside the PolNeAR ones.

    python bench/quotes_unseen.py [--set 1|2|both]

One line per set, and with `--set both` (the default) a last line for the two together:
e2e_f1=… extract_f1=… attribution=… gold=… invented=<quotes given a speaker where the article
names nobody> set=… docs=…
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA = ROOT / "bench" / "data"
GOLD = DATA / "news-text-quotes-gold.jsonl"
GOLD_2 = DATA / "news-text-quotes-gold-2.jsonl"
SETS = {"1": ("news-text", GOLD), "2": ("news-text-2", GOLD_2)}
SHARED = ROOT.parent / "shared"


def invented(pairs: list[tuple[str, str]]) -> tuple[int, int]:
    """(quotes given a speaker, gold quotes whose article names nobody) among matched quotes,
    from (gold line, prediction line) pairs."""
    given = nobody = 0
    for gold_line, pred_line in pairs:
        doc = json.loads(gold_line)
        preds: list[dict[str, Any]] = json.loads(pred_line)["quotes"]
        for g in doc["quotes"]:
            if g["speaker"] is not None:
                continue
            nobody += 1
            for q in preds:
                ov = min(g["end"], q["end"]) - max(g["start"], q["start"])
                if ov >= 0.5 * (g["end"] - g["start"]) and ov >= 0.5 * max(1, q["end"] - q["start"]):
                    given += bool(q["speaker"])
                    break
    return given, nobody


def score_line(pairs: list[tuple[str, str]], name: str) -> tuple[str, int, int]:
    """(score line for these pairs, invented, nobody)."""
    from quotes_eval import _score_predicted

    last = _score_predicted(pairs).strip().splitlines()[-1]
    given, nobody = invented(pairs)
    return f"{last} invented={given} set={name} docs={len(pairs)}", given, nobody


def main() -> None:
    from quotes_eval import _predict

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--set", choices=["1", "2", "both"], default="both", dest="which")
    args = parser.parse_args()
    if not (SHARED / "corpus" / "news-text").is_dir():
        sys.exit(f"{SHARED / 'corpus' / 'news-text'} not found")
    chosen = ["1", "2"] if args.which == "both" else [args.which]
    union: list[tuple[str, str]] = []
    names: list[str] = []
    for key in chosen:
        name, path = SETS[key]
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        pairs = [(line, _predict(line)) for line in lines]  # extraction once per article
        line, given, nobody = score_line(pairs, name)
        if len(chosen) == 1:
            print(f"{given} of the {nobody} quotes whose article names no speaker were given one")
        print(line)
        union += pairs
        names.append(name)
    if len(chosen) > 1:
        print(score_line(union, "+".join(names))[0])


if __name__ == "__main__":
    main()
