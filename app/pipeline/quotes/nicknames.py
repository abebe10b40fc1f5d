"""Nicknames inside names: "Jan “Spike” Roe" is the name "Jan Roe" (the text is blanked, not cut,
so offsets stay those of the article)."""

from __future__ import annotations

import re

from .mentions import UPPER

# Jan “Spike” Roe: a quoted capitalised word or two between a first name and a surname.
_NICK_OPEN_RE = re.compile(r"[ \t\xa0][“\"‘']")
_NICKNAME_RE = re.compile(
    rf"[“\"‘'][{UPPER}][\w.’'-]*(?:[ \t\xa0][{UPPER}][\w.’'-]*)?[”\"’'](?=[ \t\xa0]+[{UPPER}][\w’'-]+)")


def blank_nicknames(text: str) -> str:
    """The text with nicknames blanked (same length), so "Jan “Spike” Roe" reads as the
    name "Jan Roe"."""
    if "“" not in text and '"' not in text and "‘" not in text and "'" not in text:
        return text
    parts: list[str] = []
    pos = 0
    for q in _NICK_OPEN_RE.finditer(text):
        if q.start() < pos or not text[q.start() - 1:q.start()].isalpha():
            continue
        m = _NICKNAME_RE.match(text, q.start() + 1)
        if m is None:
            continue
        before = text[max(0, m.start() - 30):m.start()].split()
        if not before or not before[-1][:1].isupper() or not before[-1].isalpha():
            continue  # the word before must be a capitalised first name
        parts.append(text[pos:m.start()])
        parts.append(" " * (m.end() - m.start()))
        pos = m.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


