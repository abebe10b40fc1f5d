"""Quoted statements: find each quotation in an article and say who said it.

    find_quotes(text) -> [Quote, ...]   sorted by start; offsets index `text`

Pure domain logic (no I/O, no network, no models loaded from outside the package). The steps,
one module each:

  marks      pair quotation marks into spans;          posts     embedded social posts;
  mentions   candidate people and organisations;        entities  surnames to the fullest name;
  nicknames  "Jan “Spike” Roe" read as the name "Jan Roe";
  context    masked text, sentence/paragraph bounds;    clauses   subjects and salience;
  coref      pronouns, descriptions, short forms;       slots     subject/object slot -> speaker;
  rules      the attribution patterns;                  assign    patterns in order, then neighbours;
  phrasing   rarer trailing forms (long appositives, "…!” beamed Roe");
  possessed  the owner of a claim or warning ("orders from Roe to …") said the words quoted after it;
  filters    titles of works, nicknames, labels;       confidence  the calibrated confidence;
  lines      datelines and title-case headlines;        lexicon   the word tables;
  transcripts  "ROE: …", "JANE ROE, HOST: …", "((Jane Roe)) …" and "Q:"/"A:" turns, statements
             without quotation marks.
"""

from __future__ import annotations

import re

from app.domain.quotes import Quote, QuoteKind, SpeakerType

from .assign import attribute
from .confidence import TRANSCRIPT, UNNAMED, features, probability, weights
from .context import NO_ATTRIBUTION, Attribution, Context, can_speak
from .entities import NameIndex
from .filters import is_label, is_name_given, is_nickname, is_title_of_work
from .marks import Span, find_spans
from .posts import find_posts
from .transcripts import Turn, find_turns

__all__ = ["Quote", "annotated_quotes", "find_quotes"]

# In a text that is not English the rules cannot attribute, so any quotation this long is kept.
_MIN_FOREIGN_CHARS = 12
# The commonest words of English and of the other languages news comes in most often; a text
# whose words are more often the others' is not English.
_ENGLISH = frozenset("the and of to a in is that for on was with he she it as at by said are be this have not has"
                     " told says were from they".split())
_OTHER = frozenset("""der die das und nicht ist sagte ein eine im von zu mit auf dem den des sich
le la les et est des une du pas dans que pour qui sur au avec il elle a déclaré dit
el los las y es del una por para dijo con se lo su al como o
il di che non della per una sono ha detto
de het een en van niet zei op met
não com uma os do da em que disse são ao pelo
yang dan di ini itu dengan untuk dari tidak akan kata""".split()) - _ENGLISH
_WORDS_RE = re.compile(r"\w+")
# Letters of other scripts: Greek to Ethiopic and the Indic scripts, and CJK, Hangul and beyond
_NON_LATIN_RE = re.compile("[\u0370-\u1dff\u2c00-\ud7ff\uf900-\ufaff]")


def is_english(text: str) -> bool:
    """Are the first 400 words more often the commonest English words than those of German,
    French, Spanish, Italian, Dutch, Portuguese or Indonesian? A text mostly in another script
    than Latin is not; a text with neither is English unless it is written in a script such as
    Chinese or Japanese."""
    words = [w.lower() for w in _WORDS_RE.findall(text[:4000])[:400]]
    if _NON_LATIN_RE.search(text, 0, 2000):
        letters = [c for c in text[:2000] if c.isalpha()]
        if sum(1 for c in letters if c < "ɐ") < len(letters) // 2:
            return False  # mostly Cyrillic, Greek, Arabic, Hebrew or another script than Latin
    english = sum(1 for w in words if w in _ENGLISH)
    other = sum(1 for w in words if w in _OTHER)
    if english or other:
        return english >= other
    return not any(ord(c) > 0x2FFF for c in text[:400])


def _kind(text: str, masked_prefix: str, sp: Span) -> QuoteKind:
    first = text[sp.start]
    prefix = masked_prefix.rstrip()
    if (first.isupper() or first.isdigit() or first in "“\"‘'") and (not prefix or prefix[-1] in ":,"):
        return "direct"
    return "partial"


