"""Score the quote extractor on the PolNeAR train gold, split into a tuning part and a held-out part.

The split was fixed on 2026-11-29, before anyone read the new full-name gold:

- held out: every article of one publisher (`nyt`, none of which is in the 83-article subset the
  rules were first written from), plus every fifth of the other articles, in sorted order, that is
  not in that 83-article subset;
- tune: everything else.

What the held-out part holds (found on 2026-11-30 with `--by-publisher --split heldout`, counts
only): the gold has 3 quotes in the 120 `nyt` articles, whose texts write quotation marks as two
apostrophes (''…''), which the gold's conversion did not take for quotation marks. So 1,225 of the
held-out part's 1,228 quotes are in the 127 articles of the six tuning publishers: its gap to the
tune part is fitting the tuning articles, not an outlet the rules never saw.

Only `--split tune` may be read in detail (`--details`); the held-out part is for one figure.
`--calibration` prints, per confidence bucket, how often the speaker is right, then the score
line (aggregate figures only, so one run on the held-out part gives both of its figures).

    python bench/quotes_eval.py [--split tune|tune-a|tune-b|heldout|all] [--details | --calibration]
    python bench/quotes_eval.py --by-publisher [--split tune|heldout]

`tune-a` and `tune-b` are the tuning part's articles alternately in sorted order: a rule worth
keeping gains on both halves. Both halves share the same six publishers, so they guard against
fitting articles, not outlets: `--by-publisher` scores the tuning part one publisher at a time, and
a rule worth keeping gains on most publishers and loses on none (each is a left-out check for a
rule written from the others' articles).

Last line: e2e_f1=… extract_f1=… attribution=… split=…
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
GOLD = SHARED / "eval" / "polnear-train-gold.jsonl"
FIRST_SUBSET = SHARED / "eval" / "polnear-train-names-gold.jsonl"
HELD_OUT_PUBLISHER = "nyt"


def publisher(doc: str) -> str:
    return doc.rsplit("/", 1)[-1].split("_", 1)[0]


def split_docs() -> dict[str, set[str]]:
    """{"heldout": docs, "tune": docs, "tune-a": docs, "tune-b": docs} by the rule in the module docstring."""
    docs = sorted(json.loads(line)["doc"] for line in GOLD.read_text().splitlines() if line.strip())
    first = {json.loads(line)["doc"] for line in FIRST_SUBSET.read_text().splitlines() if line.strip()}
    held: set[str] = {d for d in docs if publisher(d) == HELD_OUT_PUBLISHER}
    rest = [d for d in docs if d not in held and d not in first]
    held.update(rest[4::5])
    tune = sorted(set(docs) - held)
    # two halves of the tuning part: a change that helps only one of them fits its articles
    return {"heldout": held, "tune": set(tune), "tune-a": set(tune[0::2]), "tune-b": set(tune[1::2])}


def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("score_quotes", SHARED / "eval" / "score_quotes.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def judged_attributions(split: str) -> Iterator[tuple[float, dict[str, float], bool]]:
    """(confidence, features, speaker right?) for every predicted quote with a speaker that matches
    a gold quote whose speaker the gold names, matched as the scorer matches them."""
    for rows in judged_by_doc(split).values():
        yield from rows


def judged_by_doc(split: str) -> dict[str, list[tuple[float, dict[str, float], bool]]]:
    """`judged_attributions` grouped by article (for cross-validation by article)."""
    wanted = None if split == "all" else split_docs()[split]
    lines = [line for line in GOLD.read_text().splitlines()
             if line.strip() and (wanted is None or json.loads(line)["doc"] in wanted)]
    return judged_lines(lines)


def judged_lines(lines: list[str], root: Path = SHARED, *, null_judged: bool = False,
                 ) -> dict[str, list[tuple[float, dict[str, float], bool]]]:
    """For each article of these gold lines (texts under `root`), its quotes that match a gold
    quote with a speaker and have one themselves: (confidence, features, speaker right).
    `null_judged`: a gold null means the article names nobody (the outside sets' convention), so
    a speaker given to such a quote is wrong; in the PolNeAR gold a null is not judged."""
    from app.pipeline.quotes import annotated_quotes

    sc = _scorer()
    out: dict[str, list[tuple[float, dict[str, float], bool]]] = {}
    for line in lines:
        doc = json.loads(line)
        rows = out.setdefault(doc["doc"], [])
        text = (root / doc["doc"]).read_text(encoding="utf-8")
        preds = [qf for qf in annotated_quotes(text) if qf[0].kind != "post"]
        used: set[int] = set()
        for g in doc["quotes"]:
            if g.get("kind") == "post":
                continue
            best, best_ov = -1, 0
            for i, (q, _) in enumerate(preds):
                ov = sc.overlap(g["start"], g["end"], q.start, q.end)
                if i not in used and ov > best_ov and ov >= 0.5 * (g["end"] - g["start"]) \
                        and ov >= 0.5 * max(1, q.end - q.start):
                    best, best_ov = i, ov
            if best < 0:
                continue
            used.add(best)
            q, feats = preds[best]
            if feats is None:
                continue
            if not g.get("speaker"):
                if null_judged:
                    rows.append((q.confidence, feats, False))
                continue
            rows.append((q.confidence, feats, sc.norm_name(q.speaker) == sc.norm_name(g["speaker"])))
    return out


def calibration(split: str) -> str:
    return calibration_table(judged_attributions(split), f"split={split}")


def calibration_table(judged: Iterable[tuple[float, dict[str, float], bool]], label: str) -> str:
    buckets = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01)]
    counts: list[list[int]] = [[0, 0] for _ in buckets]  # [quotes, speaker right] per bucket
    for conf, _, right in judged:
        for k, (lo, hi) in enumerate(buckets):
            if lo <= conf < hi:
                counts[k][0] += 1
                counts[k][1] += int(right)
    lines = [f"confidence     quotes  speaker right   ({label}, named speakers matched to gold)"]
    for (lo, hi), (n, n_right) in zip(buckets, counts, strict=True):
        lines.append(f"[{lo:.2f}, {min(hi, 1.0):.2f}{')' if hi <= 1 else ']'}  {n:7d}  {n_right / n if n else 0:.3f}")
    hi_n = sum(n for (lo, _), (n, _) in zip(buckets, counts, strict=True) if lo >= 0.9)
    hi_r = sum(r for (lo, _), (_, r) in zip(buckets, counts, strict=True) if lo >= 0.9)
    lines.append(f"confidence>=0.9: {hi_n} quotes, speaker right {hi_r / hi_n if hi_n else 0:.3f}")
    return "\n".join(lines)


def score(split: str, details: bool = False) -> str:
    lines = [line for line in GOLD.read_text().splitlines() if line.strip()]
    wanted = None if split == "all" else split_docs()[split]
    return score_lines([line for line in lines if wanted is None or json.loads(line)["doc"] in wanted], details)


def score_lines(gold_lines: list[str], details: bool = False) -> str:
    """score_quotes.py's output for the extractor on these gold lines (documents under ../shared)."""
    return _score_predicted([(line, _predict(line)) for line in gold_lines], details)


def _predict(gold_line: str, root: Path = SHARED) -> str:
    from app.pipeline.quotes import find_quotes

    path = (root / json.loads(gold_line)["doc"]).resolve()
    quotes = [q.to_dict() for q in find_quotes(path.read_text(encoding="utf-8"))]
    return json.dumps({"file": str(path), "quotes": quotes})


def _score_predicted(pairs: list[tuple[str, str]], details: bool = False, root: Path = SHARED) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        gold_path, pred_path = Path(tmp) / "gold.jsonl", Path(tmp) / "pred.jsonl"
        gold_path.write_text("".join(gold + "\n" for gold, _ in pairs))
        pred_path.write_text("".join(pred + "\n" for _, pred in pairs))
        args = [sys.executable, str(SHARED / "eval" / "score_quotes.py"), str(gold_path), str(root),
                "--predictions", str(pred_path)] + (["--details"] if details else [])
        out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=SHARED).stdout
    return out


