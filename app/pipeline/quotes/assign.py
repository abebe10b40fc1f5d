"""Attribute every quoted span of a document: the patterns of `rules` in order, then a pass
that carries speakers to the quotes that name none (split, run-on and multi-paragraph quotes).

Each step reads only a bounded window around its quote (see `context`), and the second pass
walks the quotes once, so the work is linear in the number of quotes.
"""

from __future__ import annotations

import re

from .clauses import verb_follows
from .context import NO_ATTRIBUTION, Attribution, Context
from .coref import sentence_subject
from .lexicon import is_first_name
from .marks import Span
from .possessed import OwnedNouns, owner_of_words
from .rules import colon_intro, colon_name, leading, previous_sentence, reported_via, signature, trailing
from .verbs import VERB_RE

_WHO_RE = re.compile(r"\b(?:who|which|whom)\b")
# Subjects that name no one ("Nobody knew whether …", "Everyone agreed that …").
_NOBODY = frozenset("nobody somebody anybody everybody someone anyone everyone".split())


def _split_continues(cx: Context, prev: Span, sp: Span, prev_att: Attribution) -> bool:
    """The second half of a quote split by its attribution: `“…,” said X, “…”`."""
    if prev_att.rule != "trailing" or prev.para_start != sp.para_start or prev_att.speaker is None:
        return False
    if sp.open_at - prev.close_at >= 120:
        return False
    gap = cx.masked[prev.close_at:sp.open_at]
    if len(VERB_RE.findall(gap)) != 1 or _WHO_RE.search(gap):
        return False  # "…,” Roe says to Doe, who responds: “…”: someone else answers
    return (gap.rstrip().endswith((",", ":")) and ";" not in gap
            and cx.sentence_end(prev.close_at, sp.open_at) >= sp.open_at)


def _inner_label(cx: Context, spans: list[Span], i: int) -> bool:
    """Is the next quote of the paragraph a few words inside the same sentence as quote `i`
    (a label or a name in the attribution that follows quote `i`)?"""
    if i + 1 >= len(spans):
        return False
    sp, nx = spans[i], spans[i + 1]
    return (nx.para_start == sp.para_start and len(cx.text[nx.start:nx.end].split()) <= 4
            and cx.text[nx.end - 1] not in ".!?," and cx.sentence_end(sp.close_at, nx.close_at) >= nx.close_at)


def _first_pass(cx: Context, spans: list[Span], skip: list[bool]) -> list[Attribution]:
    text, masked = cx.text, cx.masked
    results: list[Attribution] = [NO_ATTRIBUTION] * len(spans)
    for i, sp in enumerate(spans):
        if skip[i]:
            continue
        nxt = spans[i + 1].open_at if i + 1 < len(spans) and spans[i + 1].para_start == sp.para_start else sp.para_end
        sent_s = cx.sentence_start(sp.open_at, sp.para_start)
        limit = min(cx.sentence_end(sp.close_at, nxt), nxt)
        prefix = masked[sent_s:sp.open_at].strip()
        # a quote that ends its clause ("…,” she said) looks for its speaker after it first
        ends_clause = text[sp.end - 1] in ",!?—–-…" or masked[sp.close_at:limit].lstrip().startswith(",")
        if i and _split_continues(cx, spans[i - 1], sp, results[i - 1]):
            # “The bridge is safe,” said the engineer, “but the ramps are not.”
            results[i] = results[i - 1].moved("split", 1.0)
            continue
        a: Attribution | None = None
        if not prefix or ends_clause or prefix.endswith(("x”,", 'x",', "x’,")):
            a = trailing(cx, sp, limit)
            if a is None and ends_clause and limit == nxt and _inner_label(cx, spans, i):
                # “…,” Roe, wearing a “Pier Now” badge, said: the short quote inside the
                # appositive does not end the attribution
                nxt2 = spans[i + 2].open_at if i + 2 < len(spans) and spans[i + 2].para_start == sp.para_start \
                    else sp.para_end
                a = trailing(cx, sp, min(cx.sentence_end(sp.close_at, nxt2), nxt2))
        if a is None:
            a = colon_name(cx, sp, sent_s)
        if a is None:
            a = leading(cx, sp, sent_s)
        if a is None and not sp.single:
            a = trailing(cx, sp, limit)
        if a is None and not sp.single:
            a = colon_intro(cx, sp)
        if a is None and not sp.single:
            a = signature(cx, sp)
        if a is not None:
            if a.rule in ("trailing", "leading"):
                a = reported_via(cx, sp, a)
            results[i] = a
            cx.remember(sp.close_at, a.speaker, a.title, a.speaker_type)
    return results


