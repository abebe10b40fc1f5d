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


# The most each feature of a named candidate but the distances can be: indicators 1, salience 3
# (a speech verb's subject, 2, and the sentence's first name, 1); "mentions" grows with the
# count, no ceiling; "last_speaker" is never a named candidate's.
_FEATURE_MAX = {"gender_match": 1.0, "subject": 1.0, "salience": 3.0, "possessive": 1.0, "subordinate": 1.0,
                "preposition": 1.0, "full_form": 1.0, "titled": 1.0, "last_speaker": 0.0}
# A candidate is the subject of the pronoun's sentence or of the one before, not both.
_SENTENCE_SUBJECT = ("same_sentence_subject", "previous_sentence_subject")
DISTANCES = ("sents", "paras", "chars")


def ceiling(w: dict[str, float], near: bool) -> float | None:
    """The highest score that a named candidate's features other than the distances can add up
    to under `w` (every feature is 0 or more); `near`: the candidate stands in the pronoun's
    sentence or the one before. None when there is no such ceiling: a feature without one
    weighs, or a distance counts for a candidate instead of against it."""
    if any(w.get(k, 0.0) > 0 for k in DISTANCES):
        return None
    total = max(0.0, *(w.get(k, 0.0) for k in _SENTENCE_SUBJECT)) if near else 0.0
    for k, v in w.items():
        if k in DISTANCES or k in _SENTENCE_SUBJECT or v <= 0:
            continue
        if k not in _FEATURE_MAX:
            return None
        total += v * _FEATURE_MAX[k]
    return total


_HAND_CEILINGS = (ceiling(HAND_WEIGHTS, False), ceiling(HAND_WEIGHTS, True))


def candidate_ceiling(w: dict[str, float], near: bool) -> float | None:
    """`ceiling`, computed once for the shipped weights."""
    return _HAND_CEILINGS[near] if w is HAND_WEIGHTS else ceiling(w, near)


def score(feats: dict[str, float], w: dict[str, float]) -> float:
    return sum(w.get(k, 0.0) * v for k, v in feats.items())


def mentions_feature(count: int) -> float:
    return math.log1p(count)
