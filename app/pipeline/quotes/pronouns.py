"""Pronoun resolution as a linear scorer over candidates: each person named before the pronoun
(and the last attributed speaker) gets features — how far back in sentences and paragraphs,
whether it is a clause subject or a speech verb's subject, gender agreement, how often the
article names it — and the highest score wins.

The weights are set by hand. `bench/train_pronouns.py` fits them on the tuning part of the gold
set (a conditional logit over each pronoun's candidates); on 2026-11-29 the fitted weights picked
the right candidate no more often than these (0.922 against 0.921 in two-fold cross-validation
over 957 pronouns), so no learned weights are shipped.
"""

from __future__ import annotations

import math

# Hand-set weights; features missing here weigh 0 (recorded for training experiments).
HAND_WEIGHTS: dict[str, float] = {
    "sents": -1.0, "paras": -1.0, "chars": -1.0, "gender_match": 1.0, "subject": 3.0, "salience": 1.0,
    "possessive": -1.0, "subordinate": -0.5, "preposition": -1.0, "same_sentence_subject": 2.0,
    "previous_sentence_subject": 1.0, "last_speaker": 4.0,
}

# When set (by the training script), every resolution appends (pronoun position, candidates)
# with candidates as [(full name, features)].
RECORD: list[tuple[int, list[tuple[str, dict[str, float]]]]] | None = None


def weights() -> dict[str, float]:
    return HAND_WEIGHTS


def score(feats: dict[str, float], w: dict[str, float]) -> float:
    return sum(w.get(k, 0.0) * v for k, v in feats.items())


def mentions_feature(count: int) -> float:
    return math.log1p(count)
