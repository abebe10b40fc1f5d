"""Score the quote extractor on the PolNeAR train gold, split into a tuning part and a held-out part.

The split was fixed on 2026-11-29, before anyone read the new full-name gold:

- held out: every article of one publisher (`nyt`, none of which is in the 83-article subset the
  rules were first written from), plus every fifth of the other articles, in sorted order, that is
  not in that 83-article subset;
- tune: everything else.

Only `--split tune` may be read in detail (`--details`); the held-out part is for one figure.

    python bench/quotes_eval.py [--split tune|heldout|all] [--details]

Last line: e2e_f1=… extract_f1=… attribution=… split=…
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
GOLD = SHARED / "eval" / "polnear-train-gold.jsonl"
FIRST_SUBSET = SHARED / "eval" / "polnear-train-names-gold.jsonl"
HELD_OUT_PUBLISHER = "nyt"


def _publisher(doc: str) -> str:
    return doc.rsplit("/", 1)[-1].split("_", 1)[0]


def split_docs() -> dict[str, set[str]]:
    """{"heldout": docs, "tune": docs} by the rule in the module docstring."""
    docs = sorted(json.loads(line)["doc"] for line in GOLD.read_text().splitlines() if line.strip())
    first = {json.loads(line)["doc"] for line in FIRST_SUBSET.read_text().splitlines() if line.strip()}
    held: set[str] = {d for d in docs if _publisher(d) == HELD_OUT_PUBLISHER}
    rest = [d for d in docs if d not in held and d not in first]
    held.update(rest[4::5])
    return {"heldout": held, "tune": set(docs) - held}


def score(split: str, details: bool = False) -> str:
    from app.pipeline.quotes import find_quotes

    lines = [line for line in GOLD.read_text().splitlines() if line.strip()]
    wanted = None if split == "all" else split_docs()[split]
    with tempfile.TemporaryDirectory() as tmp:
        gold_path, pred_path = Path(tmp) / "gold.jsonl", Path(tmp) / "pred.jsonl"
        with gold_path.open("w") as gold, pred_path.open("w") as pred:
            for line in lines:
                doc = json.loads(line)["doc"]
                if wanted is not None and doc not in wanted:
                    continue
                gold.write(line + "\n")
                path = (SHARED / doc).resolve()
                quotes = [q.to_dict() for q in find_quotes(path.read_text(encoding="utf-8"))]
                pred.write(json.dumps({"file": str(path), "quotes": quotes}) + "\n")
        args = [sys.executable, str(SHARED / "eval" / "score_quotes.py"), str(gold_path), str(SHARED),
                "--predictions", str(pred_path)] + (["--details"] if details else [])
        out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=SHARED).stdout
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["tune", "heldout", "all"], default="tune")
    parser.add_argument("--details", action="store_true", help="list misses (tune split only)")
    args = parser.parse_args()
    if args.details and args.split != "tune":
        parser.error("--details is for the tuning split only; the held-out part is read as one figure")
    if not GOLD.is_file():
        sys.exit(f"{GOLD} not found")
    out = score(args.split, args.details)
    if args.details:
        print(out.rstrip())
    last = out.strip().splitlines()[-1]
    print(f"{last} split={args.split} docs={len(split_docs()[args.split]) if args.split != 'all' else 840}")


if __name__ == "__main__":
    main()
