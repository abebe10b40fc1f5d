"""Which words a text writes in lower case, asked one word at a time.

A word is a run of word characters, apostrophes and hyphens (`[\\w’'-]+`). The mention finder
asks whether a capitalised word is also written in lower case ("Residents said …" beside
"residents") about six times per article, so each answer is found by searching the text for
that word instead of listing the text's 400-odd words first (which cost more than all the
questions). Past a number of questions, or on a long text, the list is built once after all,
which keeps the work linear in the text (hostile inputs ask thousands of questions).
"""

from __future__ import annotations

import re

# A word: a run of word characters, apostrophes and hyphens.
_WORD_RE = re.compile(r"[\w’'-]+")
_ASCII_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
# Searching the text costs about as much per question as listing its words costs per 40 words:
# past this many questions, or on texts longer than this, the list is built.
_MAX_SEARCHES = 32
_MAX_SEARCHED_CHARS = 40_000


def _word_char(c: str) -> bool:
    """Is `c` matched by `[\\w’'-]` (re's `\\w` is `str.isalnum` or "_", checked for every code point)?"""
    return c.isalnum() or c in "_’'-"


def _written(text: str, word: str) -> bool:
    """Is `word` one of the words of `text`: found with no word character on either side?"""
    if _WORD_RE.fullmatch(word) is None:
        return False  # empty, or holding a character no word has
    n = len(word)
    i = text.find(word)
    while i >= 0:
        if (i == 0 or not _word_char(text[i - 1])) and (i + n == len(text) or not _word_char(text[i + n])):
            return True
        i = text.find(word, i + 1)
    return False


class LowerWords:
    """`word in LowerWords(text)`: is `word` (lower case) one of the words `text` writes in
    lower case? The same answers as `word in {w for w in _WORD_RE.findall(text) if w.islower()}`."""

    __slots__ = ("_all", "_answers", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._answers: dict[str, bool] = {}
        self._all: frozenset[str] | None = None

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        if self._all is not None:
            return word in self._all
        got = self._answers.get(word)
        if got is None:
            if len(self._answers) >= _MAX_SEARCHES or len(self._text) > _MAX_SEARCHED_CHARS:
                self._all = frozenset(filter(str.islower, _WORD_RE.findall(self._text)))
                return word in self._all
            got = self._answers[word] = word.islower() and _written(self._text, word)
        return got


class PlainWords:
    """Of the words a text writes in lower case, those of plain letters: an ASCII lower-case
    letter, then ASCII lower-case letters, digits, apostrophes and hyphens (no "_", no "é")."""

    __slots__ = ("_lower",)

    def __init__(self, lower: LowerWords) -> None:
        self._lower = lower

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word[:1] in _ASCII_LOWER and "_" not in word \
            and word.replace("’", "").isascii() and word in self._lower
