"""In-document coreference of names: cluster the mentions of one article by surname and give
each the fullest form the article uses ("Roe" -> "Jane Roe", "Roe" after "John Roe" and
"Jane Roe" -> the nearest one before it).

A clustering of names only; pronouns and descriptions are resolved in `coref`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from .lexicon import (
    AUX_VERBS,
    COMMON_VERB_AFTER,
    FEMALE_HONORIFICS,
    KIN_NOUNS,
    MALE_HONORIFICS,
    NAME_SUFFIXES,
    ORG_WORDS,
    STOP_CAPS,
    first_name_gender,
    is_first_name,
)
from .lowercase import LowerWords, PlainWords
from .mentions import UPPER, Mention, find_mentions, is_title_word, word_key
from .nicknames import blank_nicknames
from .verbs import VERB_FORMS


@dataclass(slots=True)
class Entity:
    """All mentions that share a resolved full name (persons) or a name (organisations)."""

    name: str
    org: bool
    title: str | None = None
    gender: str | None = None  # "m", "f" or None
    first_pos: int = 0
    full: bool = False  # has a first name + surname form
    positions: list[int] = field(default_factory=list)


# "Roe’s wife, Mara," / "his son, Ole,": a first name takes the family's surname
_FAMILY_RE = re.compile(
    rf"[’']s[ \t]+(?:wife|husband|son|daughter|brother|sister|mother|father|widow|widower),[ \t]+([{UPPER}][a-z]+),")
# Kinship nouns: a full name introduced as someone's relative ("her husband, Olaf Roe",
# "brother of singer Olaf Roe", "Olaf Roe, her husband,") is the secondary bearer of the surname.
_KIN = KIN_NOUNS
# Head nouns of bodies named either way round: "Ports Department", "Department of Ports"
ORG_WORDS_TITLE = frozenset("Department Ministry Office Agency Bureau Council Commission Committee Service".split())
# Words that end the phrase between a kinship noun and the name ("his son and Olaf Roe").
_KIN_BREAKS = frozenset("and or but who which that said says told with to from".split())
_KIN_AFTER_RE = re.compile(r",\s+(?:(?:his|her|their|the)\s+|[A-Z][\w-]*[’']s\s+)(?:[\w-]+\s+){0,2}?([a-z-]+)[,.;]")
# Small words an acronym leaves out: "Harbour Pilots Association" -> "HPA".
_ACRONYM_SKIP = frozenset("of for and the on in at to & de la du des del".split())


def _fold(name: str) -> str:
    """The key of a name: lower case, one apostrophe (O’Neill = O'Neill)."""
    return name.lower().replace("’", "'")


# Titles that are only honorifics ("Mr.", "Dr.") give no role.
_HONORIFICS = MALE_HONORIFICS | FEMALE_HONORIFICS | {"dr"}
# A full name this close before a bare surname is the one it means.
_NEAR_FORM = 300
# A surname with this many distinct full forms is not widened further (bounds the work per lookup).
_MAX_FORMS = 40


@lru_cache(maxsize=65536)
def _surname_key(name: str) -> str:
    """The key a name is clustered by: its last word that is no suffix ("Jane Roe Jr." -> "roe");
    looked up for every mention and candidate, and names repeat, so cached."""
    parts = [p for p in name.lower().replace(".", "").replace("’", "'").split() if p not in NAME_SUFFIXES]
    return parts[-1] if parts else name.lower()


_LINE_RE = re.compile(r"[^\n]+")
_HEADLINE_WORDS = re.compile(r"[A-Za-z][\w’'-]*")
# 26 of those words (possessive: a word is never split in two to make up the count)
_OVER_25_WORDS = re.compile(r"(?:[^A-Za-z]*+[A-Za-z][\w’'-]*+){26}")


def _first_surname(parts: list[str]) -> bool:
    """Is the word before the last one of a name of three or more words a first surname
    (Spanish and Portuguese names carry two: "Ana Basañez Roe"), not a first name, an initial,
    a particle or a suffix?"""
    w = parts[-2]
    return w[:1].isupper() and w.isalpha() and len(w) > 2 and not is_first_name(w) \
        and parts[-1].lower().strip(".") not in NAME_SUFFIXES


def _is_headline(text: str, start: int, end: int, first: bool) -> bool:
    """Is the line text[start:end] a headline: the first line (`first`) when it has no full stop,
    or a line written in title case ("Can Roe Win The Harbour Vote?"), where a capitalised word
    before a name says nothing ("Can Roe" is no full name)?"""
    if _OVER_25_WORDS.match(text, start, end):
        return False  # a paragraph, no headline: told by one regex match instead of listing its words
    words = _HEADLINE_WORDS.findall(text, start, end)
    if first and len(words) <= 25 and not text[start:end].rstrip().endswith("."):
        return True  # the first line, with no full stop: a headline
    if not 4 <= len(words) <= 25:
        return False
    # title case leaves short function words in lower case ("Roe and Doe May be Aligning on Tax")
    long_words = [w for w in words if len(w) > 3]
    return len(long_words) >= 3 and sum(w[0].isupper() for w in long_words) >= 0.8 * len(long_words)


def _title_surnames(text: str, mentions: list[Mention]) -> list[Mention]:
    """ "Tove Provost … Provost said": a surname that is also a title word names nobody alone
    (a title wants a name after it), unless the article gives a person with that surname; then
    each capitalised bare use of it, not part of a longer phrase, is that person."""
    lasts = {m.name.rsplit(None, 1)[-1] for m in mentions if not m.org and " " in m.name}
    if lasts:
        mentions = [_as_person(text, m) if m.org and m.name in lasts and m.name.lower() not in ORG_WORDS else m
                    for m in mentions]
    surnames = {w for w in lasts if is_title_word(w)}
    surnames = {w for w in surnames if w.isalpha() and w[:1].isupper()}
    if not surnames:
        return mentions
    taken = [(m.start, m.end) for m in mentions]
    starts = [m.start for m in mentions]
    added: list[Mention] = []
    for hit in re.finditer(r"\b(?:" + "|".join(map(re.escape, sorted(surnames))) + r")\b", text):
        i = bisect.bisect_right(starts, hit.start()) - 1
        if i >= 0 and taken[i][0] <= hit.start() < taken[i][1]:
            continue  # inside a mention already ("Tove Provost")
        before = text[max(0, hit.start() - 2):hit.start()]
        after = text[hit.end():hit.end() + 3]
        cap = _CAP_BEFORE_RE.search(text, max(0, hit.start() - 30), hit.start())
        if (cap and word_key(cap.group().split()[0]) not in STOP_CAPS) or re.match(r"[ \t\xa0]+[A-Z]", after) \
                or before.endswith("-"):
            continue  # "Provost Tom Roe", "Harbour Provost": a title or part of a longer phrase
        possessive = after.startswith(("’s", "'s"))
        if cap or hit.start() == 0 or _OPENS_SENTENCE_RE.search(text, max(0, hit.start() - 4), hit.start()):
            nxt = _NEXT_WORD_RE.match(text, hit.end())
            if possessive or nxt is None or not _verb_like(nxt.group(1)):
                continue  # "Warden posts …": capitalised by the sentence's start, no name
        added.append(Mention(hit.start(), hit.end(), hit.group(), None, False, possessive))
    return sorted(mentions + added, key=lambda m: m.start) if added else mentions


_OPENS_SENTENCE_RE = re.compile(r"(?:[.!?:;][”\"’']?[ \t\xa0]+|\n[ \t\xa0]*|[“\"‘][ \t\xa0]*)$")
_NEXT_WORD_RE = re.compile(r"[ \t\xa0]+([a-z][\w’'-]*)")


def _as_person(text: str, m: Mention) -> Mention:
    """ "Ada Chad … Chad landed a dig": a place word the article gives as a person's surname is
    that person where a verb or an appositive follows it (not "in Chad")."""
    nxt = _NEXT_WORD_RE.match(text, m.end)
    if (nxt is not None and _verb_like(nxt.group(1))) or _APPOSITIVE_AFTER_RE.match(text, m.end):
        return Mention(m.start, m.end, m.name, m.title, False, m.possessive, m.honorific)
    return m


_APPOSITIVE_AFTER_RE = re.compile(r",[ \t\xa0]+(?:a|an|the)[ \t\xa0]")


def _verb_like(word: str) -> bool:
    return word in VERB_FORMS or word in AUX_VERBS or word in COMMON_VERB_AFTER or word.endswith("ed")


# A capitalised word right before a position (the end of a longer capitalised phrase).
_CAP_BEFORE_RE = re.compile(r"[A-Z][\w.’'-]*[ \t\xa0]+$")


class NameIndex:
    """Surname clusters of one document, with the positions of every mention."""

    def __init__(self, text: str, extra: str | None = None, quoted: list[tuple[int, int]] | None = None) -> None:
        self.text = text
        # names inside quoted words ("the book “The Real Jane Roe”") widen a surname only
        # when the article gives no form outside quotes
        self._quoted = sorted(quoted or [])
        self._quoted_starts = [q[0] for q in self._quoted]
        self._by_surname_quoted: dict[str, tuple[list[int], list[str]]] = {}
        # the words the text writes in lower case, asked of by mentions and context
        self.lower_words = LowerWords(text)
        plain = PlainWords(self.lower_words)
        self.mentions = _title_surnames(text, find_mentions(blank_nicknames(text), lambda: plain))
        self.starts = [m.start for m in self.mentions]
        self.entities: dict[str, Entity] = {}
        # full-name forms by surname key, in order of appearance: positions and names side
        # by side (for bisect), plus the distinct forms, so lookups stay fast on long texts
        self._by_surname: dict[str, tuple[list[int], list[str]]] = {}
        self._distinct: dict[str, list[str]] = {}
        self._acronyms: dict[str, str] = {}
        self._kin: set[str] = set()  # full forms introduced as someone's relative
        self._kin_intro: set[int] = set()  # where they were so introduced
        self._by_first: dict[str, set[str]] = {}
        self._by_first_surname: dict[str, set[str]] = {}  # "Basañez" of "Ana Basañez Roe" -> the full forms
        self._family_firsts: set[str] = set()  # first names given as a relative's ("Roe’s wife, Mara,")
        self._full: dict[tuple[str, int], str] | None = None  # memo of full_name, once complete
        # the line of the latest form (forms come in order of position: the line is followed
        # forward), and whether it is a headline; only lines that give a full name are judged
        first_line = _LINE_RE.search(text)
        self._first_line = first_line.start() if first_line else -1
        self._line: tuple[int, int, bool | None] = (0, text.find("\n"), None)
        self._orgs: list[str] | None = None  # names of bodies, for fullest_org
        self._slips: dict[str, set[str]] | None = None  # a surname with one letter left out -> surnames
        self._org_forms: dict[str, str] = {}  # memo of fullest_org (several words) and org_opening_with (one)
        for fm in _FAMILY_RE.finditer(text):
            owner = text[max(0, fm.start() - 30):fm.start()].split()[-1:]
            if owner and owner[0][:1].isupper() and owner[0].isalpha():
                first = fm.group(1)
                self._by_first.setdefault(first.lower(), set()).add(f"{first} {owner[0]}")
                self._family_firsts.add(first.lower())
        if extra:
            # names in the headline count as given before the body (position -1)
            for m in find_mentions(extra):
                if not m.org and len(m.name.split()) >= 2:
                    self._add_form(-1, m.name)
        for m in self.mentions:
            self._register(m)
        # the index is complete: from here on a lookup's answer never changes, and the rules
        # ask for the same name at the same place many times
        self._full = {}

    @staticmethod
    def key(name: str) -> str:
        return _surname_key(name)

    def _register(self, m: Mention) -> None:
        if m.org:
            key = "org:" + _fold(m.name)
            ent = self.entities.get(key) or self.entities.setdefault(key, Entity(m.name, True, first_pos=m.start))
            words = [w for w in m.name.split() if w.lower() not in _ACRONYM_SKIP]
            if len(words) >= 2 and all(w[:1].isupper() for w in words):
                self._acronyms.setdefault("".join(w[0] for w in words), m.name)
            ent.positions.append(m.start)
            return
        parts = m.name.split()
        if len(parts) >= 2:
            if _is_kin(self.text, m):
                self._kin.add(m.name)
                self._kin_intro.add(m.start)
            self._add_form(m.start, m.name)
            self._by_first.setdefault(parts[0].lower(), set()).add(m.name)
            if len(parts) >= 3 and _first_surname(parts):
                self._by_first_surname.setdefault(parts[-2].lower(), set()).add(m.name)
        # entities are keyed by the resolved full name, so "Jane Roe" and "John Roe" stay apart
        full = self._full_name(m.name, m.start)  # the index is still growing: no memo
        ek = _fold(full)
        ent = self.entities.get(ek) or self.entities.setdefault(ek, Entity(full, False, first_pos=m.start))
        ent.positions.append(m.start)
        fparts = full.split()
        if len(fparts) >= 2:
            ent.full = True
            g = first_name_gender(fparts[0])
            if g and ent.gender is None:
                ent.gender = g
        if m.honorific:
            if m.honorific in MALE_HONORIFICS:
                ent.gender = "m"
            elif m.honorific in FEMALE_HONORIFICS:
                ent.gender = "f"
        if m.title and (ent.title is None or len(m.title) > len(ent.title)):
            if not all(word_key(w) in _HONORIFICS for w in m.title.split()):
                ent.title = m.title

    def _in_headline(self, pos: int) -> bool:
        start, end, headline = self._line
        if pos < start:  # not in order (no caller does this): find the line afresh
            start, end, headline = self.text.rfind("\n", 0, pos) + 1, self.text.find("\n", pos), None
        while 0 <= end < pos:
            start, end, headline = end + 1, self.text.find("\n", end + 1), None
        if headline is None:
            headline = _is_headline(self.text, start, end if end >= 0 else len(self.text), start == self._first_line)
        self._line = (start, end, headline)
        return headline

    def _in_quote(self, pos: int) -> bool:
        i = bisect.bisect_right(self._quoted_starts, pos) - 1
        return i >= 0 and pos < self._quoted[i][1]

    def _add_form(self, pos: int, name: str) -> None:
        k = _surname_key(name)
        if pos >= 0 and ((self._quoted and self._in_quote(pos)) or self._in_headline(pos)):
            # a form inside quoted words or a title-case line counts only when the body gives none
            qposs, qnames = self._by_surname_quoted.setdefault(k, ([], []))
            qposs.append(pos)
            qnames.append(name)
            return
        poss, names = self._by_surname.setdefault(k, ([], []))
        poss.append(pos)
        names.append(name)
        distinct = self._distinct.setdefault(k, [])
        if len(distinct) < _MAX_FORMS and name not in distinct:
            distinct.append(name)

    def full_name(self, name: str, pos: int) -> str:
        """The fullest form of `name` the document gives, preferring the nearest one before `pos`."""
        memo = self._full
        if memo is None:
            return self._full_name(name, pos)
        got = memo.get((name, pos))
        if got is None:
            got = memo[name, pos] = self._full_name(name, pos)
        return got

    def _full_name(self, name: str, pos: int) -> str:
        parts = name.split()
        k = _surname_key(name)
        forms = self._by_surname.get(k) or self._by_surname_quoted.get(k)
        if len(parts) == 1 and not forms:
            firsts = self._by_first.get(parts[0].lower())
            if firsts and len(firsts) == 1 and (parts[0].lower() in self._family_firsts or is_first_name(parts[0])):
                # "Jane" -> "Jane Roe"; but a surname never given in full is no first name of a
                # phrase it opens ("Roe" is not "Roe Express")
                return next(iter(firsts))
            doubles = self._by_first_surname.get(parts[0].lower())
            if doubles and len(doubles) == 1:
                # "Ana Basañez Roe … Basañez said": of two surnames, the first alone names the person
                return next(iter(doubles))
            # (a slip is looked for once the index is complete: every surname known)
            near = self._misspelt(parts[0]) if self._full is not None else None
            return self._full_name(near, pos) if near is not None else name
        if not forms:
            return name
        poss, names = forms
        if len(parts) >= 2:
            # a full form already: only widen it when a longer form shares its first name
            # ("Jo Roe" -> "Joanna Roe") or ends with it ("Li Wen" -> "Jane Li Wen")
            distinct = self._distinct.get(k, [])
            longer = [f for f in distinct if len(f) > len(name) and (f not in self._kin or name in self._kin) and (
                f.split()[0] == parts[0] or (f.split()[0].startswith(parts[0]) and len(f.split()) == len(parts))
                or f.endswith(" " + name))]  # ("his father, Jo Roe Sr." is someone else)
            return longer[-1] if longer else name
        i = bisect.bisect_right(poss, pos) - 1
        if self._kin and any(n not in self._kin for n in names):
            # a relative named in passing ("her husband, Olaf Roe") is not who a bare
            # surname means, the article's own bearer of the name is; unless the relative was
            # just named in full again ("Olaf Roe spoke with voters. … Roe said")
            while i >= 0 and names[i] in self._kin and (poss[i] in self._kin_intro or pos - poss[i] > _NEAR_FORM):
                i -= 1
            if i < 0:
                i = next(k for k, n in enumerate(names) if n not in self._kin)
        nearest = names[i] if i >= 0 else names[0]
        if i >= 0 and pos - poss[i] > _NEAR_FORM and nearest != names[0]:
            # two people share the surname and the other was not just named: a bare surname
            # is the one the article introduced first (relatives and namesakes named in
            # passing are named in full again)
            nearest = next((n for n in names if n not in self._kin), names[0])
        return self._full_name(nearest, pos) if " " in nearest else nearest  # "Roe" -> "Jane Roe" -> "Jane Roe III"

    def _misspelt(self, word: str) -> str | None:
        """ "Kvsitad" after "Anders Kvistad", "Brenagh" after "Tove Brennagh": a surname the article
        never gives in full that is one slip (two letters swapped, one letter left out or added, not
        one changed: "Vandor" is not "Valdor") from exactly one surname it does give. Looked up by
        the slips' variants (linear in the words, not words times surnames)."""
        if len(word) < 5 or not word.isalpha() or not word[:1].isupper():
            return None
        low = word.lower()
        if self._slips is None:
            self._slips = {}
            for k in self._by_surname:
                for i in range(1, len(k)):  # keep the first letter: a slip rarely starts a name
                    self._slips.setdefault(k[:i] + k[i + 1:], set()).add(k)
        keys = set(self._slips.get(low, ()))  # a letter left out of `word`
        for i in range(1, len(low)):
            for v in (low[:i] + low[i + 1:], low[:i - 1] + low[i] + low[i - 1] + low[i + 1:] if i > 1 else ""):
                if v and v != low and v in self._by_surname:
                    keys.add(v)  # a letter added to `word`, or two swapped
        keys.discard(low)
        if len(keys) != 1:
            return None
        return self._by_surname[next(iter(keys))][1][-1].split()[-1]

    def introduces_kin(self, pos: int) -> bool:
        """Does the mention at `pos` introduce someone as another's relative ("her husband, Olaf Roe")?"""
        return pos in self._kin_intro

    def distinct_forms(self, surname: str) -> list[str]:
        """The distinct full names the article gives with this surname, in order of appearance."""
        return list(self._distinct.get(_surname_key(surname), ()))

    def forms_of(self, surname: str) -> int:
        """How many distinct full names the article gives with this surname."""
        return len(self._distinct.get(_surname_key(surname), ()))

    def entity(self, full: str) -> Entity | None:
        return self.entities.get(_fold(full)) or self.entities.get("org:" + _fold(full))

    def fullest_org(self, name: str) -> str:
        """ "Daily Gazette" -> "Harbour Daily Gazette": the one longer name of a body the article gives
        that ends with this one (two words at least: "News" or "House" alone may be any of several)."""
        if len(name.split()) < 2:
            return name
        got = self._org_forms.get(name)
        if got is None:
            got = self._org_forms[name] = self._fullest_org(name)
        return got

    def _fullest_org(self, name: str) -> str:
        if self._orgs is None:
            self._orgs = [e.name for e in self.entities.values() if e.org]
        longer = {o for o in self._orgs if o.endswith(" " + name) and o[:1].isupper()}
        if len(longer) > 1:
            # "HT Daily Gazette" beside "Harbour Town Daily Gazette": the initials stand for the words
            prefixes = {o[:-len(name)].strip() for o in longer}
            initials = {"".join(w[0] for w in p.split()) for p in prefixes}
            longer = {o for o in longer if o[:-len(name)].strip().replace(".", "") not in initials}
        words = name.split()
        if not longer and len(words) == 2 and words[1] in ORG_WORDS_TITLE:
            # "Ports Department" -> "Harbour Department of Ports": the head noun first
            turned = (f"{words[1]} of {words[0]}", f"{words[1]} of the {words[0]}")
            longer = {o for o in self._orgs for t in turned if o == t or o.endswith(" " + t)}
        return next(iter(longer)) if len(longer) == 1 else name

    def org_opening_with(self, word: str) -> str | None:
        """ "Norsk" -> "Norsk Shipping Group": the one body the article names starting with `word`."""
        if word in self._org_forms:
            return self._org_forms[word] or None
        if self._orgs is None:
            self._orgs = [e.name for e in self.entities.values() if e.org]
        found = {o for o in self._orgs if o.startswith(word + " ")}
        self._org_forms[word] = next(iter(found)) if len(found) == 1 else ""
        return self._org_forms[word] or None

    def spelled_out(self, acronym: str) -> str:
        """ "HPA" -> "Harbour Pilots Association" when the article spells the body's name out."""
        return self._acronyms.get(acronym, acronym)

    def back_from(self, pos: int, floor: int) -> Iterator[Mention]:
        """The mentions that start before `pos` and at or after `floor`, the nearest first."""
        i = bisect.bisect_left(self.starts, pos) - 1
        while i >= 0 and self.mentions[i].start >= floor:
            yield self.mentions[i]
            i -= 1

    def mentions_in(self, start: int, end: int) -> list[Mention]:
        # mentions are in order of start: two bisects bound the ones that start inside
        i = bisect.bisect_left(self.starts, start)
        return [m for m in self.mentions[i:bisect.bisect_left(self.starts, end, i)] if m.end <= end]

    def is_person_name(self, name: str) -> bool:
        """Multi-word names, or surnames the document also gives in full or with a title."""
        ent = self.entities.get(_fold(name))
        if ent is None or ent.org:
            return False
        return len(name.split()) >= 2 or ent.full or ent.title is not None


def _is_kin(text: str, m: Mention) -> bool:
    """Is the mention introduced by a kinship noun: "her husband, former senator Olaf Roe",
    "brother of singer Olaf Roe", or "Olaf Roe, her husband," / "Olaf Roe, Tove Roe's brother."?"""
    before = text[max(0, m.start - 60):m.start]
    before = before[max(before.rfind("."), before.rfind("\n")) + 1:]
    words = [w.strip(",").lower() for w in before.split()[-6:]]
    for k in range(len(words) - 1, -1, -1):
        if words[k] in _KIN:
            return True
        if words[k] in _KIN_BREAKS:
            break
    a = _KIN_AFTER_RE.match(text, m.end, m.end + 60)
    return a is not None and a.group(1) in _KIN
