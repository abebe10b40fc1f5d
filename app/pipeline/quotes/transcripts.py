"""Transcript turns: paragraphs that open with a speaker's name in capitals and a colon
("ROE: We will appeal.") or with "Q:"/"A:" ("Q."/"A.") in an interview, or with the name in double
parentheses ("((Jane Roe)) We will appeal."), as interviews published on wikis print their turns.
Each turn is a statement of the named speaker, though it carries no quotation marks.

Only a run of at least two such turns by at least two speakers counts as a transcript, and a
capitalised name counts only when the article also names that person in ordinary case, so
headlines ("BREAKING: …") and labels are not read as turns. A short label in capitals that the
article never writes out ("((WN))", "((INT))") is the interviewer's, like "Q".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import is_first_name

# "ROE: …", and as broadcast transcripts introduce a speaker: "JANE ROE, HOST: …",
# "ROE (voice-over): …"
_TURN_RE = re.compile(r"^[ \t\xa0]*(?P<who>Q|A|[A-Z][A-Z’'.-]+(?:[ \t][A-Z][A-Z’'.-]+){0,2})"
                      r"(?:,[ \t]+(?P<role>[A-Z][A-Z’'./&-]*(?:[ \t][A-Z][A-Z’'./&-]*){0,4}))?"
                      r"(?:[ \t]*\([^()\n]{1,30}\))?:[ \t\xa0]+(?P<body>\S[^\n]*)",
                      re.MULTILINE)
# "((Jane Roe))  words": the label holds a name as printed, in any case
_BRACKET_TURN_RE = re.compile(r"^[ \t\xa0]*\(\((?P<who>[^()\n]{1,60})\)\)[ \t\xa0]*(?P<body>\S[^\n]*)", re.MULTILINE)
# "Q. What …?" / "A. We …": the question-and-answer form with full stops
_QA_DOT_RE = re.compile(r"^[ \t\xa0]*(?P<who>Q|A)\.[ \t\xa0]+(?P<body>[A-Z“\"‘'(\[][^\n]*)", re.MULTILINE)
_MIN_TURNS = 2
_MAX_LABELS_SEARCHED = 64  # distinct capitalised labels looked up in the text
_INITIALS_RE = re.compile(r"[A-Z]{2,4}")
_INTRODUCED_RE = re.compile(r"\(\s*[\"“]?([A-Z]{2,4})[\"”]?\s*\)")
_MAX_BRACKET_LABELS = 8  # "((Jane Roe))" labels an abbreviation is matched against
_INTERVIEWER_MAX = 4  # "WN", "INT": a label this short in capitals that names nobody in the text
# "Jane Roe: We will appeal.": a person's name as printed, opening its paragraph; a turn only
# where its initials label later turns ("JR: …"), as interviews print the first answer in full
_NAMED_TURN_RE = re.compile(r"^[ \t\xa0]*(?P<who>[A-Z][a-z]+(?:[ \t][A-Z][\w’'-]+){1,2}):[ \t\xa0]+(?P<body>\S[^\n]*)",
                            re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Turn:
    start: int
    end: int
    who: str  # "Q", "A", the name as printed ("ROE", "JANE ROE"), or "Jane Roe" from "((Jane Roe))"
    role: str | None = None  # "HOST" from "JANE ROE, HOST:"


def find_turns(text: str) -> list[Turn]:
    if ":" not in text and "((" not in text and "Q." not in text:
        return []
    turns: list[Turn] = []
    named: dict[str, bool] = {}  # one search of the text per distinct label, however many turns

    def is_named(who: str) -> bool:
        if who not in named:
            # each search reads the whole text: past a transcript's handful of speakers, a label
            # is taken for no name (thousands of distinct labels made this quadratic)
            named[who] = len(named) < _MAX_LABELS_SEARCHED and _named_in_text(text, who)
        return named[who]

    full: dict[str, tuple[str, str | None]] = {}  # "ROE" -> ("JANE ROE", "HOST") from "JANE ROE, HOST:"
    introductions: dict[str, str] | None = None  # "JR" -> "Jane Roe" from "Jane Roe (JR)", on first need
    unresolved: list[re.Match[str]] = []  # "JR: …" that no introduction in parentheses names
    for m in _TURN_RE.finditer(text):
        who, role = m.group("who"), m.group("role")
        if " " in who and role:
            full[who.split()[-1]] = (who, role)
        if role and who not in ("Q", "A"):
            named[who] = True  # a transcript introduces its speakers: the name and their role
        if who in ("Q", "A") or is_named(who) or who in full:
            who, role = full.get(who, (who, role))
            turns.append(_turn(text, m, who, role))
        elif _INITIALS_RE.fullmatch(who):
            if introductions is None:
                introductions = _introductions(text)
            name = introductions.get(who)
            if name is not None:
                turns.append(_turn(text, m, name))
            else:
                unresolved.append(m)
    if "Q." in text and "A." in text:
        dotted = [_turn(text, m, m.group("who")) for m in _QA_DOT_RE.finditer(text)]
        if {t.who for t in dotted} == {"Q", "A"}:  # both questions and answers, or it is initials
            turns.extend(dotted)
            turns.sort(key=lambda t: t.start)
    if unresolved:
        turns.extend(_initialled_turns(text, unresolved))
    if "((" in text:
        bracketed = [(m, " ".join(m.group("who").split())) for m in _BRACKET_TURN_RE.finditer(text)]
        # an interview's few speakers: the first distinct labels (thousands would make this quadratic)
        labels = list(dict.fromkeys(who for _, who in bracketed if not who.isupper()))[:_MAX_BRACKET_LABELS]
        for m, who in bracketed:
            if who.isupper() and len(who) <= _INTERVIEWER_MAX and not is_named(who):
                # the abbreviation of another label ("((WN))" after "((Harbour News))"), else
                # the interviewer's
                who = next((name for name in labels if _abbreviates(who, name)), "Q")
            elif not who[:1].isupper():
                continue
            turns.append(_turn(text, m, who))
    turns.sort(key=lambda t: t.start)
    speakers = {t.who for t in turns}
    introduced = set(introductions.values()) if introductions else set()
    # answers under initials the article introduced need no second speaker: the questions of
    # such interviews often carry no label at all
    if len(turns) < _MIN_TURNS or (len(speakers) < 2 and not speakers <= introduced):
        return []
    return turns


def _initialled_turns(text: str, unresolved: list[re.Match[str]]) -> list[Turn]:
    """Turns under initials ("JR: …") whose speaker's first turn gives the name in full ("Jane Roe:
    …") earlier in the text: that turn and those the initials label (one pass over each)."""
    firsts: dict[str, re.Match[str] | None] = {}  # initials -> the first "Jane Roe:" turn with them
    for n in _NAMED_TURN_RE.finditer(text, 0, unresolved[-1].start()):
        words = n.group("who").split()
        key = "".join(w[0] for w in words).upper()
        if key not in firsts:
            firsts[key] = n if is_first_name(words[0]) else None
    out: list[Turn] = []
    given: set[int] = set()
    for m in unresolved:
        first = firsts.get(m.group("who"))
        if first is None or first.start() > m.start():
            continue
        if first.start() not in given:
            given.add(first.start())
            out.append(_turn(text, first, first.group("who")))
        out.append(_turn(text, m, first.group("who")))
    return out


