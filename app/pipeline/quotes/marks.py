"""Find quoted spans in raw text: one pass over the quotation marks of each paragraph.

A tiny state machine per paragraph (a line of text) pairs opening and closing marks.
It is robust to unbalanced marks: a stray closing mark is ignored, an opening mark
that is never closed only yields a span when the paragraph starts with it (the
multi-paragraph convention: the opening mark is repeated at each paragraph and the
closing mark only ends the last one). Single quotes are only paired outside double
quotes and only at word boundaries, so apostrophes ("allies’ plans", "don't") never
open or close a quote.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

# Double marks: which characters open, close, or may do either (straight marks).
DOUBLE_OPEN = "“„‟«「『〝"
DOUBLE_CLOSE = "”»」』〞〟"
DOUBLE_AMBIG = '"＂'
SINGLE_OPEN = "‘‚‛‹"
SINGLE_CLOSE = "’›"
SINGLE_AMBIG = "'"
ALL_MARKS = DOUBLE_OPEN + DOUBLE_CLOSE + DOUBLE_AMBIG + SINGLE_OPEN + SINGLE_CLOSE + SINGLE_AMBIG

_DOUBLE_RE = re.compile(f"[{re.escape(DOUBLE_OPEN + DOUBLE_CLOSE + DOUBLE_AMBIG)}]")
_SINGLE_RE = re.compile(f"[{re.escape(SINGLE_OPEN + SINGLE_CLOSE + SINGLE_AMBIG)}]")
# HTML/XML tags left in extracted text: marks around attribute values are not quotes.
_TAG_RE = re.compile(r"</?[A-Za-z][^<>\n]{0,400}>")
# Characters after which a straight mark reads as an opening mark.
_OPENER_PREV = set(" \t\xa0([{—–-/:;,\u2014\u2013") | set(DOUBLE_OPEN)
_MAX_SINGLE_LEN = 400
_CLOSERS = DOUBLE_CLOSE + DOUBLE_AMBIG
_SENTENCE_ENDS = frozenset(".?!…")
# Single-mark spans a text without double marks needs before its single marks count as
# quotation marks (one or two are headline quotes or scare quotes)
_HOUSE_STYLE_MIN = 3
_REVERSED_GUILLEMETS = str.maketrans("»«›‹", "«»‹›")


@dataclass(frozen=True, slots=True)
class Span:
    """Words between a pair of marks (offsets exclude the marks and outer spaces)."""

    start: int
    end: int
    open_at: int  # offset of the opening mark
    close_at: int  # offset just after the closing mark (== end when unclosed)
    para_start: int
    para_end: int
    single: bool = False  # paired single marks (need strong attribution to count)
    continued: bool = False  # runs on into the next paragraph (no closing mark)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _masked_tags(line: str) -> str:
    if "<" not in line:
        return line
    return _TAG_RE.sub(lambda m: " " * len(m.group()), line)


def _next_para_opens(text: str, pos: int) -> bool:
    """True when the next non-empty paragraph after `pos` begins with an opening mark."""
    n = len(text)
    i = pos
    while i < n and text[i].isspace():
        i += 1
    return i < n and (text[i] in DOUBLE_OPEN or text[i] in DOUBLE_AMBIG)


def _double_spans(text: str, line: str, base: int, para_end: int) -> list[Span]:
    spans: list[Span] = []
    open_at = -1
    open_ch = ""
    nested = False  # a straight mark opened a nested quote inside a curly one
    n = len(line)
    marks = [m.start() for m in _DOUBLE_RE.finditer(line)]
    for k, i in enumerate(marks):
        ch = line[i]
        prev = line[i - 1] if i else " "
        nxt = line[i + 1] if i + 1 < n else " "
        if open_at < 0:
            if ch in DOUBLE_CLOSE and ch not in "“":
                continue  # stray closing mark
            if ch in DOUBLE_AMBIG and (nxt.isspace() or i + 1 >= n) and prev not in _OPENER_PREV:
                continue  # a closer-looking straight mark with nothing open (5'10")
            open_at, open_ch, nested = i, ch, False
            continue
        # a quote is open
        if ch in DOUBLE_OPEN and not (open_ch == "„" and ch == "“"):
            if open_ch in DOUBLE_OPEN:
                if i > open_at + 1 and k + 2 < len(marks) and line[marks[k + 1]] in DOUBLE_CLOSE \
                        and line[marks[k + 2]] in _CLOSERS:
                    nested = True  # “… “inner” …”: the next closing mark ends the inner quote
                    continue
                # two curly openers: the first was never closed; restart here
                open_at, open_ch, nested = i, ch, False
                continue
            # straight opener followed by a curly opener: treat as a nested quote start
            nested = True
            continue
        if ch in DOUBLE_AMBIG and open_ch not in DOUBLE_AMBIG:
            looks_open = prev in _OPENER_PREV and not nxt.isspace()
            if looks_open and not nested:
                nested = True
                continue
            if nested:
                nested = False
                continue
        if ch in DOUBLE_CLOSE and nested:
            nested = False
            continue
        if ch in DOUBLE_AMBIG and open_ch in DOUBLE_AMBIG and not nested and prev == " " and nxt.isalnum() \
                and line[i - 2:i - 1] in _SENTENCE_ENDS:
            # '… the toll. "Will it …': paragraphs of one quotation joined on one line, each opening
            # with the mark again: the quote so far ends here and the next one opens
            s, e = _strip(text, base + open_at + 1, base + i)
            if e > s:
                spans.append(Span(s, e, base + open_at, e, base, para_end, continued=True))
            open_at, open_ch = i, ch
            continue
        s, e = _strip(text, base + open_at + 1, base + i)
        if e > s:
            close = base + i + (2 if text.startswith(("’’", "''"), base + i) else 1)
            spans.append(Span(s, e, base + open_at, close, base, para_end))
        open_at = -1
    if open_at >= 0:
        s, e = _strip(text, base + open_at + 1, base + n)
        para_initial = not line[:open_at].strip()
        continued = _next_para_opens(text, base + n)
        if e > s and (continued or para_initial):
            spans.append(Span(s, e, base + open_at, e, base, para_end, continued=continued))
    return spans


def _single_spans(text: str, line: str, base: int, para_end: int, taken: list[Span]) -> list[Span]:
    spans: list[Span] = []
    open_at = -1
    n = len(line)
    t = 0  # the double quotes before the mark (marks come in order: one pointer, no rescans)
    for m in _SINGLE_RE.finditer(line):
        i = m.start()
        g = base + i
        while t < len(taken) and taken[t].close_at <= g:
            t += 1
        if t < len(taken) and taken[t].open_at <= g:
            continue  # nested single quotes belong to the double quote around them
        ch = line[i]
        prev = line[i - 1] if i else " "
        nxt = line[i + 1] if i + 1 < n else " "
        if open_at < 0:
            if ch in SINGLE_CLOSE:
                continue  # an apostrophe or a stray closing mark
            if (prev in _OPENER_PREV or prev in DOUBLE_OPEN) and nxt.isalnum():
                open_at = i
            continue
        if i - open_at > _MAX_SINGLE_LEN:
            open_at = -1
            if (ch in SINGLE_OPEN or ch in SINGLE_AMBIG) and prev in _OPENER_PREV and nxt.isalnum():
                open_at = i
            continue
        # closing: after a non-space, not followed by a letter (else it is an apostrophe)
        if ch in SINGLE_OPEN:
            if prev in _OPENER_PREV and nxt.isalnum():
                open_at = i
            continue
        if not prev.isspace() and not nxt.isalnum():
            s, e = _strip(text, base + open_at + 1, g)
            if e > s:
                spans.append(Span(s, e, base + open_at, g + 1, base, para_end, single=True))
            open_at = -1
    return spans


def find_spans(text: str) -> list[Span]:
    """All quoted spans of `text`, sorted by start."""
    spans: list[Span] = []
    pos = 0
    n = len(text)
    any_double = False
    while pos <= n:
        nl = text.find("\n", pos)
        if nl < 0:
            nl = n
        raw = text[pos:nl]
        if raw.strip():
            # doubled single marks close or open like one double mark: “…’’ (same length)
            line = _masked_tags(raw).replace("’’", "””").replace("‘‘", "““")
            if "``" in line:  # typewriter style: ``…'' (plain-text conversions of typeset news)
                line = line.replace("``", "““").replace("''", "””")
            if "»" in line and line.find("»") < line.find("«"):
                line = line.translate(_REVERSED_GUILLEMETS)  # »…« (German, Danish): same pairs, mirrored
            doubles = _double_spans(text, line, pos, nl) if _DOUBLE_RE.search(line) else []
            any_double = any_double or bool(doubles)
            spans.extend(doubles)
            if _SINGLE_RE.search(line):
                spans.extend(_single_spans(text, line, pos, nl, doubles))
        pos = nl + 1
    if len(spans) >= _HOUSE_STYLE_MIN and (not any_double or _doubles_nested(spans)):
        # a text that writes no double marks, or writes them only inside single ones (‘… “…” …’),
        # uses single marks as its quotation marks (British and Australian house styles): they
        # count like double marks
        spans = [replace(sp, single=False) for sp in spans]
    spans.sort(key=lambda s: s.start)
    return spans


def _doubles_nested(spans: list[Span]) -> bool:
    """Do at least `_HOUSE_STYLE_MIN` single-mark spans hold every double-mark span inside them?"""
    singles = sorted((sp for sp in spans if sp.single), key=lambda sp: sp.open_at)
    if len(singles) < _HOUSE_STYLE_MIN:
        return False
    opens = [sp.open_at for sp in singles]
    for d in spans:
        if d.single:
            continue
        k = bisect.bisect_right(opens, d.open_at) - 1
        if k < 0 or singles[k].close_at < d.close_at:
            return False  # a double quotation of its own: the text's quotation marks are double
    return True
