"""Organisations and documents that a common noun or a pronoun stands for, within one article:

- "the agency", "the group", "the association" to the organisation named earlier (the fullest
  form the article gives);
- "they said" / "it said" to the organisation that last spoke or was the subject nearby;
- "the campaign" to the campaign last named;
- "it reads" / "the note says" to the author of the document the sentences before describe.
"""

from __future__ import annotations

import bisect
import re

from .clauses import is_subject, mention_salience, resolved
from .context import Context, Resolved
from .lexicon import is_first_name, place_names
from .mentions import Mention

_DOC_RE = re.compile(r"\b(?:e-?mail|memo|letter|statement|editorial|report|release|note|message|post)\b", re.I)
# The author of a document after its noun: "written on Friday by the caretaker Jane Roe"
_AUTHOR_RE = re.compile(r"\b(?:sent|written|signed|authored|penned|issued)\b[^;“”\"\n]{0,60}?\bby[ \t\xa0]+")
# Organisation descriptions that may stand for the organisation last named as a subject.
_ORG_KIND_HEADS = frozenset("group organization organisation network union company firm coalition agency"
                            " broadcaster station".split())
# Heads that stand only for an organisation last named as a clause subject (no nearer fallback:
# the bodies named in passing around them are seldom the one meant).
_ORG_SUBJECT_HEADS = frozenset("newspaper paper magazine ministry department committee board commission"
                               " council institute foundation bureau".split())


# "Harbour home affairs " before "committee": capitalised words, then lower-case ones
_LOWER_BODY_RE = re.compile(r"((?:[A-Z][a-z]+ ){1,3}(?:[a-z]+ ){1,3})$")
_LOWER_BODY_TRIES = 4
_DETERMINERS = ("The", "A", "An", "This", "That", "Its", "Their", "His", "Her", "Our", "And", "But", "Or")


def is_place_name(name: str) -> bool:
    return name.lower() in place_names() or name.split()[0].lower() in ("new", "north", "south", "east", "west")


def recent_campaign(cx: Context, pos: int) -> Resolved | None:
    """The campaign last named before `pos`: "the Jane Roe campaign", "Roe’s campaign"."""
    for m in cx.names.back_from(pos, max(0, pos - 3000)):
        if m.org and m.name.lower().endswith(" campaign"):
            return m.name, None, "organisation", 0.6
        nxt = cx.text[m.end:m.end + 14].lstrip("’'s ").lower()
        if not m.org and nxt.startswith("campaign"):
            return f"{m.name.split()[-1]} campaign", None, "organisation", 0.6
    return None


def recent_org(cx: Context, pos: int, head: str) -> Resolved | None:
    for m in cx.names.back_from(pos, max(0, pos - 3000)):
        if m.org and head in m.name.lower() and cx.speakable(m):
            return cx.names.fullest_org(m.name), None, "organisation", 0.6
    if head in _ORG_SUBJECT_HEADS:
        body = _lower_case_body(cx, pos, head)
        if body is not None:
            return body, None, "organisation", 0.5
    if head not in _ORG_KIND_HEADS and head not in _ORG_SUBJECT_HEADS:
        return None
    # "the group said": the organisation last named as a clause subject, nearby, else one
    # named in the sentence before ("Norsk, which opposed the bill. … the company said")
    fallback: Resolved | None = None
    for m in cx.names.back_from(pos, max(0, pos - 1500)):
        if m.possessive or not cx.speakable(m) or is_place_name(m.name):
            continue
        if not m.org and (head in _ORG_SUBJECT_HEADS or not _org_like(cx, m)):
            continue
        if is_subject(cx, m) and mention_salience(cx, m) >= 1.0:
            return cx.names.fullest_org(m.name), None, "organisation", 0.5
        if fallback is None and head in _ORG_KIND_HEADS and cx.sentence_start(m.start, 0) >= cx.sentence_start(
                cx.sentence_start(pos, 0) - 1, 0):
            fallback = (cx.names.fullest_org(m.name), None, "organisation", 0.45)  # named in this or the previous sentence
    return fallback


def _lower_case_body(cx: Context, pos: int, head: str) -> str | None:
    """ "the committee" -> "Harbour home affairs committee": a body the article names with capitals
    only on its first words, as some outlets write committees, before `pos` (its last such naming
    within the reach of `recent_org`; a few looked at)."""
    floor = max(0, pos - 3000)
    k = cx.text.rfind(" " + head, floor, pos)
    for _ in range(_LOWER_BODY_TRIES):
        if k < 0:
            return None
        lead = _LOWER_BODY_RE.search(cx.text, max(floor, k - 80), k + 1)
        words = lead.group(1).split() if lead is not None else []
        if words and words[0] not in _DETERMINERS and not any(w.capitalize() in _DETERMINERS[:10] for w in words):
            return " ".join(words) + " " + head  # (not "But the committee")
        k = cx.text.rfind(" " + head, floor, k)
    return None


