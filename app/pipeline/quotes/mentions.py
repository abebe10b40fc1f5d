"""Candidate mentions: capitalised phrases split into a title and a name (person or organisation).

"Agency Deputy Administrator Jane Roe" is a mention with title "Agency Deputy Administrator"
and name "Jane Roe"; "the Harbour Board" is an organisation. Titles, particles and suffixes
come from general tables (`lexicon`, `nameparser`), never from lists of people. Everything
is computed once per document with precompiled regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass
from functools import lru_cache

from .lexicon import (
    DAY_HEADS,
    DEMONYM_DETERMINERS,
    FEMALE_HONORIFICS,
    KIN_FIRST_RE,
    MALE_HONORIFICS,
    MONTH_ABBREVIATIONS,
    NAME_SUFFIXES,
    NOBLE_TITLES,
    ORG_WORDS,
    PARTY_WORDS,
    PROGRAMME_HEADS,
    STOP_CAPS,
    TITLE_ABBREVIATIONS,
    TITLE_WORDS,
    country_names,
    demonym,
    is_first_name,
    name_particles,
    place_names,
    regional_demonym,
)
from .lines import AWARD_AFTER_RE, NUMBER_AFTER_RE, dateline_ends, in_headline, plain_single

# Upper-case letters of the Latin, Greek and Cyrillic blocks (re has no \p{Lu}).
UPPER = "".join(chr(c) for c in range(0x41, 0x530) if chr(c).isupper())
_ABBREVS = "(?:" + "|".join(sorted((a.capitalize() for a in TITLE_ABBREVIATIONS), key=len, reverse=True)) + r")\."
_SPACED, _JOINED = name_particles()
_JOINED_RE = "|".join(sorted(_JOINED, key=len, reverse=True))
# A name token: an abbreviation, initials ("H.W."), or a capitalised word, possibly after a
# joined particle ("al-Rashid", "d’Arcy", "O’Roe" and, as some print it, "O’ Roe"); a period
# ends a word only in the first two forms, so "Roe. That" is two phrases.
# A word's letters; UTF-8 read as Latin-1 turns "ñ" into "Ã±", whose second character is no
# letter, so a byte after "Ã" or "Â" stays in the word ("PeÃ±a" is one word, as printed); combining
# marks stay too (decomposed text, NFD, writes "é" as "e\u0301" and "Ã" as "A\u0303").
_WORD_TAIL = ("[\\w\u0300-\u036f]*(?:(?:(?<=[ÃÂ])|(?<=A[\u0302\u0303]))"
              "[\x80-\xa9\xab-\xb4\xb6-\xb9\xbb-\xbf][\\w\u0300-\u036f]*)*")  # no \\w in the class: one way to match
_TOKEN = (rf"(?:{_ABBREVS}|[{UPPER}]\.(?:[{UPPER}]\.)*(?![\w])|(?:(?:{_JOINED_RE})[-’'](?=[{UPPER}]))?"
          rf"(?:Mc|Mac|O[’'] ?)?[{UPPER}]{_WORD_TAIL}(?:[-’'](?!(?:ll|ve|re|m|d)\b)[\w]+)*)")
_PARTICLES = "(?:" + "|".join(sorted(_SPACED | {"of", "for", "and", "on", "&"}, key=len, reverse=True)) + ")"
_GAP = r"[ \t\xa0]+"
# A token opens with a capital, or with a joined particle before one: checked first, it spares
# trying every alternative of _TOKEN at each word start (a quarter of the scan's time).
_TOKEN_START = rf"(?=[{UPPER}]|(?:{_JOINED_RE})[-’'][{UPPER}])"
# not after a hyphen ("anti-Roe groups" names no Roe, "Harbour-Roe" is one word), but a hyphen
# opening a line is a list's bullet ("-Jane Roe explains …")
SEQ_RE = re.compile(rf"(?<![\w@#’'])(?<![^\n]-){_TOKEN_START}{_TOKEN}(?:{_GAP}(?:{_PARTICLES}{_GAP})*{_TOKEN})*")
_TOKEN_RE = re.compile(_TOKEN)


@dataclass(slots=True)
class Mention:
    """A capitalised phrase: an optional title and a name (person or organisation)."""

    start: int  # of the name part
    end: int
    name: str
    title: str | None
    org: bool
    possessive: bool
    honorific: str | None = None  # lower-cased, for gender


@lru_cache(maxsize=65536)
def word_key(tok: str) -> str:
    return tok.lower().rstrip(".").replace("’", "'")


@lru_cache(maxsize=65536)
def _is_title_token(tok: str) -> bool:
    k = word_key(tok)
    if k in TITLE_WORDS or (len(k) > 5 and k.endswith("s") and k[:-1] in TITLE_WORDS):
        return True  # "Senator", "Princes"
    return "-" in k and any(p in TITLE_WORDS for p in k.split("-"))


@lru_cache(maxsize=65536)
def _is_org_token(tok: str) -> bool:
    k = word_key(tok)
    if "-" in k and any(p in ORG_WORDS for p in k.split("-")):
        return True  # "Courier-Journal"
    return k in ORG_WORDS or (tok.isupper() and len(tok) >= 2 and tok.isalpha() and k not in TITLE_WORDS
                              and k not in NAME_SUFFIXES)


# "Harbour-born Jane Roe", "Harbour-based analyst": a capitalised word with one of these
# suffixes modifies the name after it and is no part of it.
_MODIFIER_SUFFIX_RE = re.compile(
    r"-(?:born|based|bred|raised|led|backed|owned|run|funded|made|educated|trained|affiliated|aligned|"
    r"leaning|style|era|area|year-old|years-old|month-old)$")
# Place names look like "First Last" names; their first or last words give them away.
_PLACE_FIRST = frozenset("""new north south east west san los las santa saint st grand great puerto costa
hong united el fort lake mount port upper lower central northern southern eastern western
""".split())
_PLACE_LAST = frozenset("""avenue street road boulevard county city state states island islands river
valley mountains mountain park square beach bay republic kingdom coast village hall airport arena
stadium center centre plaza garden gardens heights hills springs falls district province region
oblast territory strip bank sea ocean gulf peninsula pole junction""".split())
# A title word that is also a surname ends a name: "Jane Roe King".
_SURNAME_TITLES = frozenset({"king", "bishop", "major", "judge", "prince", "pope", "cardinal", "dean", "marshal"})
# Words after "X’s" that show a contraction ("Roe’s been", "Roe’s not") rather than a possessive.
_CONTRACTION_NEXT = frozenset("""been not never also already going gone got done said told made just still
a an the very now become always clearly really here there""".split())
# Title words that name a field or an affiliation, not a person's rank ("National", "Trade").
_AFFILIATIONS = frozenset("""state staff national security homeland trade finance health education energy justice
labor labour commerce transportation agriculture treasury veterans affairs federal foreign defense defence
interior press""".split())
_POSTNOMINALS = frozenset("mp msp mep mla qc kc obe mbe cbe phd md".split())
# Role nouns that are also first names: a role before another first name.
_ROLES_AND_FIRST_NAMES = frozenset({"marine", "colonel", "deputy", "private"})
_RANKS_AND_FIRST_NAMES = frozenset({"earl", "duke", "baron", "marquis"})
_INITIAL_RE = re.compile(rf"[{UPPER}]\.(?:[{UPPER}]\.)*")
_JOINED_TITLE_RE = re.compile(r"[ \t\xa0]+(?:of|for)[ \t\xa0]+(?:the[ \t\xa0]+)?")
_INNER_FUNCTION = frozenset("a an the is was are were to in with has have it its this that not".split())


def is_place(parts: list[str]) -> bool:
    """A country or region ("Ruritania", "North Harbour", "Lake County")."""
    if " ".join(parts).lower() in place_names():
        return True
    if len(parts) < 2 or any(_is_org_token(p) and not p.isupper() and p.lower() not in _PLACE_LAST
                             for p in parts[1:]):
        return False  # "North Harbour Times", "New Port Authority": a body named after a place
    return parts[0].lower() in _PLACE_FIRST or parts[-1].lower() in _PLACE_LAST


@lru_cache(maxsize=65536)
def _is_stop(tok: str) -> bool:
    """Sentence-initial function words and dates; "US" is a country, not the pronoun."""
    if len(tok) > 1 and tok.isupper():
        return False
    k = word_key(tok)
    if k in MONTH_ABBREVIATIONS:
        return tok.endswith(".") or not is_first_name(tok)  # "Jun. 5", "Oct"; but "Jun Holm"
    return k in STOP_CAPS and not _is_title_token(tok)


def _personal(name_toks: list[tuple[int, int, str]]) -> bool:
    """Does this look like a person's name: a first name, or two words or more and none of
    them a body's ("Pilotage Board" is no person)?"""
    return is_first_name(name_toks[0][2]) or (
        len(name_toks) >= 2 and not any(_is_org_token(w) for _, _, w in name_toks))


