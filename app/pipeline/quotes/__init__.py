"""Quoted statements: find each quotation in an article and say who said it.

    find_quotes(text) -> [Quote, ...]   sorted by start; offsets index `text`

Pure domain logic (no I/O, no models): `marks` pairs quotation marks, `posts` finds
embedded social posts, `names` clusters the article's names, `attribution` applies the
ordered speech-verb rules of `verbs`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.domain.quotes import Quote, QuoteKind, SpeakerType

from .attribution import NO_ATTRIBUTION, Attribution, Attributor, is_nickname, is_title_of_work
from .marks import Span, find_spans
from .names import NameIndex
from .posts import find_posts
from .verbs import VERB_RE

__all__ = ["Quote", "extract_files", "find_quotes"]

# An unattributed quote this short is a scare quote or a label, not a statement.
_MIN_UNATTRIBUTED_WORDS = 6


def _kind(text: str, masked_prefix: str, sp: Span) -> QuoteKind:
    first = text[sp.start]
    prefix = masked_prefix.rstrip()
    if (first.isupper() or first.isdigit() or first in "“\"‘'") and (not prefix or prefix[-1] in ":,"):
        return "direct"
    return "partial"


def _split_continues(att: Attributor, prev: Span, sp: Span, prev_att: Attribution) -> bool:
    """The second half of a quote split by its attribution: `“…,” said X, “…”`."""
    if prev_att.rule != "trailing" or prev.para_start != sp.para_start or prev_att.speaker is None:
        return False
    gap = att.masked[prev.close_at:sp.open_at]
    if len(VERB_RE.findall(gap)) != 1 or re.search(r"\b(?:who|which|whom)\b", gap):
        return False  # "…,” Bundy says to Santilli, who responds: “…”: someone else answers
    return (len(gap) < 120 and gap.rstrip().endswith((",", ":")) and ";" not in gap
            and att.sentence_end(prev.close_at, sp.open_at) >= sp.open_at)


def _attribute(att: Attributor, spans: list[Span], skip: list[bool]) -> list[Attribution]:
    text, masked = att.text, att.masked
    results: list[Attribution] = [NO_ATTRIBUTION] * len(spans)
    for i, sp in enumerate(spans):
        if skip[i]:
            continue
        nxt = spans[i + 1].open_at if i + 1 < len(spans) and spans[i + 1].para_start == sp.para_start else sp.para_end
        sent_s = att.sentence_start(sp.open_at, sp.para_start)
        limit = min(att.sentence_end(sp.close_at, nxt), nxt)
        prefix = masked[sent_s:sp.open_at].strip()
        # a quote that ends its clause ("…,” she said) looks for its speaker after it first
        ends_clause = text[sp.end - 1] in ",!?—–-…" or masked[sp.close_at:limit].lstrip().startswith(",")
        a: Attribution | None = None
        if i and _split_continues(att, spans[i - 1], sp, results[i - 1]):
            # “The bridge is safe,” said the engineer, “but the ramps are not.”
            p = results[i - 1]
            results[i] = Attribution(p.speaker, p.title, p.speaker_type, p.verb, p.channel, p.confidence,
                                     "split", True)
            continue
        if not prefix or ends_clause or prefix.endswith(("x”,", 'x",', "x’,")):
            a = att.trailing(sp, limit)
        if a is None:
            a = att.colon_name(sp, sent_s)
        if a is None:
            a = att.leading(sp, sent_s)
        if a is None and not sp.single:
            a = att.trailing(sp, limit)
        if a is None and not sp.single:
            a = att.colon_intro(sp)
        if a is not None:
            results[i] = a
            att.remember(sp.close_at, a)
    # second pass, in order: split, run-on and multi-paragraph quotes share a speaker
    by_para: dict[int, list[int]] = {}
    for j, sp in enumerate(spans):
        by_para.setdefault(sp.para_start, []).append(j)
    last_para_att: dict[int, Attribution] = {}
    prev_para_start = -1
    para_order: list[int] = []
    for i, sp in enumerate(spans):
        if sp.para_start != prev_para_start:
            para_order.append(sp.para_start)
            prev_para_start = sp.para_start
        if skip[i] or results[i].found or sp.single:
            if results[i].found:
                last_para_att[sp.para_start] = results[i]
            continue
        para = by_para[sp.para_start]
        same = [results[j] for j in para if j != i and results[j].found and not skip[j]]
        before = [results[j] for j in reversed(para) if j < i and results[j].found and not skip[j]]
        a = None
        if before:
            a = before[0]
        elif same:
            a = same[0]
        else:
            prev_i = i - 1
            if prev_i >= 0 and spans[prev_i].continued and spans[prev_i].para_end < sp.para_start:
                a = results[prev_i] if results[prev_i].found else None
            lead_empty = not masked[sp.para_start:sp.open_at].strip()
            if a is None and lead_empty and len(para_order) >= 2:
                prev_para = para_order[-2]
                gap = text[spans[i - 1].para_end:sp.para_start] if i else ""
                if prev_para in last_para_att and gap.count("\n") <= 2:
                    a = last_para_att[prev_para]
        if a is not None:
            results[i] = Attribution(a.speaker, a.title, a.speaker_type, a.verb, a.channel,
                                     round(a.confidence * 0.8, 2), "neighbour", True)
            last_para_att[sp.para_start] = results[i]
            continue
        a = att.previous_sentence(sp)
        if a is not None:
            results[i] = a
            last_para_att[sp.para_start] = a
            continue
        # last resort, no speech verb seen: the subject of the quote's sentence
        # ("Bolton thought the deal “a disaster”"); not counted as an attribution
        sent_s = att.sentence_start(sp.open_at, sp.para_start)
        subj = att.sentence_subject(sent_s, sp.open_at) if masked[sent_s:sp.open_at].strip() else None
        if subj is not None:
            name, title, kind, conf = subj
            results[i] = Attribution(name, title, kind, None, None, round(conf * 0.5, 2), "subject", False)
    return results


def find_quotes(text: str, title: str | None = None) -> list[Quote]:
    """Every quotation in `text` with its speaker; `title` only adds name evidence."""
    if not text:
        return []
    posts = find_posts(text)
    spans = [sp for sp in find_spans(text) if not any(p.start <= sp.start < p.end for p in posts)]
    names = NameIndex(text, extra=title, quoted=[(sp.start, sp.end) for sp in spans])
    att = Attributor(text, spans, names)
    skip = [is_title_of_work(text, sp) or is_nickname(text, sp) for sp in spans]
    results = _attribute(att, spans, skip)
    quotes: list[Quote] = []
    for sp, a, sk in zip(spans, results, skip, strict=True):
        if sk:
            continue
        if not a.found:
            # keep a short unattributed quote only when its sentence has a subject who may
            # have said it; otherwise it is a scare quote or a label
            if sp.single or (a.speaker is None and len(text[sp.start:sp.end].split()) < _MIN_UNATTRIBUTED_WORDS):
                continue
        sent_s = att.sentence_start(sp.open_at, sp.para_start)
        kind = _kind(text, att.masked[sent_s:sp.open_at], sp)
        speaker_type: SpeakerType | None = "organisation" if a.speaker_type == "organisation" else (
            "person" if a.speaker_type == "person" else None)
        conf = a.confidence if a.found else 0.3
        quotes.append(Quote(text[sp.start:sp.end], sp.start, sp.end, kind, a.speaker, a.title, speaker_type,
                            a.verb, a.channel, conf))
    for p in posts:
        full = names.full_name(p.author, p.start) if p.author else None
        ent = names.entity(full) if full else None
        quotes.append(Quote(text[p.start:p.end], p.start, p.end, "post", full or p.handle,
                            ent.title if ent else None, "organisation" if ent and ent.org else "person",
                            "posted", None, 0.9))
    quotes.sort(key=lambda q: (q.start, q.end))
    return quotes


def extract_files(paths: list[str]) -> Iterator[dict[str, Any]]:
    """Yield {"file": path, "quotes": [...]} for each UTF-8 text file."""
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        yield {"file": path, "quotes": [q.to_dict() for q in find_quotes(text)]}