def _second_pass(cx: Context, spans: list[Span], skip: list[bool], results: list[Attribution]) -> None:
    """Quotes with no attribution of their own take a neighbour's: an earlier attributed quote of
    the paragraph, else a later one, else the quote running on from the previous paragraph or
    that paragraph's speaker; failing those, the sentence before or the sentence's subject."""
    text, masked = cx.text, cx.masked
    owned = OwnedNouns(masked)
    # the first attributed quote of each paragraph (first pass), for quotes before it
    first_in_para: dict[int, Attribution] = {}
    for j, sp in enumerate(spans):
        if results[j].found and not skip[j]:
            first_in_para.setdefault(sp.para_start, results[j])
    last_in_para: dict[int, Attribution] = {}  # latest attribution of each paragraph so far
    last_found: dict[int, Attribution] = {}  # latest first-pass attribution before i, per paragraph
    para_order: list[int] = []
    last_j = -1  # the latest quote before i with an attribution (results before i are final)
    for i, sp in enumerate(spans):
        if i and results[i - 1].found:
            last_j = i - 1
        if not para_order or para_order[-1] != sp.para_start:
            para_order.append(sp.para_start)
        if results[i].found and results[i].speaker is None and not skip[i] and not sp.single:
            # a verb whose subject names nobody ("the plan calls her claim “…”"): the claim's owner
            owner = owner_of_words(cx, owned, sp, cx.sentence_start(sp.open_at, sp.para_start))
            if owner is not None:
                results[i] = Attribution(owner[0], owner[1], owner[2], None, None, owner[3], "owner", True)
        if skip[i] or results[i].found or sp.single:
            if results[i].found:
                last_in_para[sp.para_start] = results[i]
                if not skip[i]:
                    last_found[sp.para_start] = results[i]
            continue
        a = last_found.get(sp.para_start) or first_in_para.get(sp.para_start)
        if a is not None and _own_subject_differs(cx, spans, results, i, a):
            a = None  # "Roe sniped that Doe was “…”", then a quote of Doe's: Roe's words, not Doe's
        if a is None:
            prev_i = i - 1
            if prev_i >= 0 and spans[prev_i].continued and spans[prev_i].para_end < sp.para_start:
                a = results[prev_i] if results[prev_i].found else None
            lead_empty = not masked[sp.para_start:sp.open_at].strip()
            if a is None and lead_empty and len(para_order) >= 2:
                prev_para = para_order[-2]
                gap = text[spans[i - 1].para_end:sp.para_start] if i else ""
                if prev_para in last_in_para and gap.count("\n") <= 2:
                    a = last_in_para[prev_para]
        if a is None:
            a = previous_sentence(cx, sp)
            if a is None and not masked[sp.para_start:sp.open_at].strip():
                a = _recent_speaker(cx, spans, results, i, last_j)
        else:
            a = a.moved("neighbour", 0.8)
        sent_s = cx.sentence_start(sp.open_at, sp.para_start)
        # a neighbour that names nobody does not hide the owner of the words ("his call for “…”")
        owner = owner_of_words(cx, owned, sp, sent_s) if a is None or a.speaker is None else None
        if a is not None and owner is None:
            if a.speaker is None and a.rule == "neighbour":
                # a neighbour that names nobody does not hide a subject the article names as a
                # person: "She invented a term, “…,” for them. Critics called it “…”"
                subj_att = _subject_speaker(cx, sp, sent_s)
                if subj_att is not None and subj_att.speaker is not None:
                    a = subj_att
            results[i] = last_in_para[sp.para_start] = last_found[sp.para_start] = a
            continue
        if owner is not None:
            # "Roe’s claim that the pier was “safe”": the owner of the words
            name, title, kind, conf = owner
            results[i] = last_in_para[sp.para_start] = last_found[sp.para_start] = Attribution(
                name, title, kind, None, None, conf, "owner", True)
            continue
        # last resort, no speech verb seen: the subject of the quote's sentence
        # ("Roe thought the deal “a disaster”"); not counted as an attribution
        subj_att = _subject_speaker(cx, sp, sent_s)
        if subj_att is not None:
            results[i] = subj_att


def _subject_speaker(cx: Context, sp: Span, sent_s: int) -> Attribution | None:
    """The subject of the quote's sentence as its speaker, when no speech verb names one: a
    colon introduction ("The board was blunt: “…”"), else the subject if the article names it
    as a person (not counted as an attribution), else an unnamed attribution."""
    masked = cx.masked
    subj = sentence_subject(cx, sent_s, sp.open_at) if masked[sent_s:sp.open_at].strip() else None
    if subj is None:
        return None
    name, title, kind, conf = subj
    if _colon_subject(cx, sent_s, sp, name):
        # "The board was blunt in its findings: “…”": the subject introduces the words
        return Attribution(name, title, kind, None, None, round(conf * 0.7, 2), "colon", True)
    if kind == "organisation" and name.endswith(" campaign"):
        # "The Roe campaign reckons that “…”": a person's campaign, as named, speaks
        return Attribution(name, title, kind, None, None, round(conf * 0.5, 2), "subject", False)
    ent = cx.names.entity(name) if kind == "person" else None
    # the quote is kept, but a subject the article does not name as a person (twice, with
    # a title, or by first name and surname as the subject of a verb) is no speaker: a
    # programme, an event, a product (nor is one with no first name, title or gender)
    if ent is None or (len(ent.positions) < 2 and title is None and not (
            ent.full and is_first_name(ent.name.split()[0]) and _heads_clause(cx, ent.positions[0]))) or (
            title is None and ent.title is None and ent.gender is None and not is_first_name(name.split()[0])):
        return Attribution(None, None, None, None, None, round(conf * 0.5, 2), "subject", False)
    return Attribution(name, title, kind, None, None, round(conf * 0.5, 2), "subject", False)