def is_title_word(word: str) -> bool:
    """ "Minister", "Sen.", "Spokeswoman": a word of a person's title."""
    return _is_title_token(word)


def parse_phrase(text: str, start: int, end: int) -> Mention | None:
    """Split one capitalised phrase into title and name; None when it names nobody."""
    toks = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text, start, end)]
    # leading sentence words ("But", "The") and dates are not part of a name
    i = 0
    while i < len(toks) and _is_stop(toks[i][2]):
        i += 1
    toks = toks[i:]
    while toks and _is_stop(toks[-1][2]):
        toks = toks[:-1]
    # a sentence word inside the phrase ends what came before: "Ruritania. While Roe"
    inner = [j for j in range(1, len(toks)) if _is_stop(toks[j][2])]
    if inner:
        toks = toks[inner[-1] + 1:]
    # post-nominal titles end no name: "Jane Roe MP", "Jane Roe QC"
    postnominal = False
    while len(toks) >= 2 and word_key(toks[-1][2]) in _POSTNOMINALS:
        toks, postnominal = toks[:-1], True
    # "Harbour-born Jane Roe": drop everything up to a "-born" modifier
    for j in range(len(toks) - 2, -1, -1):
        if _MODIFIER_SUFFIX_RE.search(toks[j][2]):
            toks = toks[j + 1:]
            break
    # a possessive inside the phrase ends the name: "Ruritania’s Harbour province"
    for j, (_, _, w) in enumerate(toks[:-1]):
        if w.endswith(("’s", "'s")):
            toks = toks[: j + 1]
            break
    if not toks:
        return None
    honorific = None
    last_title = -1
    # a title word that is also a surname ends a name: "Jane Ann King"
    n_title = len(toks)
    if (len(toks) >= 3 and word_key(toks[-1][2]) in _SURNAME_TITLES
            and not any(_is_title_token(w) or _is_org_token(w) for _, _, w in toks[-3:-1])):
        n_title = len(toks) - 1
    elif len(toks) >= 2 and _is_title_token(toks[-1][2]) and not toks[-1][2].endswith(".") \
            and is_first_name(toks[-2][2]) and not _is_title_token(toks[-2][2]) and not _is_org_token(toks[-2][2]):
        n_title = len(toks) - 1  # a first name, then a title word: its bearer's surname ("Jane Provost")
    for j, (_, _, w) in enumerate(toks[:n_title]):
        if _is_title_token(w):
            last_title = j
            k = word_key(w)
            if k in MALE_HONORIFICS or k in FEMALE_HONORIFICS:
                honorific = k
    name_toks = toks[last_title + 1:]
    title_toks = toks[: last_title + 1]
    if len(title_toks) >= 2 and len(name_toks) == 1 and word_key(title_toks[-1][2]) in _RANKS_AND_FIRST_NAMES \
            and word_key(title_toks[-2][2]) not in NOBLE_TITLES:
        # "Rep. Earl Roe": after a title, a rank that is also a first name starts the name
        title_toks, name_toks = title_toks[:-1], title_toks[-1:] + name_toks
    org = any(_is_org_token(w) for _, _, w in toks)
    if not name_toks:
        if not org:
            return None
        name_toks, title_toks = toks, []
    elif org and title_toks and (_is_org_token(name_toks[0][2]) or all(_is_org_token(w) for _, _, w in name_toks)):
        # "the Ports Department", "National Union of Lockkeepers": the title word names the body
        name_toks, title_toks = toks, []
    elif title_toks and (not _personal(name_toks) or " and " in text[title_toks[-1][1]:name_toks[0][0]]) and (
            (org and any(_is_org_token(w) for _, _, w in title_toks))
            or all(word_key(w) in _AFFILIATIONS for _, _, w in title_toks)):
        # "Department for Ports and Harbours", "National Harbourer": the words read as a
        # title belong to a body's name, as no person's name follows them
        name_toks, title_toks, org = toks, [], True
    elif org and not any(_is_org_token(w) for _, _, w in name_toks) and len(name_toks) >= 1:
        org = False  # "Harbour Board Deputy Press Secretary Jane Roe": the org is in the title
    if org and title_toks and any(_is_org_token(w) for _, _, w in name_toks) and all(
            word_key(w) in PARTY_WORDS or word_key(w) in _AFFILIATIONS for _, _, w in title_toks):
        name_toks, title_toks = toks, []  # "Democratic Harbour Campaign Committee": one body
    if org and len(name_toks) >= 3:
        # "Harbour Gazette Jane Roe", "NASA Jane Roe": a body's name, then a first name and a
        # surname (no body's word, no first name last) name the person who speaks for it
        first = next((j for j, (_, _, w) in enumerate(name_toks) if j and is_first_name(w)), 0)
        rest = name_toks[first + 1:]
        if first and 1 <= len(rest) <= 2 and any(_is_org_token(w) for _, _, w in name_toks[:first]) and not any(
                _is_org_token(w) for _, _, w in rest) and not is_first_name(rest[-1][2]):
            title_toks, name_toks, org = title_toks + name_toks[:first], name_toks[first:], False
    if not org and title_toks and name_toks and _JOINED_TITLE_RE.fullmatch(text, title_toks[-1][1], name_toks[0][0]):
        # "Mayor of Harbourton Jane Roe", "MP for Harbourton", "Commissioner for Harbour Affairs":
        # the words after "of"/"for" name the office's place or field, up to a first name or the
        # last two words; two words or one, with no first name, name the office and nobody
        named = len(name_toks) >= 3
        while len(name_toks) > 2 and not is_first_name(name_toks[0][2]):
            title_toks, name_toks = title_toks + name_toks[:1], name_toks[1:]
        first_names = [is_first_name(w) for _, _, w in name_toks]
        office = (len(name_toks) == 1 or not any(first_names)) if not named else (
            not any(first_names) and is_place([w for _, _, w in name_toks]))
        if office and not any(word_key(w) in NOBLE_TITLES for _, _, w in title_toks):
            title_toks, name_toks = title_toks + name_toks, []
    if not name_toks:
        return None
    while not org and len(name_toks) >= 3 and word_key(name_toks[0][2]) in PARTY_WORDS:
        title_toks, name_toks = title_toks + name_toks[:1], name_toks[1:]  # "Lib Dem Jane Roe"
    if not org and len(name_toks) >= 4:
        # "Amnesty Harbour Jane Roe": words that are no first names before one that is, with a
        # surname after it, name the body or place the person speaks for
        first = next((j for j, (_, _, w) in enumerate(name_toks[:-1]) if is_first_name(w)), 0)
        if first >= 2 and all(w.isalpha() for _, _, w in name_toks[:first]):
            title_toks, name_toks = title_toks + name_toks[:first], name_toks[first:]
    if not org and len(name_toks) >= 3:
        # "Rival Jane Roe", "Ruritania Jane Roe": a word that is no first name before one that is
        # (by the first-name table) describes the person and is no part of the name
        w0, w1 = name_toks[0][2], name_toks[1][2]
        # no particle ("Van Der Roe") and no first name before an initial ("Mary E. Roe")
        keep = w0.lower() in _SPACED or (is_first_name(w0) and _INITIAL_RE.fullmatch(w1) is not None)
        if w0.lower() in _ROLES_AND_FIRST_NAMES and is_first_name(w1) and w1.lower() not in _SPACED:
            title_toks, name_toks = title_toks + name_toks[:1], name_toks[1:]  # "Marine Jon Roe"; not "Marine Le Roe"
            keep = True
        if w0.isalpha() and not keep and (w0.lower() in country_names() or demonym(w0) or (
                (not is_first_name(w0) or w0.lower() in place_names()) and (
                    is_first_name(w1) != is_first_name(w0) or w0.lower() in place_names() and not is_first_name(w1)))):
            if not w0.lower().endswith(("ing", "ed")):
                title_toks = title_toks + name_toks[:1]
            name_toks = name_toks[1:]
    # the possessive "’s" belongs to the phrase, not the name
    s0 = name_toks[0][0]
    e0 = name_toks[-1][1]
    last = text[e0 - 2:e0]
    possessive = False
    if last in ("’s", "'s"):
        e0 -= 2
        nxt = text[e0 + 2:e0 + 40].split()
        # "Roe’s been saying": a contraction of "has"/"is", not a possessive
        possessive = not (nxt and nxt[0].lower().strip(",") in _CONTRACTION_NEXT)
    elif text[e0 - 1:e0] in ("’", "'"):
        e0 -= 1
        possessive = True
    if text[e0 - 1:e0] == "." and e0 - s0 > 2:
        w = text[s0:e0].split()[-1]
        # keep the period of initials ("H.W.") and abbreviations ("Jr."); drop a sentence's
        if not (len(w) <= 3 or w.count(".") > 1):
            e0 -= 1
    name = " ".join(text[s0:e0].split())
    # strip particles the phrase regex let in at the edges ("of", "and")
    parts = name.split()
    while parts and parts[-1].lower() in ("of", "for", "and", "on", "the"):
        parts.pop()
    if not parts:
        return None
    name = " ".join(parts)
    by_last = parts[0].lower() not in _PLACE_FIRST and name.lower() not in place_names()  # "Judge Eastport Hall"
    if not org and is_place(parts) and not (title_toks and by_last):
        org = True  # places speak only as their governments ("North Ruritania said"), a titled person for himself
    if org and postnominal and len(parts) >= 2 and title_toks and not _is_org_token(parts[0]) \
            and not any(_is_org_token(w) for _, _, w in title_toks):
        org = False  # "Judge Eastport Hall QC": a title before and letters after name a person
    if len(parts) >= 3 and all(p.isupper() for p in parts):
        return None  # an all-caps headline, not a name
    if len(parts) > 4 and not org and not any(is_first_name(p) or p.lower() in _SPACED for p in parts):
        return None  # "Share Facebook Twitter Email Print": a row of buttons, no name
    last_word = parts[-1].lower()
    if len(parts) >= 2 and not title_toks and (last_word in PROGRAMME_HEADS or (
            last_word in DAY_HEADS and not is_first_name(parts[0]))):
        if last_word in PROGRAMME_HEADS and len(parts) == 3 and not org and is_first_name(parts[0]) \
                and parts[1][:1].isupper() and parts[1].isalpha() and name_toks[-1][2] == parts[-1]:
            return Mention(s0, name_toks[-2][1], " ".join(parts[:2]), None, False, False, None)  # its host
        return None  # "the Harbour Hour", "the Jane Roe Show", "Harbour Day": a programme or a day
    if any(p.lower() in _INNER_FUNCTION for p in parts[1:]):
        return None  # a title-cased headline ("Roe Is The One To Watch")
    title = " ".join(text[title_toks[0][0]:title_toks[-1][1]].split()) if title_toks else None
    return Mention(s0, e0, name, title, org, possessive, honorific)