def _abbreviates(short: str, name: str) -> bool:
    """Is `short` ("JR", "HN") the initials of `name` ("Jane Roe"), or for a one-word name its
    first letter and then letters of it in order ("HN" for "Harbournews")?"""
    words = name.split()
    if len(words) > 1:
        return "".join(w[0] for w in words).upper() == short
    rest = iter(name[1:].upper())
    return name[:1].upper() == short[:1] and all(c in rest for c in short[1:])


def _turn(text: str, m: re.Match[str], who: str, role: str | None = None) -> Turn:
    s, e = m.span("body")
    while e > s and text[e - 1].isspace():
        e -= 1
    return Turn(s, e, who, role)


def _introductions(text: str) -> dict[str, str]:
    """The people the article introduces with initials in parentheses, "Jane Roe (JR)" or "Omar Ali
    Diallo (OAD)": as many capitalised words as letters right before, each opening with its letter,
    the first a first name (one pass over the text, whatever the number of labels)."""
    found: dict[str, str] = {}
    for m in _INTRODUCED_RE.finditer(text):
        initials = m.group(1)
        if initials in found:
            continue
        got = re.search(rf"(?:[A-Z][\w’'.-]*\s+){{{len(initials)}}}$", text[max(0, m.start() - 80):m.start()])
        if got is not None:
            words = got.group().split()
            # a person's name ("United Nations (UN)" introduces no one who answers)
            if "".join(w[0] for w in words) == initials and is_first_name(words[0]):
                found[initials] = " ".join(words)
    return found


def _named_in_text(text: str, who: str) -> bool:
    """ "ROE" is a speaker when the article writes "Roe" (title case) somewhere else."""
    surname = who.split()[-1]
    proper = surname[:1] + surname[1:].lower()
    return len(surname) >= 2 and re.search(rf"\b{re.escape(proper)}\b", text) is not None
