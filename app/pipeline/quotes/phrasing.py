"""Less common phrasings of an attribution right after a quotation, for `rules.trailing`:

  appositive_head  a subject slot too long, or quoting something, that is a name and an
                   appositive: `…,” Jane Roe, a delegate wearing “Harbour” pins, said`;
  other_verb       a past tense the speech-verb table lacks, beside a name:
                   `…!” beamed Jane Roe`, `…,” Jane Roe chuckled`;
  later_speech_verb  the speech verb past a participle (`…” announced in May, said Roe`) or
                   past a long appositive (`…,” Jane Roe, who …, said`);
  opens_own_quote  a next sentence that introduces words of its own (`…” Roe said: “…”`);
  owned_role_name  `…,” said Harbour University, Eastport’s chancellor, Jane Roe`;
  verb_text        the verb as given ("told reporters") and its channel ("in a statement");
  reported_by      a body reporting the sentence: `…,” Roe said, the Harbour Courier reported.`
"""

from __future__ import annotations

import re

from .clauses import resolved
from .context import Attribution, Context, Resolved, ends_sentence
from .lexicon import CONJ_START, ED_NOUNS, PREPOSITIONS, TITLE_WORDS, is_first_name
from .marks import Span
from .slots import appositive_name
from .verbs import CHANNEL_RE, VERB_FORMS, VERB_RE

_WHEN_WORDS = [["in"], ["on"], ["last"], ["earlier"], ["this"], ["at"]]
_APPOSITIVE_REACH = 240  # characters after a quote where a verb past a long appositive is read
# ", Eastport’s chancellor,": a capitalised owner in the possessive, then lower-case role words
_OWNED_ROLE_RE = re.compile(r"[ \t\xa0]*[A-Z][\w.-]*(?:[ \t\xa0][A-Z][\w.-]*){0,3}[’']s(?:[ \t\xa0][a-z-]+){1,3},")
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


def later_speech_verb(cx: Context, sp: Span, after: str, lead: int,
                      m: re.Match[str] | None) -> tuple[re.Match[str] | None, int]:
    """The speech verb after a quotation (`after` is the text past its close, `m` the verb found
    near it, `lead` where the slot starts), past forms the near search stops at."""
    if m is not None and not after[lead:m.start()].strip() and m.group().endswith("ed") \
            and after[m.end():m.end() + 12].split()[:1] in _WHEN_WORDS:
        # "…” announced in May, said Jane Roe: the verb the quoted words were announced with,
        # then the speech clause after the comma
        later = VERB_RE.search(after, m.end(), min(len(after), lead + 150))
        if later is not None and after[m.end():later.start()].rstrip().endswith(",") \
                and not any(c in after[m.end():later.start()] for c in ".;:!?“”\""):
            return later, later.start()
    if m is None:
        # "…,” Jane Roe, who has chaired the pier trust since the winter floods, said: an
        # appositive after a name may carry the verb past the usual reach
        far = VERB_RE.search(after, lead, min(len(after), lead + _APPOSITIVE_REACH))
        if far is not None and not VERB_FORMS[far.group()].trailing_only \
                and appositive_head(cx, sp.close_at + lead, sp.close_at + far.start()) is not None:
            return far, lead
    return m, lead


def opens_own_quote(cx: Context, vend: int) -> bool:
    """Does the speech verb ending at `vend` introduce a quotation of its own: a colon, or words
    then a quotation mark before the sentence ends ("said the plan was “dead”")?"""
    rest = cx.masked[vend:vend + 200].split("\n", 1)[0]
    if rest.lstrip().startswith((":", "“", '"')):
        return True  # "Roe said: “…”", "Roe said “…”"
    if not rest.strip()[:1].isalpha() or rest.split(None, 1)[0] in ("and", "but", "before", "after", "adding"):
        return False
    mark = min((k for k in (rest.find("“"), rest.find('"')) if k >= 0), default=-1)
    stop = rest.find(". ")
    return mark > 0 and (stop < 0 or mark < stop)


def owned_role_name(cx: Context, base: int, after: str, obj_end: int) -> Resolved | None:
    """ "…,” said Harbour University, Eastport’s chancellor, Jane Roe": a body's name with a comma
    in it, then the role in the possessive and the person's name."""
    role = _OWNED_ROLE_RE.match(after, obj_end + 1)
    return appositive_name(cx, base + role.end(), base + len(after)) if role is not None else None


def verb_text(cx: Context, m: re.Match[str]) -> tuple[str, str | None]:
    """The verb as the article gives it ("told reporters", "said in a statement" -> "said" and the
    channel "in a statement")."""
    verb = m.group()
    rest = cx.text[m.end():m.end() + 80]
    if verb in ("told", "tells", "tell", "telling"):
        o = re.match(r"\s+(reporters|journalists|the press|[A-Z][\w.]*(?:\s+[A-Z][\w.]*){0,3})", rest)
        if o:
            obj = o.group(1)
            verb = f"{verb} {obj[:-1] if obj.endswith('.') and len(obj.split()[-1]) > 4 else obj}"
            rest = rest[o.end():]
    c = CHANNEL_RE.match(rest)
    channel = c.group("channel") if c else None
    if channel and channel.startswith("to "):
        verb = f"{verb} {channel}"
        channel = None
    return verb, channel
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