_JOINER_RE = re.compile(rf"[ \t\xa0]+({_PARTICLES})[ \t\xa0]+")


def _binds_after_org(text: str, cur: int, at: int, nxt: str) -> bool:
    """ "Commission on Rivers", "Department of Ports and Harbours": a joiner inside an
    organisation's name (the phrase so far names a body; no date or sentence word follows)."""
    prev = text[cur:at].split()
    return bool(prev) and any(_is_org_token(w) for w in prev) and word_key(nxt) not in STOP_CAPS \
        and not is_first_name(nxt)


def _sub_phrases(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a phrase at joiners that do not bind: "Roe and Doe", "Jane Roe of Harbourton".

    "of"/"for" bind after a title or organisation word ("Secretary of State", "Center for
    Public Affairs"); "on" and "and" only inside an organisation's name ("Commission on Rivers",
    "Department of Ports and Harbours"); "&" and name particles ("van der Roe") always bind.
    """
    out: list[tuple[int, int]] = []
    cur = start
    for j in _JOINER_RE.finditer(text, start, end):
        word = j.group(1)
        nxt = text[j.end():end].split(None, 1)[0] if text[j.end():end].strip() else ""
        if word == "and":
            # "Department of Ports and Harbours", but not "University of Harbourton and NRU"
            bind = (" of " in text[cur:j.start()] or " for " in text[cur:j.start()]) and not nxt.isupper() \
                and nxt.lower() not in place_names() and _binds_after_org(text, cur, j.start(), nxt)
        elif word == "on":
            bind = _binds_after_org(text, cur, j.start(), nxt)
        elif word in ("of", "for"):
            prev = text[cur:j.start()].split()
            bind = bool(prev) and (_is_title_token(prev[-1]) or _is_org_token(prev[-1]))
        else:
            bind = True
        if not bind:
            out.append((cur, j.start()))
            cur = j.end()
    out.append((cur, end))
    return out


_INNER_POSSESSIVE_RE = re.compile(r"[’']s[ \t\xa0]+")


def _possessive_split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """ "the Courier’s Jane Roe" is two phrases: the possessor and the name after it."""
    out: list[tuple[int, int]] = []
    cur = start
    for p in _INNER_POSSESSIVE_RE.finditer(text, start, end):
        out.append((cur, p.start() + 2))
        cur = p.end()
    out.append((cur, end))
    return out


def _opening_word_end(text: str, start: int, end: int, common: Callable[[], Container[str]]) -> int:
    """Where a phrase's name may start: after a first word that is capitalised only because it
    opens the sentence ("Interestingly Roe", "Praising Roe") — a word the article also writes in
    lower case, or an adverb in -ly or a participle in -ing or -ed that is no first name."""
    sp = text.find(" ", start, end)
    if sp < 0:
        return start
    word = text[start:sp]
    before = text[max(0, start - 3):start].rstrip(" \t\xa0")
    low = word.lower()
    if _is_title_token(word) or is_first_name(word):
        return start
    if before and before[-1] not in ".!?\n“\"‘'—:":
        # inside a sentence or a title-case headline ("Can Roe Win", "Top Roe aide"): a common
        # word before a person's name is no part of it; a body's name keeps its words
        rest = text[sp + 1:end].split()
        if low in common() and rest and not any(_is_org_token(w) for w in rest) and word.isalpha() \
                and low not in _PLACE_FIRST:  # "New Harbourton Mayor Jane Roe" keeps its place
            return sp + 1
        return start
    if (low.endswith(("ly", "ing", "ed")) and len(low) > 4) or low in common():
        return sp + 1
    return start


def _headline_runs(text: str, start: int, end: int, common: Container[str]) -> list[tuple[int, int]]:
    """A title-case headline capitalises every word: the words the article also writes in lower
    case ("Asks", "Voters", "Everywhere") are no part of a name, so the phrase splits at them."""
    runs: list[tuple[int, int]] = []
    cur = -1
    last = start
    for t in _TOKEN_RE.finditer(text, start, end):
        w = t.group()
        plain = w.lower() in common and not _is_title_token(w) and not is_first_name(w) and not w.isupper()
        if plain:
            if cur >= 0:
                runs.append((cur, last))
            cur = -1
        elif cur < 0:
            cur = t.start()
        if not plain:
            last = t.end()
    if cur >= 0:
        runs.append((cur, last))
    return runs


def find_mentions(text: str, common: Callable[[], Container[str]] | None = None) -> list[Mention]:
    """Every mention in `text`; `common()` gives the words the text writes in lower case."""
    out: list[Mention] = []
    headlines: dict[int, bool] = {}
    datelines = dateline_ends(text)
    d = 0
    line_start, line_end = 0, text.find("\n")  # the line of the phrase, followed forward (linear)
    n_datelines = len(datelines)
    for m in SEQ_RE.finditer(text):
        ms, me = m.span()
        while 0 <= line_end < ms:
            line_start, line_end = line_end + 1, text.find("\n", line_end + 1)
        while d < n_datelines and datelines[d] <= ms:
            d += 1
        if d < n_datelines and text.rfind("\n", 0, datelines[d]) < ms:
            continue  # "HARBOURTON, Ruritania (Wire) —": where the story was filed, and by whom
        g = m.group()
        if " " not in g:
            if _is_stop(g):
                continue  # "The", "But": the commonest phrase, and never a name
            if common is not None and (plain_single(text, ms, g, common) or (
                    NUMBER_AFTER_RE.match(text, me) and g.lower() in common())):
                continue  # "Level 3", "Route 9": a common word labelling a number, no name ("Roe 7-6" is one)
            phrases = [(ms, me)]
        else:
            phrases = _sub_phrases(text, ms, me)
            if common is not None and in_headline(text, line_start, line_end if line_end >= 0 else len(text), headlines):
                phrases = [r for s, e in phrases for r in _headline_runs(text, s, e, common())]
        for s, e in phrases:
            if common is not None and " " in text[s:e]:
                s = _opening_word_end(text, s, e, common)
            parts = _possessive_split(text, s, e) if ("’s " in text[s:e] or "'s " in text[s:e]) else ((s, e),)
            if len(parts) == 2 and " " not in text[parts[0][0]:parts[0][1]] and text[max(0, s - 4):s] in ("the ", "The ") \
                    and not text.startswith(("’s", "'s"), e - 2) \
                    and not is_first_name(text[parts[1][0]:parts[1][1]].split()[0]):
                # "the Sailmaker’s Almanac": a person's name takes no "the", so the possessive word
                # and the words after it name one body
                out.append(Mention(s, e, " ".join(text[s:e].split()), None, True, False, None))
                continue
            if len(parts) == 2 and common is not None and " " not in text[parts[0][0]:parts[0][1]] \
                    and text[parts[0][0]:parts[0][1] - 2].lower() in common():
                parts = ((s, e),)  # "Boatmen’s Bulletin": a common word's possessive inside a body's name
            for ps, pe in parts:
                if text.startswith(" of the ", pe) and AWARD_AFTER_RE.match(text, pe):
                    continue  # "Harbour Person of the Year": an award, no name
                phrase = text[ps:pe]
                # the words after matter only to tell "Roe’s been" from "Roe’s plan"
                after = text[pe:pe + 40].split(None, 1)[0] if phrase.endswith(("’s", "'s")) and pe < len(text) \
                    and text[pe:pe + 40].strip() else ""
                parsed = _parse_cached(phrase, " " + after if after else "")
                if parsed is not None and " " not in parsed[2] and not parsed[3] \
                        and text[max(0, ps - 12):ps].lower().split()[-1:] in DEMONYM_DETERMINERS \
                        and regional_demonym(parsed[2]):
                    continue  # "the Texan", "his fellow Texan": where a person is from, not who ("said Kenyan" is, a surname)
                if parsed is not None:
                    rs, re_, name, title, org, possessive, honorific = parsed
                    if org and " " not in name and not title and is_first_name(name) \
                            and KIN_FIRST_RE.search(text, max(0, ps + rs - 30), ps + rs) is not None:
                        org = False  # "his wife Mara": a first name that is also a region's
                    if not possessive and ps + re_ == pe and phrase.endswith("s") and text[pe:pe + 2] in ("’ ", "' "):
                        possessive = True  # "Moss’ adviser": the mark after the phrase makes it possessive
                    out.append(Mention(ps + rs, ps + re_, name, title, org, possessive, honorific))
    return out


@lru_cache(maxsize=65536)
def _parse_cached(phrase: str, after: str) -> tuple[int, int, str, str | None, bool, bool, str | None] | None:
    """`parse_phrase` of one phrase, which reads nothing but the phrase and the words after it;
    names repeat within and across articles, so most phrases are parsed once per process."""
    m = parse_phrase(phrase + after, 0, len(phrase))
    return None if m is None else (m.start, m.end, m.name, m.title, m.org, m.possessive, m.honorific)
