"""The confidence of one attribution: the probability that the speaker is right, from a small
logistic model over what the rules saw (which rule fired, how the speaker was named, how near
the name stands to the quote).

The weights live in `confidence.json` beside this module; `bench/train_confidence.py` fits
them on the tuning part of the gold set and writes that file (no network, no numpy at run
time: a dot product and a sigmoid).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from .context import Attribution, Context
from .lexicon import is_first_name
from .marks import Span

_WEIGHTS = Path(__file__).with_name("confidence.json")
# How far around a quote the speaker's surname counts as named nearby.
_NEAR = 250
# Confidence of a quote whose speaker nobody names.
UNNAMED = 0.3
# Confidence of a transcript turn's speaker: set, not fitted (the gold set has no transcript turns).
TRANSCRIPT = 0.8


def features(cx: Context, sp: Span, a: Attribution) -> dict[str, float]:
    """Named features of one attribution with a speaker (0/1 indicators)."""
    assert a.speaker is not None
    c = a.confidence
    band = "high" if c >= 0.85 else "mid" if c >= 0.65 else "low"
    f: dict[str, float] = {"bias": 1.0, f"conf={band}": 1.0, f"rule={a.rule}": 1.0,
                           f"type={a.speaker_type}": 1.0}
    words = a.speaker.split()
    f["one_word"] = float(len(words) == 1)
    f["has_title"] = float(a.title is not None)
    f["verb"] = float(a.verb is not None)
    f["verb_said"] = float(a.verb is not None and a.verb.split()[-1].lower() in ("said", "says", "say"))
    lo, hi = max(0, sp.open_at - _NEAR), min(len(cx.text), sp.close_at + _NEAR)
    window = cx.masked[lo:sp.open_at] + " " + cx.masked[sp.close_at:hi]
    f["named_near"] = float(words[-1] in window)
    f["full_near"] = float(len(words) > 1 and a.speaker in window)
    others = {m.name.split()[-1] for m in cx.names.mentions_in(lo, hi)
              if not m.org and m.name.split()[-1] != words[-1] and not cx.in_quote(m.start)}
    f["others_near"] = float(len(others) >= 2)
    f["shared_surname"] = float(cx.names.forms_of(words[-1]) > 1)
    f["long_quote"] = float(sp.end - sp.start > 200)
    f["first_name_known"] = float(len(words) > 1 and is_first_name(words[0]))
    ent = cx.names.entity(a.speaker)
    f["mentioned_often"] = float(ent is not None and len(ent.positions) >= 3)
    f.update(_geometry(cx, sp, a, words[-1], band))
    return f


def _geometry(cx: Context, sp: Span, a: Attribution, surname: str, band: str) -> dict[str, float]:
    """Where the speaker stands relative to the quote: named in its own sentence, or last named
    far back with other people named in between (where carried speakers go wrong)."""
    f: dict[str, float] = {f"rule={a.rule}&conf={band}": 1.0}
    s = cx.sentence_start(sp.open_at, sp.para_start)
    e = cx.sentence_end(sp.close_at, sp.para_end)
    f["named_in_sentence"] = float(surname in cx.masked[s:sp.open_at] or surname in cx.masked[sp.close_at:e])
    if not f["named_in_sentence"]:
        f[f"rule={a.rule}&unnamed_in_sentence"] = 1.0  # a pronoun or a description
    before = {m.name.split()[-1] for m in cx.names.mentions_in(s, sp.open_at)
              if not m.org and not cx.in_quote(m.start)}
    f["people_in_sentence"] = float(len(before | {surname}) >= 2)
    # "…,” Roe said, according to the Courier: the gold may credit the reporting source
    f["according_to"] = float("according to" in cx.masked[s:e])
    f["opens_paragraph"] = float(not cx.masked[sp.para_start:sp.open_at].strip())
    last = cx.masked.rfind(surname, max(0, sp.open_at - 3000), sp.open_at)
    f["last_named_far"] = float(last < 0 or sp.open_at - last > 600)
    if last >= 0:
        between = {m.name.split()[-1] for m in cx.names.mentions_in(last + len(surname), sp.open_at)
                   if not m.org and m.name.split()[-1] != surname and not cx.in_quote(m.start)}
        f["other_between"] = float(bool(between))
    top = cx.top_person()
    if top is not None:
        f["top_person"] = float(top == a.speaker)
    return f


@lru_cache(maxsize=1)
def weights() -> dict[str, float]:
    """The shipped weights (feature name -> weight)."""
    if not _WEIGHTS.is_file():
        return {"bias": 0.0, "conf": 1.0}  # before the first training run: the rule's own figure, squashed
    data: dict[str, float] = json.loads(_WEIGHTS.read_text(encoding="utf-8"))["weights"]
    return data


def probability(feats: dict[str, float], weights: dict[str, float]) -> float:
    z = sum(weights.get(k, 0.0) * v for k, v in feats.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
