"""Whose words: a quote after a noun for something said that has an owner, "Roe’s claim that the
pier was “safe”", "her warning that the ferry would be “the last one”". The owner said them.

A rule of the second pass in `assign`, for quotes that no speech verb attributes; it reads only
the quote's own sentence, up to 200 characters before the quote.
"""

from __future__ import annotations

import bisect
import re

from .clauses import resolved
from .context import Context, Resolved
from .coref import compatible, resolve_pronoun
from .lexicon import PREPOSITIONS
from .marks import Span
from .mentions import Mention
from .verbs import VERB_RE

# Nouns for what someone said, wrote or concluded (a closed class of English nouns; not "charge":
# "under her charge").
_SAID_NOUNS = ("accusation|admission|announcement|argument|assertion|boast|call|claim|claims|comment|"
               "comments|complaint|conclusion|declaration|demand|denial|description|insistence|plea|pledge|"
               "prediction|promise|remark|remarks|statement|statements|suggestion|testimony|threat|vow|warning")
# An owner ("Roe’s", "his", "her"), up to three modifiers ("recent evidence-free"), the noun.
_OWNED_RE = re.compile(r"(?:(?P<pron>\b[Hh](?:is|er))|(?P<poss>[’']s))[ \t]+(?:[a-z][\w-]*[ \t]+){0,3}?"
                       rf"(?:{_SAID_NOUNS})\b")
# "directives from ", "a warning from the ": the noun, then where its words came from
_FROM_RE = re.compile(rf"\b(?:{_SAID_NOUNS}|directives?|orders?|instructions?)[ \t]+from[ \t]+(?:the[ \t]+)?$")
_WINDOW = 200
# Between the noun and the quote: a clause, not a new sentence, a list or another speaker's verb.
_MAX_GAP = 120


class OwnedNouns:
    """Every "Roe’s claim" / "his warning" of a text, found in one pass on first use, so that each
    quote asks with a binary search instead of reading its window again."""

    def __init__(self, masked: str) -> None:
        self._masked = masked
        self._found: list[re.Match[str]] | None = None
        self._ends: list[int] = []

    def last_before(self, lo: int, hi: int) -> re.Match[str] | None:
        """The last one lying within [lo, hi)."""
        if self._found is None:
            self._found = list(_OWNED_RE.finditer(self._masked))
            self._ends = [m.end() for m in self._found]
        k = bisect.bisect_right(self._ends, hi) - 1
        return self._found[k] if k >= 0 and self._found[k].start() >= lo else None


def owner_of_words(cx: Context, owned: OwnedNouns, sp: Span, sent_start: int) -> Resolved | None:
    """The owner of the last "Roe’s claim" / "his warning" before the quote in its sentence, when
    no speech verb, semicolon or colon comes between the noun and the quote."""
    masked = cx.masked
    last = owned.last_before(max(sent_start, sp.open_at - _WINDOW), sp.open_at)
    if last is None:
        return _sent_from(cx, sp, sent_start)
    gap = masked[last.end():sp.open_at]
    if len(gap) > _MAX_GAP or ";" in gap or ":" in gap or VERB_RE.search(gap) is not None:
        return None
    first = gap.split(None, 1)[:1]
    if first in ([], ["as"], ["by"]):
        # "Roe’s comments “are baseless”" says something about the comments; "Doe played down
        # Roe’s comments as “…”": someone else's words about them
        return None
    if last.group("pron") is not None:
        gender = "m" if last.group("pron").lower() == "his" else "f"
        # "Roe stood by her claim that …": the person the sentence names before the pronoun
        before = [m for m in cx.names.mentions_in(sent_start, last.start())
                  if not m.org and cx.person_like(m) and compatible(cx, cx.names.full_name(m.name, m.start), gender)
                  and _word_before(cx, m, sent_start) not in PREPOSITIONS]
        if before:
            return resolved(cx, before[-1], 0.6)
        res = resolve_pronoun(cx, last.start(), gender)
        return None if res is None or res[2] != "person" else (res[0], res[1], res[2], min(res[3], 0.6))
    owner = next((m for m in cx.names.mentions_in(max(sent_start, last.start() - 80), last.start() + 1)
                  if m.end == last.start()), None)
    if owner is None or not (owner.org or cx.person_like(owner)):
        return None
    return resolved(cx, owner, 0.6)


def _sent_from(cx: Context, sp: Span, sent_start: int) -> Resolved | None:
    """ "orders from Roe to “hold the line”", "a warning from the Harbour Board that …": the one the
    noun's words came from, the last name before the quote, said them."""
    ms = cx.names.mentions_in(max(sent_start, sp.open_at - _WINDOW), sp.open_at)
    if not ms:
        return None
    m = ms[-1]
    gap = cx.masked[m.end:sp.open_at]
    if m.possessive or len(gap) > _MAX_GAP or any(c in gap for c in ";:,") or VERB_RE.search(gap) is not None \
            or gap.split(None, 1)[:1] not in (["to"], ["that"]) or not (m.org or cx.person_like(m)):
        return None
    if _FROM_RE.search(cx.masked, max(sent_start, m.start - 40), m.start) is None:
        return None
    return resolved(cx, m, 0.6)


def _word_before(cx: Context, m: Mention, floor: int) -> str:
    """The lower-cased word before a mention ("behind" in "behind Roe"), or ""."""
    before = cx.words_before(m, floor)
    return before[-1].lower().strip(",") if before else ""