def _turn_quote(cx: Context, t: Turn) -> Quote:
    """A transcript turn: the named speaker, the interviewee for "A:", nobody named for "Q:"
    (the interviewer is rarely named at each question)."""
    text = cx.text
    speaker: str | None = None
    title: str | None = None
    if t.who == "A":
        # the interviewee: the person the article names most often
        people = [e for e in cx.names.entities.values() if not e.org and e.full]
        if people:
            top = max(people, key=lambda e: (len(e.positions), -e.first_pos))
            speaker, title = top.name, top.title
    elif t.who != "Q":
        proper = " ".join(w[:1] + w[1:].lower() for w in t.who.split()) if t.who.isupper() else t.who
        speaker = cx.names.full_name(proper, t.start)
        ent = cx.names.entity(speaker)
        title = ent.title if ent is not None else None
        if title is None and t.role:
            # "JANE ROE, HOST:" -> "Host"; short words stay in capitals ("NPR")
            title = " ".join(w if len(w) <= 3 else w[:1] + w[1:].lower() for w in t.role.split())
    kind: QuoteKind = "direct"
    return Quote(text[t.start:t.end], t.start, t.end, kind, speaker, title, "person" if speaker else None,
                 None, "in a transcript", TRANSCRIPT if speaker else UNNAMED)


def find_quotes(text: str, title: str | None = None) -> list[Quote]:
    """Every quotation in `text` with its speaker; `title` only adds name evidence."""
    return [q for q, _ in annotated_quotes(text, title)]


def annotated_quotes(text: str, title: str | None = None) -> list[tuple[Quote, dict[str, float] | None]]:
    """`find_quotes` with the features its confidence was computed from (None where no model
    was used: unnamed speakers and posts), for training and calibrating that model."""
    if not text:
        return []
    posts = find_posts(text)
    spans = find_spans(text)
    if posts:
        spans = [sp for sp in spans if not any(p.start <= sp.start < p.end for p in posts)]
    turns = find_turns(text)
    if not spans and not turns and not posts:
        return []  # nothing quoted (1 page in 25 of the corpus): no name index to build
    names = NameIndex(text, extra=title, quoted=[(sp.start, sp.end) for sp in spans])
    cx = Context(text, spans, names)
    skip = [is_title_of_work(text, sp) or is_nickname(text, sp) for sp in spans]
    english = is_english(text)
    results = attribute(cx, spans, skip) if english else [NO_ATTRIBUTION] * len(spans)
    out: list[tuple[Quote, dict[str, float] | None]] = []
    w = weights()
    for sp, a, sk in zip(spans, results, skip, strict=True):
        if sk:
            continue
        if a.speaker is not None and is_name_given(text, sp):
            a = NO_ATTRIBUTION  # "a move called “the harbour turn”": a name, said by nobody
        if a.speaker is not None and not can_speak(a.speaker, a.speaker_type == "organisation"):
            a = Attribution(None, None, None, a.verb, a.channel, a.confidence, a.rule, a.found)
        if not a.found and english:
            # an unattributed quote is kept (the gold counts short ones too) unless the
            # text calls it a label
            if sp.single or (a.speaker is None and a.rule != "subject" and is_label(text, sp)):
                continue
        if not english and (sp.single or sp.end - sp.start < _MIN_FOREIGN_CHARS):
            continue  # in other languages: every quotation of some length, nobody named
        sent_s = cx.sentence_start(sp.open_at, sp.para_start)
        kind = _kind(text, cx.masked[sent_s:sp.open_at], sp)
        speaker_type: SpeakerType | None = "organisation" if a.speaker_type == "organisation" else (
            "person" if a.speaker_type == "person" else None)
        feats = features(cx, sp, a) if a.speaker is not None else None
        conf = probability(feats, w) if feats is not None else UNNAMED
        if not a.found:  # the sentence's subject, no speech verb seen: never above an unnamed quote
            conf = min(conf, UNNAMED)
        out.append((Quote(text[sp.start:sp.end], sp.start, sp.end, kind, a.speaker, a.title, speaker_type,
                          a.verb, a.channel, round(conf, 2)), feats))
    for t in turns:
        if any(sp.start < t.end and t.start < sp.end and sp.end - sp.start > (t.end - t.start) // 2 for sp in spans):
            continue  # the turn is one quotation already found
        out.append((_turn_quote(cx, t), None))
    for p in posts:
        full = names.full_name(p.author, p.start) if p.author else None
        ent = names.entity(full) if full else None
        out.append((Quote(text[p.start:p.end], p.start, p.end, "post", full or p.handle,
                          ent.title if ent else None, "organisation" if ent and ent.org else "person",
                          "posted", None, 0.9), None))
    out.sort(key=lambda qf: (qf[0].start, qf[0].end))
    return out
