"""One document as the attribution steps see it: the text with quoted words masked, sentence
and paragraph boundaries computed once, the name index, and the speakers found so far.

Every per-quote look at "the sentence" goes through `sentence_start`/`sentence_end`, which
bisect the precomputed boundaries and never reach further than `MAX_SENTENCE` characters, so
the work per quote is bounded and the whole extractor stays linear in the text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

from .entities import NameIndex
from .lexicon import (
    KIN_FIRST_RE,
    ORG_WORDS,
    TITLE_WORDS,
    currency_codes,
    is_abbreviation,
    is_first_name,
    place_names,
)
from .lowercase import LowerWords
from .marks import Span
from .mentions import Mention, is_place
from .verbs import VERB_FORMS, VERB_RE

# (name, title, "person" | "organisation", confidence)
Resolved = tuple[str, str | None, str, float]
# a pronoun's candidate mention: full name, entity features, subject?, salience, kind, resolution
Candidate = tuple[str, dict[str, float], bool, float, str, Resolved]



@dataclass(frozen=True, slots=True)
class Attribution:
    """Who a rule says spoke one quote."""

    speaker: str | None
    title: str | None
    speaker_type: str | None
    verb: str | None
    channel: str | None
    confidence: float
    rule: str  # which rule fired (a feature of the confidence model)
    found: bool  # an attribution was seen, even when it names nobody ("one person said")

    def moved(self, rule: str, factor: float, found: bool = True) -> Attribution:
        """The same speaker carried to another quote by `rule`."""
        return Attribution(self.speaker, self.title, self.speaker_type, self.verb, self.channel,
                           round(self.confidence * factor, 2), rule, found)


NO_ATTRIBUTION = Attribution(None, None, None, None, None, 0.0, "none", False)

# A "sentence" longer than this (a text with no sentence ends) is read in windows of this size.
MAX_SENTENCE = 600
# Sentence ends: . ! ? (optionally followed by a closing mark) then space and a capital/mark.
_SENT_END_RE = re.compile(r"[.!?][”\"’']?[ \t\xa0]+(?=[“\"‘'(\[A-Z0-9])|\n\s*")
# After a quote that ends with a full stop: spaces, then the capital of the next sentence.
_AFTER_QUOTE_END_RE = re.compile(r"[)\]]?[ \t\xa0]+(?=[A-Z“\"])")
_PRONOUN_RE = re.compile(r"\b([Hh]e|[Ss]he)\b")
# A party letter and a state's abbreviation after a lawmaker's name: "R-Ky", "D-Calif", "(I-Vt"
_PARTY_STATE_RE = re.compile(r"(?:^|[(,])[A-Z]-(?:[A-Z][a-z]{1,4}|[A-Z](?:\.[A-Z])?)$")
# Last words of names of laws, plans and documents, which say nothing themselves.
_NO_SPEAKER_HEADS = frozenset("""act acts bill bills law laws strategy plan treaty agreement accord amendment
directive regulation regulations programme program scheme policy code charter protocol constitution
system festival olympiad games championship championships cup tournament mass awards""".split())
# First words of names of storms and events.
_NO_SPEAKER_FIRSTS = frozenset("hurricane storm typhoon cyclone tropical operation".split())
# Common nouns written in capitals or capitalised that are never speakers' names.
_NOT_NAMES = frozenset("""us u.s. usa uk u.k. covid covid-19 aids hiv sars gdp pm""".split())
# Lower-case nouns after a name that make it a modifier: "the Harbour trial", "Roe data".
_MODIFIED_NOUNS = frozenset("""trial study system data report programme program project team camp website
app software vehicle""".split())


def ends_sentence(text: str, dot: int) -> bool:
    """The one sentence-end check: is the period at `dot` a full stop? Not after a title or
    other abbreviation ("Gov.", "Inc."), an initial ("J.") or an initialism ("U.S.")."""
    word = text[max(0, dot - 8):dot].split()
    if word and _PARTY_STATE_RE.search(word[-1]):
        return False  # "Jane Roe, R-Ky., said": a party and a state's abbreviation
    w = word[-1].lower().lstrip("(“\"") if word else ""
    return not is_abbreviation(w)


def _mask(text: str, spans: list[Span]) -> str:
    """The text with quoted words blanked, so verbs and sentence ends inside quotes are ignored."""
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for sp in spans:
        if sp.start < pos:
            continue
        parts.append(text[pos:sp.start])
        parts.append("x" * (sp.end - sp.start))
        pos = sp.end
    parts.append(text[pos:])
    return "".join(parts)


@lru_cache(maxsize=65536)
def can_speak(name: str, org: bool = True) -> bool:
    """Can a name with this form speak at all? Not a code with digits ("Route 9"), not a place
    (for an organisation-like name), not a law, plan, event or system ("the Harbour Act")."""
    words = name.split()
    if not words or any(c.isdigit() for c in name) or name.lower() in _NOT_NAMES or len(name.strip(".")) < 2:
        return False  # "D" of "(D-Harbour)" names nobody
    if len(words) == 1 and name.isupper() and len(name) > 6 and org:
        return False  # "WORRIES": a headline word in capitals, not an initialism
    if (words[-1].lower() in _NO_SPEAKER_HEADS or words[0].lower() in _NO_SPEAKER_FIRSTS) \
            and (org or len(words) < 2 or not is_first_name(words[0])):
        return False  # "the Harbour Act", but a person may be called "Jane Law"
    if len(words) == 1 and name.isupper() and name in currency_codes():
        return False  # "USD"
    if len(words) >= 2 and words[-1].lower() in place_names() and not is_first_name(words[0]):
        return False  # "Northern Ruritania", "Bolshevik Ruritania": a place
    return not (org and is_place(words))


class Context:
    """Attribution state for one document."""

    def __init__(self, text: str, spans: list[Span], names: NameIndex) -> None:
        self.text = text
        self.spans = spans
        self.names = names
        self.masked = _mask(text, spans)
        self.sent_ends: list[int] = []
        for m in _SENT_END_RE.finditer(self.masked):
            if m.group()[0] == "\n" or m.group()[0] != "." or ends_sentence(self.masked, m.start()):
                self.sent_ends.append(m.end())
        # for distances only, a quote ending with a full stop ends its sentence too
        # (`… a "new start." Roe saw …`); attribution still reads past it (`“We won.” Roe said`)
        self.dist_ends = list(self.sent_ends)
        for sp in spans:
            if sp.close_at > sp.end and text[sp.end - 1:sp.end] in ".!?" and sp.close_at < len(text):
                m2 = _AFTER_QUOTE_END_RE.match(text, sp.close_at)
                if m2:
                    self.dist_ends.append(m2.end())
        self.dist_ends.sort()
        # paragraph starts, for the distance between a pronoun and its candidates
        self.para_starts: list[int] = [0] + [m.end() for m in re.finditer(r"\n\s*", text)]
        # speakers resolved so far, by position
        self.speaker_pos: list[int] = []
        self.speaker_names: list[tuple[str, str | None, str]] = []
        self.subject_cache: dict[int, bool] = {}
        self.salience: dict[int, float] = {}
        self.has_poll = " poll" in text or " survey" in text
        self.role_words: dict[str, set[str]] | None = None  # entity key -> role words (built on demand)
        self._top_person: tuple[str | None] | None = None
        self._pronoun_gender: dict[str, str] | None = None  # inferred genders (built on demand)
        # person_like depends only on the document, and the rules ask it of the same mention
        # for every quote near it
        self._person_like: dict[tuple[int, int, str, str | None, bool, bool], bool] = {}
        self._referred: dict[str, bool] = {}  # entity name -> a bare surname used as a person's
        # a pronoun's candidate mentions, by index and gender (coref), each asked for many pronouns
        self.pronoun_cands: dict[tuple[int, str | None], Candidate | None] = {}
        # slots.resolve_np's answers, by (start, end, subject?, speakers attributed up to end)
        self.slot_answers: dict[tuple[int, int, bool, int], tuple[Resolved | None, bool]] = {}

    # ---- geometry ------------------------------------------------------------------------
    def sentence_start(self, pos: int, floor: int) -> int:
        i = bisect.bisect_right(self.sent_ends, pos) - 1
        s = self.sent_ends[i] if i >= 0 else 0
        return max(s, floor, pos - MAX_SENTENCE)

    def sentence_end(self, pos: int, ceil: int) -> int:
        i = bisect.bisect_right(self.sent_ends, pos)
        e = self.sent_ends[i] if i < len(self.sent_ends) else len(self.text)
        return min(e, ceil, pos + MAX_SENTENCE)

    def clause_start(self, pos: int) -> int:
        """Sentence start for salience and distance: a quote ending with a full stop ends one."""
        i = bisect.bisect_right(self.dist_ends, pos) - 1
        return max(self.dist_ends[i] if i >= 0 else 0, pos - MAX_SENTENCE)

    def separation(self, pos: int, cand: int) -> tuple[int, int]:
        """How many sentence and paragraph boundaries lie between `cand` and `pos`."""
        sents = bisect.bisect_right(self.dist_ends, pos) - bisect.bisect_right(self.dist_ends, cand)
        paras = bisect.bisect_right(self.para_starts, pos) - bisect.bisect_right(self.para_starts, cand)
        return sents, paras

    @property
    def lower_words(self) -> LowerWords:
        """The words the text writes in lower case (asked one at a time)."""
        return self.names.lower_words

    def in_quote(self, pos: int) -> bool:
        return self.masked[pos] == "x" and self.text[pos] != "x"

    # ---- names ---------------------------------------------------------------------------
    def speakable(self, m: Mention) -> bool:
        """Could this mention name a speaker at all? Not inside quoted words, not a place, not a
        code with digits ("Route 9"), not a common word capitalised only by its position
        ("Residents said", "Well, …": the article also writes it in lower case)."""
        if self.masked[m.start] == "x":
            return False
        if not can_speak(m.name, m.org) and (m.org or " " not in (full := self.names.full_name(m.name, m.start))
                                             or not can_speak(full, False)):
            return False  # but "Jo Treaty … Treaty said": the surname of a person the article names
        after = self.text[m.end:m.end + 30].split(None, 1)
        nxt = after[0].rstrip(",.;:") if after else ""
        if nxt.islower() and (nxt in TITLE_WORDS or nxt in _MODIFIED_NOUNS) and not m.possessive:
            return False  # "Harbour coach Jane Roe", "the Nordmark Liberal leader": a modifier
        if " " not in m.name and not m.title:
            low = m.name.lower()
            if low in ORG_WORDS or low.rstrip("s") in ORG_WORDS or (
                    (low in TITLE_WORDS or low.rstrip("s") in TITLE_WORDS) and not m.org
                    and " " not in self.names.full_name(m.name, m.start)):
                return False  # "Committee", "Senators": a description, resolved as one (but "Tove Provost … Provost")
            if self.sentence_start(m.start, 0) >= m.start - 2:
                if low.endswith("s") and not low.endswith("ss") and not m.org and not m.possessive \
                        and not self.names.is_person_name(self.names.full_name(m.name, m.start)):
                    return False  # "Boatbuilders rejected it": a plural opening the sentence, no one named
                return low not in self.lower_words and low not in VERB_FORMS  # "Reports said"
        return True

    def top_person(self) -> str | None:
        """The person the article names most often (None with fewer than two people)."""
        if self._top_person is None:
            people = [e for e in self.names.entities.values() if not e.org]
            top = max(people, key=lambda e: len(e.positions)).name if len(people) >= 2 else None
            self._top_person = (top,)
        return self._top_person[0]

    def person_like(self, m: Mention) -> bool:
        key = (m.start, m.end, m.name, m.title, m.org, m.possessive)  # all speakable reads
        got = self._person_like.get(key)
        if got is None:
            full = self.names.full_name(m.name, m.start)
            got = self._person_like[key] = self.speakable(m) and (
                m.org or bool(m.title) or self.names.is_person_name(full) or self._referred_to(full)
                or self._kin_by_first_name(m, full))
        return got

    def _kin_by_first_name(self, m: Mention, full: str) -> bool:
        """ "His wife Mara said": a first name alone, introduced as someone's relative, is a person."""
        return full == m.name and " " not in m.name and is_first_name(m.name) \
            and KIN_FIRST_RE.search(self.text, max(0, m.start - 30), m.start) is not None

    def _referred_to(self, name: str) -> bool:
        """A bare surname the article names as a speaker ("Roe said") and refers back to as "he"
        or "she" ("Roe arrived late. He …"): a person, though never named in full or with a title."""
        ent = self.names.entity(name)
        if ent is None or ent.org or len(ent.positions) < 2:
            return False
        got = self._referred.get(ent.name)
        if got is None:  # once per entity: a surname may be named thousands of times
            n = len(ent.name)
            # the speech verb first: inferring genders reads the whole text
            got = self._referred[ent.name] = any(
                self.masked.startswith(" ", p + n) and VERB_RE.match(self.masked, p + n + 1) is not None
                for p in ent.positions) and self.gender(ent.name) is not None
        return got

    def gender(self, name: str) -> str | None:
        ent = self.names.entity(name)
        if ent is None:
            return None
        if ent.gender is None:
            if self._pronoun_gender is None:
                self._pronoun_gender = self._infer_genders()
            return self._pronoun_gender.get(ent.name.lower())
        return ent.gender

    def _infer_genders(self) -> dict[str, str]:
        """The gender of people whose first name and title do not tell it, from the pronoun that
        follows them: "Roe won the vote. She thanked …" (the first "he" or "she" after a mention, in
        its paragraph, with no other person or quotation in between; votes must agree)."""
        votes: dict[str, set[str]] = {}
        ms = self.names.mentions
        for k, m in enumerate(ms):
            if m.org or self.masked[m.start] == "x":
                continue
            full = self.names.full_name(m.name, m.start)
            ent = self.names.entity(full)
            if ent is None or ent.gender is not None or ent.org:
                continue
            nxt = ms[k + 1].start if k + 1 < len(ms) else len(self.text)
            p = _PRONOUN_RE.search(self.masked, m.end, min(nxt, m.end + 200, len(self.masked)))
            if p is None or m.possessive or self.text[m.end:m.end + 2].startswith(("’s", "'s")) \
                    or "\n" in self.text[m.end:p.start()] or "xxx" in self.masked[m.end:p.start()]:
                continue  # a pronoun past a paragraph break or a quotation may be anyone's
            votes.setdefault(ent.name.lower(), set()).add("m" if p.group(1).lower() in ("he", "his", "him") else "f")
        return {k: next(iter(v)) for k, v in votes.items() if len(v) == 1}

    def entity_key(self, m: Mention) -> str:
        return ("org:" + m.name if m.org else self.names.full_name(m.name, m.start)).lower()

    def words_before(self, m: Mention, floor: int) -> list[str]:
        """The words before a mention's phrase (its title included), without determiners and
        hyphenated modifiers: "of the anti-tax Harbour Review" -> [..., "of"]."""
        s = m.start
        if m.title and m.org:
            k = self.text.rfind(m.title, max(floor, s - len(m.title) - 4), s)
            if k >= 0:
                s = k
        before = self.text[max(floor, s - 30):s].split()
        while before and (before[-1].lower() in ("the", "a", "an") or (
                before[-1][:1].islower() and "-" in before[-1] and len(before) >= 2)):
            before.pop()
        return before

    def remember(self, pos: int, speaker: str | None, title: str | None, speaker_type: str | None) -> None:
        """A speaker attributed at `pos`, for later pronouns and descriptions."""
        if speaker is None or speaker_type is None:
            return
        i = bisect.bisect_left(self.speaker_pos, pos)
        self.speaker_pos.insert(i, pos)
        self.speaker_names.insert(i, (speaker, title, speaker_type))
