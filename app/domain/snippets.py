"""Search snippets: an HTML-escaped excerpt around a query's first match in a text, matches
in <mark>. Pure. A long text is analysed only around its first match when nothing before it
could fold into an earlier one (app.domain.query's analysis decides what matches)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from app.domain.query import (
    _ASCII,
    _TOKEN,
    MAX_TOKEN_CHARS,
    Query,
    _ascii_words,
    _head,
    _heads_pattern,
    _separates,
    _spans,
    _stem_cached,
    fold,
)


def _hit_spans(query: Query, text: str) -> list[tuple[int, int]]:
    spans = list(_spans(text))
    folded = [t for _, _, t, _ in spans]
    hits: set[tuple[int, int]] = set()
    for term in query.positive_terms:
        n, head, last = len(term.tokens), term.tokens[0], term.tokens[-1]
        key = term.key if term.stemmed else None
        for i in range(len(folded) - n + 1):
            word = folded[i]
            if n == 1:
                ok = word == last or (term.prefix and word.startswith(last))
                if not ok and key is not None:
                    ok = not spans[i][3] and word[:1] == key[:1] and _stem_cached(word) == key
            else:
                ok = word == head and folded[i:i + n - 1] == list(term.tokens[:-1]) and (
                    folded[i + n - 1] == last or (term.prefix and folded[i + n - 1].startswith(last)))
            if ok:
                hits.add((spans[i][0], spans[i + n - 1][1]))
    return sorted(hits)


@lru_cache(maxsize=256)  # per query, not per hit: a page's snippets share it
def _locator(query: Query, *, lowered: bool = False) -> re.Pattern[str]:
    """A cheap case-insensitive search for where a match probably starts (text of ASCII words
    only): a phrase's words in a row, a word's head. A phrase found by its first word alone would
    send the search back to the whole text whenever that word comes first elsewhere. `lowered`:
    for lower-cased text, searched case-sensitively (the tokens are lower case), several times
    faster than re.IGNORECASE."""
    parts = {r"[\W_]+".join(map(re.escape, t.tokens)) if len(t.tokens) > 1 else re.escape(_head(t))
             for t in query.positive_terms}
    return re.compile("|".join(sorted(parts)), 0 if lowered else re.IGNORECASE)


_WORD_START = re.compile(r"(?<![^\W_])")  # not inside a word


def _locate(locator: re.Pattern[str], text: str, pos: int = 0, endpos: int | None = None) -> int:
    """Where the locator first matches at the start of a word in text[pos:endpos], or -1. The
    words are searched without the word-start condition and each hit checked: a pattern that
    starts with a look-behind is searched position by position, one that starts with its word
    by a fast literal search."""
    end = len(text) if endpos is None else endpos
    while (found := locator.search(text, pos, end)) is not None:
        if _WORD_START.match(text, found.start()):
            return found.start()
        pos = found.start() + 1
    return -1


_NON_ASCII_CHUNK = re.compile(r"\S*[^\x00-\x7f]\S*")


def _folds_to_a_head(query: Query, text: str) -> bool:
    """Whether a word of the text with non-ASCII characters, folded, starts like a token of a
    match (a word's head, see _head, or any word of a phrase): the only places a match can lie
    that the ASCII patterns do not see."""
    words = {w for t in query.positive_terms for w in (t.tokens if len(t.tokens) > 1 else (_head(t),))}
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, sorted(words))) + ")")
    return any(pattern.search(fold(chunk)) for chunk in _NON_ASCII_CHUNK.findall(text))


MAX_WINDOWS = 24  # locator matches tried one window each before the whole text is analysed
_SPACE = re.compile(r"\s")


def _fold_pattern(query: Query) -> re.Pattern[str]:
    words = {w for t in query.positive_terms for w in (t.tokens if len(t.tokens) > 1 else (_head(t),))}
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, sorted(words))) + ")")


@lru_cache(maxsize=16384)
def _fold_word(word: str) -> str:
    return fold(word)  # names and accented words recur from text to text


@lru_cache(maxsize=1024)
def _any_of(chars: frozenset[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(map(re.escape, sorted(chars))) + "]")


def _folding_word_before(pattern: re.Pattern[str], text: str, start: int, stop: int) -> bool:
    """Whether a word with a non-ASCII letter that folds to the start of a match (see
    _folds_to_a_head) begins in text[start:stop]. Words whose non-ASCII characters only separate
    (curly quotes, dashes) are skipped: the locator sees their ASCII words. The non-ASCII
    characters that do not separate are found first, as a set, so a text whose only non-ASCII
    characters are quotes and dashes is not walked character by character."""
    if stop <= start:
        return False
    others = set(text[start:stop].encode("utf-8", "surrogatepass").translate(None, _ASCII)
                 .decode("utf-8", "surrogatepass"))
    letters = frozenset(c for c in others if not _separates(c))
    if not letters:
        return False
    done = start
    for m in _any_of(letters).finditer(text, start, stop):
        if m.start() < done:
            continue
        a = m.start()
        while a > 0 and not text[a - 1].isspace():
            a -= 1
        space = _SPACE.search(text, m.end())
        done = len(text) if space is None else space.start()
        word = text[a:done]
        if a >= start and not _ascii_words(word) and pattern.search(_fold_word(word)):
            return True
    return False


def _window(query: Query, text: str, lowered: str, locator: re.Pattern[str], at: int, after: int,
            reach: int) -> tuple[list[tuple[int, int]], int]:
    """Match spans from `at` on, in a window from a few words before it (a capitalised word is a
    name or not by what precedes it) to `after` characters after it; and the window's end.

    In a window of ASCII words every match starts where the locator matches (`lowered` is what it
    searches), so only a few words around each such place are analysed, each from a word before
    it; otherwise the whole window is."""
    lo = text.rfind(" ", 0, max(0, at - 100)) + 1
    hi = text.find(" ", at + after)
    hi = len(text) if hi < 0 else hi
    if _ascii_words(text[lo:hi]):
        hits: list[tuple[int, int]] = []
        longest = max(len(t.tokens) for t in query.positive_terms)
        c = _locate(locator, lowered, at, hi)
        while c >= 0:
            a = c  # from the word before c (what decides whether c is a name) ...
            while a > lo and not _is_word(text[a - 1]):
                a -= 1
            while a > lo and _is_word(text[a - 1]):
                a -= 1
            b, n = c, 0  # ... to the end of the longest term's words from c (as analysed: short ones)
            for word in _TOKEN.finditer(text, c, hi):
                b, n = word.end(), n + (word.end() - word.start() <= MAX_TOKEN_CHARS)
                if n == longest:
                    break
            hits += [(x + a, y + a) for x, y in _hit_spans(query, text[a:b]) if x + a == c]
            c = _locate(locator, lowered, c + 1, hi)
        return hits, hi
    # Hits before `at` are none (they would start at an earlier locator match); only the window's
    # first token could seem one, lacking the word before it.
    return [(a + lo, b + lo) for a, b in _hit_spans(query, text[lo:hi]) if a + lo >= at], hi


def _is_word(char: str) -> bool:
    return char.isalnum()  # [^\W_] for the ASCII letters and digits of such a window


def _hits_near_first(query: Query, text: str, width: int) -> list[tuple[int, int]]:
    """Match spans near the first match. A long text is analysed in a window around a probable
    match (see _locator), which holds the snippet's whole range (`width // 3` before the first
    match, `width` after it), when no word before it with non-ASCII letters could fold into an
    earlier match. A probable match that is not one ("policy" for the stem of "police") moves on
    to the next one: every match starts at a locator match, so the first window with a match
    holds the first match, and when none has one the text has none. Only after MAX_WINDOWS
    windows, or before a word that may fold into a match, is the whole text analysed."""
    if len(text) > 2 * width:
        # Lower-cased when ASCII (the same positions; lowering ASCII is cheap). Other text is
        # searched case-insensitively as it is: lowering it costs per character (about 0.2 ms
        # for 10 KB, the whole text each time) and could change positions ("İ"), while the
        # search stops at the first match.
        ascii_text = text.isascii()
        lowered = text.lower() if ascii_text else text
        locator = _locator(query, lowered=ascii_text)
        at = _locate(locator, lowered)
        if at < 0:
            if not _heads_pattern(query.positive_terms).search(text) and not _folds_to_a_head(query, text):
                return []  # no term's head anywhere, accents folded or not: nothing can match
        # The longest text one match can span (tokens and what separates them, generously): a
        # locator match that far before a window's end had its whole match analysed there.
        reach = 120 + 2 * max(sum(len(t) for t in term.tokens) for term in query.positive_terms)
        windows, checked, folding = 0, 0, None if text.isascii() else _fold_pattern(query)
        while at >= 0 and windows < MAX_WINDOWS:
            if folding is not None and _folding_word_before(folding, text, checked, at):
                break  # a non-ASCII word before it may fold into an earlier match
            windows, checked = windows + 1, at
            hits, hi = _window(query, text, lowered, locator, at, width + 20, reach)
            if hits:
                first = hits[0][0]
                # The snippet's range runs past the window: one from the match. A window that
                # reaches the text's end holds the whole range (a match in the last 240
                # characters, 5% of real news hits, was analysed with the whole text; past
                # 100,000 characters it still is, as before, so a snippet is the same).
                end = len(text) if len(text) <= 100_000 else -1
                if first + width > hi != end:
                    hits, hi = _window(query, text, lowered, locator, first, width + 20, reach)
                    if not hits or hits[0][0] != first or first + width > hi != end:
                        break
                return hits
            at = _locate(locator, lowered, max(at + 1, hi - reach))
        else:
            if at < 0 and windows and (folding is None or
                                              not _folding_word_before(folding, text, checked, len(text))):
                return []  # every place a match could start was looked at: none in this text
    return _hit_spans(query, text[:100_000])


def snippet(query: Query, title: str | None, body: str | None, *, width: int = 240) -> str | None:
    """An HTML-escaped excerpt around the first match with matches wrapped in <mark>...</mark>."""
    for text in (unicodedata.normalize("NFC", body or ""), unicodedata.normalize("NFC", title or "")):
        hits = _hits_near_first(query, text, width)
        if not hits:
            continue
        first = hits[0][0]
        start = max(0, first - width // 3)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first else start
        end = min(len(text), start + width)
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > first else end
        out, cursor = [], start
        for a, b in hits:
            if a < cursor or b > end:
                continue
            out.append(html.escape(text[cursor:a]))
            out.append("<mark>" + html.escape(text[a:b]) + "</mark>")
            cursor = b
        out.append(html.escape(text[cursor:end]))
        return ("…" if start else "") + "".join(out).strip() + ("…" if end < len(text) else "")
    if body:
        return html.escape(body[:width]) + ("…" if len(body) > width else "")
    return None


def page_snippets(query: Query, texts: Sequence[tuple[str | None, str | None]]) -> list[str | None]:
    """`snippet` of each (title, body) of a page of hits: a page of long texts, for a worker."""
    return [snippet(query, title, body) for title, body in texts]