def named_org(cx: Context, pos: int, head: str) -> Resolved | None:
    """The body last named before `pos` whose name ends with the noun `head` ("the association" ->
    "Harbour Pilots Association"), within the reach of `recent_org`."""
    for m in cx.names.back_from(pos, max(0, pos - 3000)):
        if m.org and " " in m.name and m.name.rsplit(None, 1)[-1].lower() == head and cx.speakable(m):
            return cx.names.fullest_org(m.name), None, "organisation", 0.6
    return None


def _org_like(cx: Context, m: Mention) -> bool:
    """A one-word name the article never gives as a person's ("Norsk said"; "Norsk, which …")."""
    if " " in m.name or m.title or is_first_name(m.name):
        return False
    ent = cx.names.entity(cx.names.full_name(m.name, m.start))
    return ent is None or (not ent.full and ent.gender is None and " " not in ent.name)


def resolve_plural(cx: Context, pos: int, it: bool = False) -> Resolved | None:
    """ "they"/"it" said: the organisation that last spoke nearby; for "it", failing that, the
    author of the document the sentences before describe ("A note was written by Jane Roe. … it reads")."""
    j = bisect.bisect_left(cx.speaker_pos, pos) - 1
    if j >= 0 and pos - cx.speaker_pos[j] < 600:
        name, title, kind = cx.speaker_names[j]
        if kind == "organisation":
            return name, title, kind, 0.5
    if not it:
        return None
    return document_author(cx, pos) or _subject_org(cx, pos)


def _subject_org(cx: Context, pos: int) -> Resolved | None:
    """ "it said": the organisation named as a clause subject in this sentence or the one before
    ("The Harbour Ministry issued a statement. “…,” it said."), the latest such."""
    floor = cx.sentence_start(max(0, cx.sentence_start(pos, 0) - 1), 0)
    for m in cx.names.back_from(pos, floor):
        if m.org and not m.possessive and cx.speakable(m) and not is_place_name(m.name) and is_subject(cx, m):
            return m.name, None, "organisation", 0.5
    return None


def document_author(cx: Context, pos: int) -> Resolved | None:
    """The author of the last document named in the few sentences before `pos`: "written by Jane
    Roe", "Roe’s letter", "a note from Roe"."""
    s = cx.sentence_start(max(0, pos - 600), 0)
    region = cx.masked[s:pos]
    docs = [m for m in _DOC_RE.finditer(region)]
    if not docs:
        return None
    d = docs[-1]
    by = _AUTHOR_RE.search(region, d.end())
    for m in cx.names.mentions_in(s, pos):
        if not cx.person_like(m) or m.start < s + d.start() - 40:
            continue
        if by is not None and s + by.end() <= m.start <= s + by.end() + 80 and not m.possessive:
            return resolved(cx, m, 0.6)  # "was written … by the caretaker Jane Roe"
        if m.possessive and m.end <= s + d.start() and not cx.text[m.end:s + d.start()].strip(" ’'s"):
            return resolved(cx, m, 0.6)  # "Roe’s letter"
        if cx.text[max(0, m.start - 6):m.start].strip().lower() == "from" and m.start > s + d.start():
            return resolved(cx, m, 0.6)  # "a note from Roe"
    return None


def earlier_document_owner(cx: Context, pos: int, noun: str) -> Resolved | None:
    """Who issued the document a definite noun takes up ("“…,” the editorial said"): the owner
    given where the article last named a document of that kind, in the paragraphs before `pos`:
    "an editorial in the Harbour Ledger", "a report by Roe", "the board’s memo", "The Harbour
    Board released a report"."""
    lo = max(0, pos - 2000)
    hits = list(re.finditer(rf"\b{re.escape(noun)}s?\b", cx.masked[lo:pos], re.I))
    if not hits:
        return None
    hit = hits[-1]  # the latest document of that kind is the one taken up
    d0, d1 = lo + hit.start(), lo + hit.end()
    after = next(iter(cx.names.mentions_in(d1, min(len(cx.text), d1 + 40))), None)
    if after is not None and cx.speakable(after):
        gap = cx.text[d1:after.start].lower().split()
        if 1 <= len(gap) <= 2 and gap[0] in ("by", "from", "in", "of") and gap[-1] in (gap[0], "the"):
            return resolved(cx, after, 0.6)
    s = cx.sentence_start(d0, 0)
    ms = [m for m in cx.names.mentions_in(s, d0) if cx.speakable(m) and not is_place_name(m.name)]
    if ms and ((ms[-1].possessive and len(cx.text[ms[-1].end:d0].split()) <= 3) or not cx.text[ms[-1].end:d0].strip()):
        return resolved(cx, ms[-1], 0.6)  # "the Ledger’s Friday editorial", "the Harbour Institute report"
    for m in ms:
        if not m.possessive and is_subject(cx, m) and cx.text[s:m.start].strip(" ,").lower().split()[-1:] not in (
                ["of"], ["for"], ["by"], ["with"], ["to"]):
            return resolved(cx, m, 0.5)  # "The Harbour Board released a report": its subject
    return None
