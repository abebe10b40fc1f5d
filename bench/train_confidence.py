"""Fit the quote-confidence model on the tuning part of the PolNeAR train gold and write
app/pipeline/quotes/confidence.json.

A logistic regression over the features of `app.pipeline.quotes.confidence.features`, fitted by
Newton's method with a small L2 penalty, in pure Python and deterministic, so the shipped
file can be checked against a fresh run (tests/test_quotes_gold.py does). Only the `tune`
split is read; the held-out part is for `bench/quotes_eval.py --calibration --split heldout`.

News the model was not fitted on is harder than the articles it was fitted on, so the shipped
model is shifted down by a margin (`offset`, subtracted from the bias): fitted on the tuning
articles of all publishers but one and scored on that one's (for each publisher in turn), quotes
with confidence >= 0.9 must have the right speaker at least `CV_TARGET` of the time. Leaving a
whole publisher out is what the service meets in use: outlets whose writing the model never saw
(a two-fold split by article, used until round 4, let every fold see every outlet, and the
promise slipped to 0.948 on the held-out part). The promise the API makes
is "confidence >= 0.9: right >= 95%"; the margin above 0.95 is for news further away still.
The held-out part's quotes turned out to be nearly all from the tuning part's publishers (see
bench/quotes_eval.py): what the margin misses there is the rules fitting the tuning articles, which
leaving a publisher out cannot show. Since round 7 the outside tuning sets of `bench/quotes_unseen.py` (sets 1 and 4: British and
wiki news, and many outlets of 2019) count as two more left-out groups, scored by the model fitted
on the whole tuning part (they are not fitted on): the margin is set by news unlike PolNeAR's too.
Round 7's rules were then written from those two sets, which made them easy (0.98-1.00 right at
>= 0.9) and the pooled figure met its target with no margin at all; so besides the pooled target,
each left-out group must now reach the promise itself (`GROUP_TARGET`), whatever the others do.
Since round 8 the calibration sets (5, 6 and 7: 82 articles from many outlets that no rule was
read from, annotated by readers who write no rules) are one more group, the only one that shows
how often the rules are right on news they were not written from; it set the margin (0.5).
In the outside groups a speaker given where the article names nobody counts as wrong, and
"confidence >= 0.9" is read as the API shows it, rounded to two decimals (0.895 and up).

    python bench/train_confidence.py [--check]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OUT = ROOT / "app" / "pipeline" / "quotes" / "confidence.json"
L2 = 1.0
ITERATIONS = 25
HIGH = 0.9
CV_TARGET = 0.965
GROUP_TARGET = 0.95  # each left-out group on its own (since round 7)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the system is small and positive definite)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def fit(rows: list[tuple[dict[str, float], bool]], start: dict[str, float] | None = None) -> dict[str, float]:
    """Newton's method from zero weights, or from `start` (the same optimum, fewer steps).
    Identical feature vectors are taken once with their counts (about 2.5 times fewer)."""
    names = sorted({k for feats, _ in rows for k in feats})
    idx = {k: i for i, k in enumerate(names)}
    counts: dict[tuple[tuple[int, float], ...], list[float]] = {}  # vector -> [examples, right]
    for feats, right in rows:
        tally = counts.setdefault(tuple((idx[k], v) for k, v in sorted(feats.items())), [0.0, 0.0])
        tally[0] += 1
        tally[1] += right
    w = [(start or {}).get(k, 0.0) for k in names]
    for _ in range(ITERATIONS):
        grad = [L2 * wi if names[i] != "bias" else 0.0 for i, wi in enumerate(w)]
        hess = [[(L2 if i == j and names[i] != "bias" else 0.0) for j in range(len(w))] for i in range(len(w))]
        for x, (n, n_right) in counts.items():
            z = sum(w[i] * v for i, v in x)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g, h = n * p - n_right, n * p * (1 - p)
            for i, v in x:
                grad[i] += g * v
                for j, u in x:
                    hess[i][j] += h * v * u
        step = _solve(hess, grad)
        w = [wi - si for wi, si in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return {k: round(w[i], 6) for k, i in idx.items()}


def _z(feats: dict[str, float], w: dict[str, float]) -> float:
    return sum(w.get(k, 0.0) * v for k, v in feats.items())


def margin(by_doc: dict[str, list[tuple[dict[str, float], bool]]], full: dict[str, float],
           outside: dict[str, list[tuple[dict[str, float], bool]]]) -> float:
    """The smallest bias shift (in steps of 0.05) at which cross-validation leaving one publisher
    out, together with the outside tuning sets scored by the full model (`outside`: rows per
    set), gives quotes with confidence >= HIGH the right speaker CV_TARGET of the time."""
    from quotes_eval import publisher

    docs = sorted(by_doc)
    by_publisher: dict[str, list[tuple[float, bool]]] = {}
    for held_publisher in sorted({publisher(d) for d in docs}):
        held = {d for d in docs if publisher(d) == held_publisher}
        w = fit([row for d in docs if d not in held for row in by_doc[d]], start=full)
        by_publisher[held_publisher] = [(_z(f, w), r) for d in sorted(held) for f, r in by_doc[d]]
    for name, rows in sorted(outside.items()):
        by_publisher[name] = [(_z(f, full), r) for f, r in rows]
    scored = [pair for pairs in by_publisher.values() for pair in pairs]
    # the service shows confidence rounded to two decimals: 0.895 is shown, and filtered, as 0.9
    shown = HIGH - 0.005
    cut = math.log(shown / (1 - shown))

    def share(pairs: list[tuple[float, bool]], step: int) -> float:
        high = [r for z, r in pairs if z - step * 0.05 >= cut]
        return sum(high) / len(high) if high else 1.0

    shift = 3.0
    for step in range(0, 61):
        # pooled, and the promise itself for each group left out: an average over outlets can hide one
        if share(scored, step) >= CV_TARGET and all(share(p, step) >= GROUP_TARGET for p in by_publisher.values()):
            shift = round(step * 0.05, 2)
            break
    for name, pairs in by_publisher.items():
        high = [r for z, r in pairs if z - shift >= cut]
        right = sum(high) / len(high) if high else float("nan")
        print(f"left out {name}: confidence >= {HIGH} right {right:.3f} of {len(high)}", file=sys.stderr)
    return shift


def outside_rows() -> dict[str, list[tuple[dict[str, float], bool]]]:
    """The judged quotes of the outside sets of `bench/quotes_unseen.py`: one group per tuning set
    (1 and 4) and one for the calibration sets (5, 6 and 7) together. A speaker given where the
    article names nobody counts as wrong there (those golds judge a null)."""
    import tempfile

    from quotes_eval import judged_lines
    from quotes_unseen import CALIBRATION_SETS, SETS, TUNING_SETS, write_texts

    groups = {SETS[key][0]: [key] for key in sorted(TUNING_SETS)}
    groups["calibration"] = sorted(CALIBRATION_SETS)
    out: dict[str, list[tuple[dict[str, float], bool]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_texts(root)
        for group, keys in groups.items():
            rows = out.setdefault(group, [])
            for key in keys:
                path = SETS[key][1]
                lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
                judged = judged_lines(lines, root, null_judged=True)
                rows += [(feats, right) for doc in sorted(judged) for _, feats, right in judged[doc]]
    return out


def train() -> dict[str, object]:
    from quotes_eval import judged_by_doc

    by_doc = {d: [(feats, right) for _, feats, right in rows] for d, rows in judged_by_doc("tune").items()}
    rows = [row for d in sorted(by_doc) for row in by_doc[d]]
    weights = fit(rows)
    offset = margin(by_doc, weights, outside_rows())
    weights["bias"] = round(weights["bias"] - offset, 6)
    return {"trained_on": "polnear-train-gold tune split", "examples": len(rows),
            "right": sum(1 for _, r in rows if r), "offset": offset, "weights": weights}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file, write nothing")
    args = parser.parse_args()
    model = train()
    if args.check:
        shipped = json.loads(OUT.read_text(encoding="utf-8"))
        same = shipped == json.loads(json.dumps(model))
        print("shipped model matches" if same else "shipped model differs: rerun without --check")
        sys.exit(0 if same else 1)
    OUT.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {model['examples']} examples, {model['right']} right")


if __name__ == "__main__":
    main()
