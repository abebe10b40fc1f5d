"""Transcript turns: paragraphs that open with a speaker's name in capitals and a colon
("ROE: We will appeal.") or with "Q:"/"A:" in an interview. Each turn is a statement of the
named speaker, though it carries no quotation marks.

Only a run of at least two such turns by at least two speakers counts as a transcript, and a
capitalised name counts only when the article also names that person in ordinary case, so
headlines ("BREAKING: …") and labels are not read as turns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TURN_RE = re.compile(r"^[ \t\xa0]*(?P<who>Q|A|[A-Z][A-Z’'.-]+(?:[ \t][A-Z][A-Z’'.-]+){0,2}):[ \t\xa0]+(?P<body>\S[^\n]*)",
                      re.MULTILINE)
_MIN_TURNS = 2


@dataclass(frozen=True, slots=True)
class Turn:
    start: int
    end: int
    who: str  # "Q", "A", or the name as printed ("ROE", "JANE ROE")


def find_turns(text: str) -> list[Turn]:
    if ":" not in text:
        return []
    turns: list[Turn] = []
    for m in _TURN_RE.finditer(text):
        who = m.group("who")
        s, e = m.span("body")
        while e > s and text[e - 1].isspace():
            e -= 1
        if who in ("Q", "A") or _named_in_text(text, who):
            turns.append(Turn(s, e, who))
    speakers = {t.who for t in turns}
    if len(turns) < _MIN_TURNS or len(speakers) < 2:
        return []
    return turns


def _named_in_text(text: str, who: str) -> bool:
    """ "ROE" is a speaker when the article writes "Roe" (title case) somewhere else."""
    surname = who.split()[-1]
    proper = surname[:1] + surname[1:].lower()
    return len(surname) >= 2 and re.search(rf"\b{re.escape(proper)}\b", text) is not None
