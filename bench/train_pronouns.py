"""Fit the pronoun scorer (app/pipeline/quotes/pronouns.py) on the tuning part of the PolNeAR
train gold and compare it with the hand-set weights by two-fold cross-validation.

Every pronoun the extractor resolves while reading a tune article is recorded with its
candidates; the gold quote nearest the pronoun (within 150 characters) says which candidate is
right. The weights maximise the likelihood of the right candidates under a softmax over each
pronoun's candidates (a conditional logit), with an L2 penalty pulling them towards the hand-set
weights; plain gradient ascent in pure Python, deterministic. Only the `tune` split is read.
Nothing is written: on 2026-11-29 the fitted weights did not beat the hand-set ones.

    python bench/train_pronouns.py
"""

from __future__ import annotations

import bisect
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

L2 = 0.05
STEPS = 400
RATE = 0.5
NEAR = 150

Event = list[tuple[dict[str, float], bool]]


def events() -> list[Event]:
    """One list of (features, right?) per recorded pronoun with at least one right candidate."""
    from quotes_eval import GOLD, SHARED, _scorer, split_docs

    from app.pipeline.quotes import find_quotes, pronouns

    sc = _scorer()
    tune = split_docs()["tune"]
    out: list[Event] = []
    for line in GOLD.read_text().splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        if doc["doc"] not in tune:
            continue
        text = (SHARED / doc["doc"]).read_text(encoding="utf-8")
        gold = sorted((g["start"], g["end"], g["speaker"]) for g in doc["quotes"]
                      if g.get("speaker") and g.get("kind") != "post")
        if not gold:
            continue
        pronouns.RECORD = []
        try:
            find_quotes(text)
            recorded = pronouns.RECORD
        finally:
            pronouns.RECORD = None
        starts = [g[0] for g in gold]
        for pos, cands in recorded:
            k = bisect.bisect_right(starts, pos)
            near = [g for g in gold[max(0, k - 1):k + 1]
                    if min(abs(pos - g[0]), abs(pos - g[1])) <= NEAR or g[0] <= pos <= g[1]]
            if not near or len(cands) < 2:
                continue
            want = sc.norm_name(min(near, key=lambda g: min(abs(pos - g[0]), abs(pos - g[1])))[2])
            labelled = [(f, sc.norm_name(name) == want) for name, f in cands]
            if any(r for _, r in labelled):
                out.append(labelled)
    return out


def fit(evs: list[Event], prior: dict[str, float]) -> dict[str, float]:
    names = sorted({k for ev in evs for f, _ in ev for k in f} | set(prior))
    w = {k: prior.get(k, 0.0) for k in names}
    for _ in range(STEPS):
        grad = {k: -L2 * (w[k] - prior.get(k, 0.0)) * len(evs) for k in names}
        for ev in evs:
            scores = [sum(w[k] * v for k, v in f.items()) for f, _ in ev]
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            z = sum(exps)
            zr = sum(e for e, (_, r) in zip(exps, ev, strict=True) if r)
            for e, (f, r) in zip(exps, ev, strict=True):
                # d log(sum_right / sum_all) / d w = E_right[f] - E_all[f]
                c = (e / zr if r else 0.0) - e / z
                for k, v in f.items():
                    grad[k] += c * v
        for k in names:
            w[k] += RATE * grad[k] / len(evs)
    return {k: round(v, 6) for k, v in w.items()}


def accuracy(evs: list[Event], w: dict[str, float]) -> float:
    right = 0
    for ev in evs:
        scores = [sum(w.get(k, 0.0) * v for k, v in f.items()) for f, _ in ev]
        best = max(range(len(ev)), key=lambda i: (scores[i], -i))
        right += ev[best][1]
    return right / len(evs) if evs else 0.0


def main() -> None:
    from app.pipeline.quotes.pronouns import HAND_WEIGHTS

    evs = events()
    folds = (evs[0::2], evs[1::2])
    for k, (train, held) in enumerate((folds, folds[::-1])):
        w = fit(train, HAND_WEIGHTS)
        print(f"fold {k}: {len(held)} pronouns, right candidate chosen: fitted {accuracy(held, w):.4f}, "
              f"hand-set {accuracy(held, HAND_WEIGHTS):.4f}")


if __name__ == "__main__":
    main()
