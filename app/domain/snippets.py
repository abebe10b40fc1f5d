"""Search snippets: an HTML-escaped excerpt around a query's first match in a text, matches
in <mark>. Pure. A long text is analysed only around its first match when nothing before it
could fold into an earlier one (app.domain.query's analysis decides what matches)."""

from __future__ import annotations

import html
import re
import unicodedata

from app.domain.query import Query, _ascii_words, _head, _heads_pattern, _spans, _stem_cached, fold


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


def _locator(query: Query) -> re.Pattern[str]:
    """A cheap case-insensitive search for where a match probably starts (text of ASCII words
    only): a phrase's words in a row, a word's head. A phrase found by its first word alone would
    send the search back to the whole text whenever that word comes first elsewhere."""
    parts = {r"[\W_]+".join(map(re.escape, t.tokens)) if len(t.tokens) > 1 else re.escape(_head(t))
             for t in query.positive_terms}
    return re.compile(r"(?<![^\W_])(?:" + "|".join(sorted(parts)) + ")", re.IGNORECASE)


_NON_ASCII_CHUNK = re.compile(r"\S*[^\x00-\x7f]\S*")


def _folds_to_a_head(query: Query, text: str) -> bool:
    """Whether a word of the text with non-ASCII characters, folded, starts like a token of a
    match (a word's head, see _head, or any word of a phrase): the only places a match can lie
    that the ASCII patterns do not see."""
    words = {w for t in query.positive_terms for w in (t.tokens if len(t.tokens) > 1 else (_head(t),))}
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, sorted(words))) + ")")
    return any(pattern.search(fold(chunk)) for chunk in _NON_ASCII_CHUNK.findall(text))


def _hits_near_first(query: Query, text: str, width: int) -> list[tuple[int, int]]:
    """Match spans near the first match; a long text is only analysed around it when no word
    before it with non-ASCII letters could fold into an earlier match."""
    if len(text) > 2 * width:
        found = _locator(query).search(text)
        if found is None:
            if not _heads_pattern(query.positive_terms).search(text) and not _folds_to_a_head(query, text):
                return []  # no term's head anywhere, accents folded or not: nothing can match
        elif _ascii_words(text[:found.start()]) or not _folds_to_a_head(query, text[:found.start()]):
            lo = text.rfind(" ", 0, max(0, found.start() - width)) + 1
            hi = text.find(" ", found.start() + 2 * width)
            hi = len(text) if hi < 0 else hi
            hits = [(a + lo, b + lo) for a, b in _hit_spans(query, text[lo:hi])]
            if hits:
                return hits
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