def _own_subject_differs(cx: Context, spans: list[Span], results: list[Attribution], i: int,
                         a: Attribution) -> bool:
    """Does the quote's own sentence, which holds no attributed quote, open with a named subject
    other than the neighbour's speaker (the sentence is about someone else's words)?"""
    sp = spans[i]
    sent_s = cx.sentence_start(sp.open_at, sp.para_start)
    sent_e = cx.sentence_end(sp.close_at, sp.para_end)
    for k in (i - 1, i + 1):
        if 0 <= k < len(spans) and results[k].found and sent_s <= spans[k].open_at < sent_e:
            return False  # a neighbour in the same sentence
    if not cx.masked[sent_s:sp.open_at].strip():
        return False
    if cx.masked[sent_s:sp.open_at].split()[0].lower() in _NOBODY:
        return True  # "Nobody could say whether “…”": a subject of its own, which names no one
    subj = sentence_subject(cx, sent_s, sp.open_at)
    if subj is None or subj[0] == a.speaker:
        return False
    pron = _OPENING_PRONOUN_RE.match(cx.masked, sent_s, sp.open_at)
    if pron is not None and subj[2] == "person" and verb_follows(cx.masked, pron.end(), sp.open_at) \
            and cx.masked[sent_s:sp.open_at].rstrip().endswith(":"):
        return True  # "In a letter, he honoured them: “…”": the pronoun's person introduces the words
    return any(
        cx.names.full_name(m.name, m.start) == subj[0] and verb_follows(cx.masked, m.end, sp.open_at)
        for m in cx.names.mentions_in(sent_s, sp.open_at))  # a verb of its own: not "Roe “has no chance”"


def _recent_speaker(cx: Context, spans: list[Span], results: list[Attribution], i: int, j: int) -> Attribution | None:
    """A quote opening its paragraph after a paragraph of paraphrase: the speaker of the quote just
    before (`j`, the latest attributed one, kept by the caller so that a run of unattributed quotes
    is not walked back for each), when that is at most two paragraphs back and nobody else is
    named since."""
    sp = spans[i]
    if j < 0 or results[j].speaker is None or sp.open_at - spans[j].close_at > 700:
        return None
    if cx.text.count("\n\n", spans[j].close_at, sp.open_at) > 2:
        return None
    if any(cx.person_like(m) for m in cx.names.mentions_in(spans[j].close_at, sp.open_at)
           if cx.names.full_name(m.name, m.start) != results[j].speaker):
        return None  # another person named since: the paragraph may be theirs
    return results[j].moved("carried", 0.6)


def _colon_subject(cx: Context, sent_s: int, sp: Span, name: str) -> bool:
    """Does the sentence before the quote end with its only colon, and is `name` named in it as a
    clause's subject, a verb after it ("The board was blunt in its findings: “…”"), or the
    sentence's opening pronoun?"""
    prefix = cx.masked[sent_s:sp.open_at].rstrip()
    if sp.single or not prefix.endswith(":") or ":" in prefix[:-1]:
        return False
    colon = sent_s + len(prefix) - 1
    pron = _OPENING_PRONOUN_RE.match(cx.masked, sent_s, colon)
    if pron is not None and verb_follows(cx.masked, pron.end(), colon):
        return True  # "She was blunt: “…”", "In her note, she was blunt: “…”": the pronoun's person
    return any(cx.names.full_name(m.name, m.start) == name or m.name == name
               for m in cx.names.mentions_in(sent_s, colon)
               if not m.possessive and verb_follows(cx.masked, m.end, colon))


# "He …", "In a letter, he …": a he or she heading the sentence, or its clause after an opening phrase
_OPENING_PRONOUN_RE = re.compile(r"\s*(?:[A-Z][^,:;.“”\"]{0,80},\s+)?(?:[Hh]e|[Ss]he)(?=\s)")


def _heads_clause(cx: Context, pos: int) -> bool:
    """Is the name at `pos` followed by a verb ("Jane Roe worried that …", not "Roe Maker grants")?"""
    m = next(iter(cx.names.mentions_in(pos, pos + 200)), None)
    return m is not None and m.start == pos and verb_follows(cx.masked, m.end, m.end + 120)


def attribute(cx: Context, spans: list[Span], skip: list[bool]) -> list[Attribution]:
    """One attribution per span (NO_ATTRIBUTION where nobody is found or the span is skipped)."""
    results = _first_pass(cx, spans, skip)
    _second_pass(cx, spans, skip, results)
    return results
