"""Lines whose layout says their capitals are no names: a dateline opening a paragraph
("HARBOURTON, Ruritania (Wire) —") and a headline in title case ("Roe Asks Voters To Wait").

Each is found with one pass over the text (datelines) or one look per line (headlines).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container

from .lexicon import TITLE_WORDS, is_first_name

# Upper-case letters of the Latin, Greek and Cyrillic blocks (re has no \p{Lu}).
_UPPER = "".join(chr(c) for c in range(0x41, 0x530) if chr(c).isupper())
# A dateline opening a paragraph: a place in capitals, perhaps its region, perhaps a credit in
# parentheses, then a dash.
_DATELINE_RE = re.compile(
    rf"^[ \t\xa0]*[{_UPPER}][{_UPPER}.’'-]+(?:[ \t\xa0]+[{_UPPER}][{_UPPER}.’'-]+){{0,3}}"
    r"(?:,[ \t\xa0]+[A-Z][\w.]*(?:[ \t\xa0]+[A-Z][\w.]*){0,3}){0,2}"
    r"(?:[ \t\xa0]*\([^()\n]{1,40}\))?[ \t\xa0]*(?:—|–|--?)[ \t\xa0]", re.MULTILINE)
_HEADLINE_SMALL = frozenset("a an the of to in on at for by and or with as from vs via".split())


def dateline_ends(text: str) -> list[int]:
    """Where each dateline ends (its paragraph starts at the line before), in order."""
    if "—" not in text and "-" not in text and "–" not in text:
        return []
    return [d.end() for d in _DATELINE_RE.finditer(text)]


def in_headline(text: str, start: int, end: int, seen: dict[int, bool]) -> bool:
    """Is the line text[start:end] written in title case, every word capitalised but the small
    ones ("Roe Asks Voters Everywhere To Wait")? Each line is judged once (`seen`)."""
    if start not in seen:
        words = [w for w in text[start:end].split(None, 26)[:26] if w[:1].isalpha()]
        seen[start] = 4 <= len(words) <= 25 and all(w[:1].isupper() or w in _HEADLINE_SMALL for w in words)
    return seen[start]


# "… Person of the Year": an award's name, not a person's.
AWARD_AFTER_RE = re.compile(r" of the (?:Year|Month|Week|Day|Decade|Century|Match|Season|Tournament)\b")
# A number after a capitalised word makes it a label ("Level 3", "Route 9").
NUMBER_AFTER_RE = re.compile(r"[ \t\xa0]+\d")
_OFFICE_OF_RE = re.compile(r"(\w+)[ \t\xa0]+(?:of|for)[ \t\xa0]+(?:the[ \t\xa0]+)?$")


def plain_single(text: str, start: int, word: str, common: Callable[[], Container[str]]) -> bool:
    """One capitalised word that names nobody: a participle or adverb opening a sentence that the
    article also writes in lower case ("Salted cod is …"), or the field of an office
    written in lower case ("the chancellor of the Exchequer")."""
    before = text[max(0, start - 40):start]
    if before.endswith((" of ", " for ", " of the ", " for the ")):
        office = _OFFICE_OF_RE.search(before)
        if office and office.group(1).islower() and office.group(1) in TITLE_WORDS:
            return True
    low = word.lower()
    return (len(low) > 4 and low.endswith(("ed", "ing", "ly")) and before.rstrip(" \t\xa0")[-1:] in ("", ".", "\n")
            and not is_first_name(word) and low in common())