def _figures(score_line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in score_line.split() if "=" in part)


def by_publisher(split: str = "tune") -> str:
    """A part (the tuning part, or the held-out one as figures only) scored one publisher at a
    time, then as a whole (extraction runs once)."""
    wanted = split_docs()[split]
    lines = [line for line in GOLD.read_text().splitlines() if line.strip() and json.loads(line)["doc"] in wanted]
    pairs = [(line, _predict(line)) for line in lines]
    groups: dict[str, list[tuple[str, str]]] = {}
    for gold, pred in pairs:
        groups.setdefault(publisher(json.loads(gold)["doc"]), []).append((gold, pred))
    rows = [f"{'publisher':<14}{'docs':>5}{'e2e':>8}{'extract':>9}{'attrib':>8}"]
    last: list[str] = []
    for name in sorted(groups) + ["all"]:
        group = pairs if name == "all" else groups[name]
        fig = _figures(_score_predicted(group).strip().splitlines()[-1])
        rows.append(f"{name:<14}{len(group):>5}{fig.get('e2e_f1', '?'):>8}{fig.get('extract_f1', '?'):>9}"
                    f"{fig.get('attribution', '?'):>8}")
        last.append(f"{name}={fig.get('e2e_f1', '?')}")
    return "\n".join(rows + [" ".join(last) + f" split={split} by=publisher"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["tune", "tune-a", "tune-b", "heldout", "all"], default="tune")
    parser.add_argument("--details", action="store_true", help="list misses (tune split only)")
    parser.add_argument("--calibration", action="store_true", help="share of right speakers per confidence bucket")
    parser.add_argument("--by-publisher", action="store_true", help="a part (tune, or heldout as figures), one publisher at a time")
    args = parser.parse_args()
    if args.by_publisher:
        if args.split not in ("tune", "heldout"):
            parser.error("--by-publisher is for --split tune (the default) or heldout")
        print(by_publisher(args.split))
        return
    if args.details and not args.split.startswith("tune"):
        parser.error("--details is for the tuning split only; the held-out part is read as one figure")
    if not GOLD.is_file():
        sys.exit(f"{GOLD} not found")
    if args.calibration:
        # the score line too, so one held-out run gives both figures
        print(calibration(args.split))
        print(f"{score(args.split).strip().splitlines()[-1]} split={args.split}")
        return
    out = score(args.split, args.details)
    if args.details:
        print(out.rstrip())
    last = out.strip().splitlines()[-1]
    print(f"{last} split={args.split} docs={len(split_docs()[args.split]) if args.split != 'all' else 840}")


if __name__ == "__main__":
    main()
