"""Less common phrasings of an attribution right after a quotation, for `rules.trailing`:

  appositive_head  a subject slot too long, or quoting something, that is a name and an
                   appositive: `…,” Jane Roe, a delegate wearing “Harbour” pins, said`;
  other_verb       a past tense the speech-verb table lacks, beside a name:
                   `…!” beamed Jane Roe`, `…,” Jane Roe chuckled`;
  reported_by      a body reporting the sentence: `…,” Roe said, the Harbour Courier reported.`
"""

from __future__ import annotations

import re

from .clauses import resolved
from .context import Attribution, Context, ends_sentence
from .lexicon import CONJ_START, ED_NOUNS, PREPOSITIONS, TITLE_WORDS, is_first_name
from .marks import Span
from .verbs import VERB_FORMS

# A short parenthesis right before the verb: a party and state, an age, a constituency.
TAIL_PAREN_RE = re.compile(r"[ \t\xa0]*\([^()\n]{1,30}\)[ \t\xa0]*$")

# Right after a quotation that ends a clause: a past-tense verb the table lacks and a name, either
# order ("…!” beamed Jane Roe of Harbourton", "…,” Jane Roe sighed.").
_OTHER_VERB_RE = re.compile(r"(?P<v>[a-z]{3,}ed)[ \t\xa0]+(?=[A-Z])|(?P<np>[^,.;:!?“”\"()]{2,60}?)[ \t\xa0]+"
                             r"(?P<v2>[a-z]{3,}ed)(?=[ \t\xa0]*[,.;]|[ \t\xa0]+(?:of|as|at|in|on|to)\b)")


def other_verb(cx: Context, sp: Span, after: str, lead: int) -> Attribution | None:
    """A quotation that ends a clause ("…,” "…!") followed at once by a person named with a past
    tense the speech verbs do not list: in news such a verb reports the words ("beamed",
    "chuckled"). Only a named person counts, never a description."""
    if cx.text[sp.end - 1:sp.end] not in (",", "!", "?") or lead > 2:
        return None
    m = _OTHER_VERB_RE.match(after, lead)
    if m is None:
        return None
    base = sp.close_at
    if m.group("v") is not None:
        # the name after the verb, at most a few capitalised or role words before it, and ending
        # its phrase (", … of Harbourton", ", who …")
        start, verb = base + m.end(), m.group("v")
        one = next((x for x in cx.names.mentions_in(start, base + min(len(after), m.end() + 80))
                    if re.match(r"[ \t\xa0]*(?:[,.;]|of\b|who\b|$)", cx.text[x.end:x.end + 6])), None)
    else:
        start, verb = base + m.start("np"), m.group("v2")
        ms = cx.names.mentions_in(start, base + m.end("np"))
        one = ms[-1] if ms and ms[-1].end == base + m.end("np") else None
    if one is None or one.org or one.possessive or not cx.person_like(one) or verb in ED_NOUNS:
        return None
    lead_words = cx.text[start:one.start].split()
    if len(lead_words) in (2, 3) and lead_words[0] in ("a", "an") and all(w.isalpha() and w.islower()
                                                                          for w in lead_words[1:]):
        lead_words = []  # "…,” an angry Jane Roe retorted": an epithet before the name
    if len(lead_words) > 3 or any(not w[:1].isupper() and w.lower() not in TITLE_WORDS for w in lead_words):
        return None
    name, title, kind, conf = resolved(cx, one, 0.8)
    if kind != "person":
        return None
    return Attribution(name, title, kind, verb, None, round(conf * 0.8, 2), "trailing", True)


def appositive_head(cx: Context, start: int, end: int) -> int | None:
    """Where the subject ends in a subject slot too long or holding quotation marks, when it is a
    person named first and an appositive between commas follows up to the verb: "Jane Roe, a
    delegate wearing “Harbour” pins and a hat, said". None when the slot is anything else or a
    sentence ends inside it."""
    slot = cx.masked[start:end]
    comma = slot.find(",")
    if comma < 0 or not slot.rstrip().endswith(",") or any(c in slot for c in ";!?"):
        return None
    head = slot[:comma]
    paren = TAIL_PAREN_RE.search(head)
    if paren is not None:
        head = head[:paren.start()]  # "Jane Roe (D-Harbour), …"
    ms = cx.names.mentions_in(start, start + len(head))
    if not ms or ms[-1].end != start + len(head.rstrip()):
        return None
    m = ms[-1]
    lead = cx.text[start:m.start].split()
    if m.org or m.possessive or not cx.person_like(m) or len(lead) > 4 \
            or any(w.lower() in PREPOSITIONS or w.lower() in CONJ_START or w in VERB_FORMS for w in lead):
        return None
    dot = slot.find(".", comma)
    while dot >= 0:
        if ends_sentence(slot, dot):
            return None
        dot = slot.find(".", dot + 1)
    return m.end


# The sentence's last clause names the body that reported it: ", the Harbour Courier (first) reported."
_REPORTED_BY_RE = re.compile(r",[ \t\xa0]+(?:the[ \t\xa0]+)?([A-Z][^,;:.!?“”\"]{1,60}?)[ \t\xa0]+(?:first[ \t\xa0]+)?"
                             r"report(?:s|ed)[.!]?[ \t\xa0]*$")


def reported_by(cx: Context, at: int, tail: str, a: Attribution) -> Attribution:
    """ "…,” Roe said, the Harbour Courier reported.": a body that reports the sentence, named
    as the subject of its last clause, is the quote's source."""
    rep = _REPORTED_BY_RE.search(tail)
    if rep is None:
        return a
    ms = cx.names.mentions_in(at + rep.start(1), at + rep.end(1))
    if not ms or ms[-1].end != at + rep.end(1) or ms[-1].possessive or not (
            ms[-1].org or (" " in ms[-1].name and not is_first_name(ms[-1].name.split()[0]))):
        return a  # a person reporting ("…, Jane Roe reported") is a speaker the rules read already
    name, title, kind, conf = resolved(cx, ms[-1], 0.7)
    kind = "organisation"
    return Attribution(name, title, kind, "reported", None, round(conf * 0.8, 2), "via", True)
