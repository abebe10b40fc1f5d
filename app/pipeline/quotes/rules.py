"""The attribution patterns, each a function from one quoted span to an `Attribution` or None:

  trailing           right after the closing mark: `…,” Roe told reporters`, `…,” said Sen. Jane Roe`;
  leading            the nearest speech verb before the quote in its sentence:
                     `Roe said on Monday that the move was “…”`, `the agency dismissed reports as “…”`;
  colon_name         a name (or a name's document) right before the colon: `Jane Roe: “…”`;
  colon_intro        an introduction closing the previous paragraph: `Dr. Roe stated:`;
  previous_sentence  the speaker or subject of the sentence before a quote that opens its own.

The words in the subject or object slot are read by `slots`.
"""

from __future__ import annotations

import re

from .clauses import noun_follows, resolved, verb_before_quote
from .context import Attribution, Context, Resolved, ends_sentence
from .coref import resolve_pronoun, sentence_subject
from .issued import document_issuer
from .lexicon import (
    AUX,
    AUX_VERBS,
    BE_FORMS,
    COLON_DOCS,
    CONJ_START,
    ORG_DESCRIPTIONS,
    PLURAL_PRONOUNS,
    PREPOSITIONS,
    PRONOUN_GENDER,
)
from .marks import Span
from .mentions import Mention
from .phrasing import (
    TAIL_PAREN_RE,
    appositive_head,
    later_speech_verb,
    opens_own_quote,
    other_verb,
    owned_role_name,
    reported_by,
    verb_text,
)
from .slots import appositive_name, resolve_np
from .verbs import VERB_FORMS, VERB_RE

_PASSIVE_BY_RE = re.compile(r"[ \t\xa0]+(?:\w+ly[ \t\xa0]+)?by[ \t\xa0]+")
_TRAIL_STOP_RE = re.compile(r"[,.;:!?()“”\"—]|\s(?:who|which|that|after|when|as|in|on|at)\s")
_LEAD_STOP_RE = re.compile(r"[,.;:!?()“”\"—]|\s(?:that|who|which)\s")
# A signature line under a quotation: "— Jane Roe." or "- Jane Roe, Harbour Board chair"
_SIGNATURE_RE = re.compile(r"[ \t\xa0]*\n\s*[-—–―][ \t\xa0]*(?=[A-Z])([^\n]{2,120})")
# The source a report came through, after the attribution: "…,” Roe said, according to the Courier."
_VIA_RE = re.compile(r",?[ \t\xa0]+(?:according[ \t\xa0]+to|reports?)[ \t\xa0]+")
# Words that open a reported clause right after a speech verb ("said he would", "said that").
_CLAUSE_OPENERS = frozenset("that he she they it we i there".split())
_DETERMINERS = [["the"], ["The"], ["a"], ["an"], ["its"], ["his"], ["her"], ["their"]]
_POSSESSIVE_DETS = frozenset("his her its their our".split())
_PARTICIPLE_OPENERS = frozenset("by while after before in when upon on without for of from about".split())


def _has_break(text: str) -> bool:
    """A sentence break inside a would-be subject: a full stop (not an abbreviation's), ; ! ? or a mark."""
    if any(c in text for c in ";!?“”\""):
        return True
    dot = text.find(".")
    while dot >= 0:
        if ends_sentence(text, dot):
            return True
        dot = text.find(".", dot + 1)
    return False


def trailing(cx: Context, sp: Span, limit: int) -> Attribution | None:
    """`…,” Roe told reporters` / `…,” said Sen. Jane Roe` right after the quote."""
    after = cx.masked[sp.close_at:limit]
    lead = len(after) - len(after.lstrip(" \t\xa0,—–-:"))
    m = VERB_RE.search(after, lead, min(len(after), lead + 90))
    # a noun-like form used as a noun: "Harbour Board press secretary John Doe told", "the email read"
    while m is not None and ((VERB_FORMS[m.group()].trailing_only and noun_follows(after, m.end()))
                             or after[max(0, m.start() - 6):m.start()].split()[-1:] in _DETERMINERS):
        m = VERB_RE.search(after, m.end(), min(len(after), lead + 90))
    if m is not None and VERB_FORMS[m.group()].trailing_only:
        # "…" state prosecutor Jane Roe told the Courier: a noun-like form with a real verb after it
        later = VERB_RE.search(after, m.end(), min(len(after), lead + 90))
        if later is not None and not VERB_FORMS[later.group()].trailing_only \
                and not any(c in after[m.end():later.start()] for c in ",.;:!?“”\"") \
                and cx.names.mentions_in(sp.close_at + m.end(), sp.close_at + later.start()):
            m = later
    m, lead = later_speech_verb(cx, sp, after, lead, m)
    if m is None:
        return other_verb(cx, sp, after, lead)
    verb = VERB_FORMS[m.group()]
    if cx.text[sp.end - 1:sp.end] == "." and after[m.end():].split()[:1] and \
            after[m.end():].split()[0].lower() in _CLAUSE_OPENERS:
        # “… Nobody listens.” Roe said he would bring buckets: a new sentence reporting Roe, not the
        # attribution of the finished quotation before it
        return None
    if cx.text[sp.end - 1:sp.end] in (".", "!", "?") and after[lead:m.start()].strip() \
            and opens_own_quote(cx, sp.close_at + m.end()):
        # “… Nobody listens.” Jane Roe said: “…”: a finished quotation, then a sentence with its own
        return None
    np_end = m.start()
    paren = TAIL_PAREN_RE.search(after, lead, np_end)
    if paren is not None:
        np_end = paren.start()  # "Sen. Jane Roe (D-Harbour) said": the affiliation is no part of the subject
    np_text = after[lead:np_end]
    if verb.object_only and not (m.group().endswith(" of") and np_text.strip()):
        return None  # "…,” Jane Roe said of the campaign: the subject still speaks
    if _has_break(np_text) or len(np_text.split()) > 12:
        head = appositive_head(cx, sp.close_at + lead, sp.close_at + np_end)
        if head is None:
            return None
        np_end = head - sp.close_at  # "…,” Jane Roe, who wore a “Harbour” pin all week, said: the name
        np_text = after[lead:np_end]
    base = sp.close_at
    inverted = False
    named_in_apposition: Resolved | None = None
    if np_text.strip():
        first = np_text.split()[0].lower()
        c1 = np_text.find(",")
        if first in _POSSESSIVE_DETS and c1 > 0 and np_text.rstrip().endswith(","):
            # "…,” his wife, Jane Roe, wrote: the name in apposition to the description speaks
            named_in_apposition = appositive_name(cx, base + lead + c1 + 1, base + np_end)
        if named_in_apposition is None and first in CONJ_START and first not in ("the", "a", "an", "one"):
            # "…” and against the plan, Roe said: the subject after the clause's last comma;
            # "Delighted” with it, said Roe: the subject after the verb
            comma = np_text.rfind(",")
            inverted = comma >= 0 and not np_text[comma + 1:].strip() and len(np_text.split()) <= 12
            if not inverted and (comma < 0 or len(np_text[comma + 1:].split()) > 4 or not np_text[comma + 1:].strip()
                                 or np_text[comma + 1:].split()[0].lower() in ("and", "but", "while", "whereas")):
                return None  # "…,” for instance, and Doe vowed: a clause of its own, not the quote's
            lead += comma + 1
    res: Resolved | None
    if named_in_apposition is not None:
        res, found = named_in_apposition, True
    elif np_text.strip() and not inverted:
        res, found = resolve_np(cx, base + lead, base + np_end, subject=True)
    else:
        # verb first: the speaker follows up to the next punctuation
        stop = object_stop(_TRAIL_STOP_RE, after, m.end())
        if after[m.end():].split()[:1] and after[m.end():].split()[0].lower() in _POSSESSIVE_DETS and not any(
                cx.person_like(x) for x in cx.names.mentions_in(sp.close_at + m.end(), sp.close_at + (
                    m.end() + stop if stop is not None else len(after)))) and not (
                stop is not None and after[m.end() + stop] == ","
                and appositive_name(cx, sp.close_at + m.end() + stop + 1, sp.close_at + len(after)) is not None):
            # "…,” denounced her record: the verb of the clause the quote stands in (but "…,” said its
            # director, Jane Roe" names the speaker in apposition)
            return None
        obj_end = m.end() + (stop if stop is not None else len(after) - m.end())
        if after[m.end():obj_end].strip() == "" and stop is not None and after[m.end() + stop] == ",":
            # "said, according to ..." - rare; skip the comma
            obj_end = m.end() + stop
        res, found = resolve_np(cx, base + m.end(), base + obj_end, subject=False)
        described = not any(not x.possessive and cx.person_like(x)
                            for x in cx.names.mentions_in(base + m.end(), base + obj_end))
        if (res is None or described or res[2] == "organisation") and after[obj_end:obj_end + 1] == ",":
            # "…,” said Roe’s campaign manager, John Doe: the name in apposition to a description
            named = appositive_name(cx, base + obj_end + 1, base + len(after))
            if named is None and (res is None or res[2] == "organisation"):
                named = owned_role_name(cx, base, after, obj_end)  # ", Eastport’s chancellor, Jane Roe"
            if named is not None:
                res, found = named, True
    if not found:
        return None
    vtext, channel = verb_text(cx, _shift(m, base, cx.text))
    if res is None:
        return Attribution(None, None, None, vtext, channel, 0.6, "trailing", True)
    name, title, kind, conf = res
    return Attribution(name, title, kind, vtext, channel, conf, "trailing", True)


# "Continue" reports speech alone ("she continued, “…”"), not before an infinitive.
_TO_VERBS = frozenset({"continue"})
# Verbs that report what someone else said or did: the subject of what follows is not the source.
_REPORTING = frozenset("say write claim argue insist contend assert allege note explain".split())


# Verbs whose object is the one addressed or attacked, never the speaker ("thanked Roe for “…”").
_TARGET_OBJECT = frozenset("""tell ask urge thank mock deride decry denounce condemn hail caution threaten warn
praise criticize criticise slam blast attack accuse blame assure reassure inform advise beg plead challenge
chide scold rebuke taunt tease goad applaud lecture quote cite question remind""".split())


def leading(cx: Context, sp: Span, sent_start: int) -> Attribution | None:
    """The nearest speech verb before the quote in its sentence, with its subject."""
    pre = cx.masked[sent_start:sp.open_at]
    if pre.startswith("According to "):
        pre = "a" + pre[1:]  # the table's cue, capitalised at the sentence's start
    verbs = list(VERB_RE.finditer(pre))
    unnamed: Attribution | None = None
    for m in reversed(verbs):
        if VERB_FORMS[m.group()].trailing_only and not verb_before_quote(pre, m):
            continue
        if before_words := pre[max(0, m.start() - 5):m.start()].split():
            if before_words[-1].lower() in ("a", "an", "the"):
                continue  # "a written reply", "the reported remarks": an adjective, no verb
        if VERB_FORMS[m.group()].lemma in _TO_VERBS and pre[m.end():m.end() + 4] == " to ":
            continue  # "will continue to be “…”": no speech
        vstart = sent_start + m.start()
        vend = sent_start + m.end()
        before = pre[:m.start()].rstrip()
        res, found = None, False
        by = _PASSIVE_BY_RE.match(cx.masked, vend) if before.split()[-1:] and \
            before.split()[-1].lower() in BE_FORMS else None
        if by is None and before.split()[-1:] and before.split()[-1].lower() in BE_FORMS and m.group().endswith("ed"):
            continue  # "a fire was reported": a passive without its agent names no speaker
        if m.group() == "according to":
            pass  # its speaker follows it: read as an object below
        elif by is not None:
            # "Roe was asked by host John Doe, “…”": the agent speaks, not the subject
            stop = object_stop(_LEAD_STOP_RE, cx.masked[by.end():sp.open_at], 0)
            obj_end = by.end() + (stop if stop is not None else sp.open_at - by.end())
            res, found = resolve_np(cx, by.end(), obj_end, subject=False)
            if not found:
                continue
        elif (m.group().endswith("ing") and (before.endswith(",") or (
                before.split()[-1:] and before.split()[-1] in _PARTICIPLE_OPENERS))) or before.split()[-1:] == ["to"]:
            # "…, calling him a “loser”", "went on to call him “…”", "scolded Doe for suggesting “…”":
            # the participle's or infinitive's subject is the sentence's; after "…, Roe said," it is
            # the subject of that speech clause, not of the clause it reports
            res = _speech_clause_subject(cx, sp, sent_start, sent_start + len(before)) if before.endswith(",") \
                else None
            if res is None:
                res = sentence_subject(cx, sent_start, vstart)
            found = res is not None
        elif before.endswith(",") and (inverted := _inverted_speaker(cx, vend, sp.open_at)) is not None:
            # "The trouble with Doe, says Jane Roe, a historian, is that …": the speaker follows the verb
            res, found = inverted, True
        else:
            prev_q = pre.rfind("x\u201d", 0, m.start())
            if prev_q >= 0 and pre[prev_q + 2:m.start()].lstrip().startswith(","):
                prev_q = -1  # a quoted title inside the subject's appositive: "Roe, a singer on “Dawn,” who …, said"
            subj_start = sent_start if prev_q < 0 else sent_start + prev_q + 2
            res, found = resolve_np(cx, subj_start, vstart, subject=True)
            if found and res is None and m.group().endswith("ing"):
                res = document_issuer(cx, sent_start, vstart)  # "Roe sent a memo saying “…”"
            if not found and _coordinated(before):
                res = sentence_subject(cx, sent_start, vstart)
                found = res is not None
        if not found and (VERB_FORMS[m.group()].object_only or VERB_FORMS[m.group()].lemma in _TARGET_OBJECT):
            continue  # "… thanked Roe for “…”": the object is whom the words were aimed at
        if not found:
            stop = object_stop(_LEAD_STOP_RE, cx.masked[vend:sp.open_at], 0)
            obj_end = vend + (stop if stop is not None else sp.open_at - vend)
            if obj_end > vend:
                res, found = resolve_np(cx, vend, obj_end, subject=False)
        if not found:
            continue
        vtext, channel = verb_text(cx, _shift(m, sent_start, cx.text))
        dist = sp.open_at - vend
        conf_scale = 1.0 if dist < 150 else 0.8
        if res is None:
            unnamed = unnamed or Attribution(None, None, None, vtext, channel, 0.5, "leading", True)
            continue  # an earlier verb may name the speaker ("He said that …, which some argued, …")
        outer = _outer_speaker(cx, pre, verbs, m, sent_start)
        if outer is not None:  # the reporter, and their verb, even when they are the inner subject too
            # "Roe said Doe described the plan as “…”": Roe reports, and is the quote's source
            res, m0 = outer
            vtext, channel = verb_text(cx, _shift(m0, sent_start, cx.text))
        name, title, kind, conf = res
        return Attribution(name, title, kind, vtext, channel, round(conf * conf_scale, 2), "leading", True)
    return unnamed or _inverted_opening(cx, pre, sent_start)


def _inverted_opening(cx: Context, pre: str, sent_start: int) -> Attribution | None:
    """ "Said Jane Roe, who grew up nearby, “…”": a sentence opening with a capitalised speech verb
    (the table's forms are lower case) and its speaker after it, up to the comma."""
    first = pre.split(None, 1)[0] if pre.strip() else ""
    low = first.lower()
    if not first[:1].isupper() or low not in VERB_FORMS or VERB_FORMS[low].object_only \
            or VERB_FORMS[low].trailing_only or low.endswith("ing"):
        return None
    vend = sent_start + len(pre) - len(pre.lstrip()) + len(first)
    stop = object_stop(_LEAD_STOP_RE, cx.masked[vend:sent_start + len(pre)], 0)
    if stop is None:
        return None
    named = appositive_name(cx, vend, vend + stop + 1)
    if named is None:
        return None
    name, title, kind, conf = named
    return Attribution(name, title, kind, low, None, round(conf * 0.9, 2), "leading", True)


# Auxiliaries and negations among `AUX`: "…, but has dismissed" may be a relative clause's verb.
_NOT_ADVERBS = frozenset("have are be been being were then never not n't do".split())


def _coordinated(before: str) -> bool:
    """Do the words before a verb end with a conjunction, past adverbs and auxiliaries ("…, but
    now said", "and later told"; not "…, but has dismissed")? The verb then shares the sentence's subject."""
    words = before.lower().split()
    k = len(words)
    while k > 0 and len(words) - k < 3 and words[k - 1] in AUX and words[k - 1] not in AUX_VERBS \
            and words[k - 1] not in _NOT_ADVERBS:
        k -= 1
    return k > 0 and words[k - 1].strip(",") in ("and", "but", "or", "then")


def _inverted_speaker(cx: Context, vend: int, limit: int) -> Resolved | None:
    """A person named right after a speech verb set off by commas, closed by a comma: ", says Jane
    Roe, …" (an inverted parenthetical inside the sentence)."""
    stop = object_stop(_LEAD_STOP_RE, cx.masked[vend:limit], 0)
    if stop is None or cx.masked[vend + stop] != ",":
        return None
    ms = cx.names.mentions_in(vend, vend + stop)
    words = cx.text[vend:vend + stop].lower().split()
    if not ms and len(words) == 2 and words[0] == "the" and words[1] in ORG_DESCRIPTIONS:
        res, found = resolve_np(cx, vend, vend + stop, subject=False)  # ", says the committee, …"
        return res if found else None
    if not ms or any(w.lower() in PRONOUN_GENDER or w.lower() in PLURAL_PRONOUNS
                     for w in cx.text[vend:ms[0].start].split()):
        return None  # "…, said he expects Roe, Doe and …": a reported clause, not the speaker
    return appositive_name(cx, vend, vend + stop + 1)


def _speech_clause_subject(cx: Context, sp: Span, sent_start: int, comma: int) -> Resolved | None:
    """ "The vote was delayed, Roe said, adding …": the named subject of the speech verb in the
    clause right before the participle's comma."""
    clause = cx.masked[sent_start:comma - 1]
    verbs = list(VERB_RE.finditer(clause, clause.rfind(",") + 1))
    if not verbs or len(clause[verbs[-1].end():].split()) > 3:
        # "He dismissed the critique, saying …", "Roe repeated that Doe recites the same lines,
        # calling him …": no speech clause ("Roe said", "Roe told reporters on Monday") before it
        return None
    fake = Span(comma - 1, comma - 1, comma - 1, comma - 1, sp.para_start, comma - 1)
    a = leading(cx, fake, sent_start)
    if a is None or a.speaker is None or a.speaker_type is None:
        return None
    return a.speaker, a.title, a.speaker_type, a.confidence


def _outer_speaker(cx: Context, pre: str, verbs: list[re.Match[str]], inner: re.Match[str],
                   sent_start: int) -> tuple[Resolved, re.Match[str]] | None:
    """The named subject of a reporting verb ("said", "wrote … that") whose clause holds the
    verb `inner`: nested reported speech belongs to the one who reports it."""
    for m0 in verbs:
        if m0.start() >= inner.start():
            return None
        if VERB_FORMS[m0.group()].lemma not in _REPORTING or m0.group().endswith("ing"):
            continue
        between = pre[m0.end():inner.start()]
        if any(c in between for c in ",;:“”\"()") or "x" * 3 in between or len(between) > 160:
            continue
        before = pre[:m0.start()]
        if not before.strip() or before.rstrip().endswith(",") or before.split()[-1].lower() in BE_FORMS:
            continue
        res, found = resolve_np(cx, sent_start, sent_start + m0.start(), subject=True)
        if not found and before.split()[-1].lower() == "and":
            # "Roe toured the docks and said Doe described it as “…”": the coordinated verb's subject
            res = sentence_subject(cx, sent_start, sent_start + m0.start())
            found = res is not None
        if found and res is not None:
            return res, m0
        return None
    return None


def colon_name(cx: Context, sp: Span, sent_start: int) -> Attribution | None:
    """`Pollsters agree - Jane Roe: “…”`, `From Roe’s campaign page: “…”`: a name (or a
    name’s document) right before the colon that introduces the quote."""
    pre = cx.masked[sent_start:sp.open_at].rstrip()
    if not pre.endswith(":") or sp.single or sp.para_start == 0:
        return None  # a headline's "Roe: ‘We Will Win …’" is a label, not a report
    head = pre[:-1].rstrip()
    if head.endswith((" was", " is")):
        head = head.rsplit(None, 1)[0]  # "Roe’s response was:"
    colon = sent_start + len(head)
    opening = _document_opening(cx, sent_start, colon)
    if opening is not None:  # "Roe’s letter makes a blunt case: “…”"
        name, title, kind, conf = resolved(cx, opening, 0.7)
        return Attribution(name, title, kind, None, None, conf, "colon", True)
    ms = cx.names.mentions_in(max(sent_start, colon - 80), colon)
    if not ms:
        return None
    m = ms[-1]
    if len(ms) >= 2 and ms[-2].possessive and (m.org or not cx.person_like(m)):
        m = ms[-2]  # "From Roe’s campaign page:"
    tail = cx.text[m.end:colon].split()
    if m.possessive:
        tail = tail[1:] if tail and tail[0] in ("’s", "'s") else tail
        if not tail or tail[-1].lower().rstrip(":") not in COLON_DOCS:
            return None
    elif tail or not cx.person_like(m) or m.org:
        return None
    before = cx.text[max(sent_start, m.start - 20):m.start].split()
    if not m.possessive and before and before[-1].lower() in PREPOSITIONS:
        return None  # "Roe wrote to Doe:": the addressee, not the writer
    name, title, kind, conf = resolved(cx, m, 0.7)
    return Attribution(name, title, kind, None, None, conf, "colon", True)


def _document_opening(cx: Context, sent_start: int, colon: int) -> Mention | None:
    """The owner of the document that opens a sentence: "Roe’s letter …", "The Roe campaign’s memo …"."""
    ms = cx.names.mentions_in(sent_start, min(colon, sent_start + 80))
    if not ms or not ms[0].possessive or cx.text[sent_start:ms[0].start].strip().lower() not in ("", "the"):
        return None
    nxt = cx.text[ms[0].end:ms[0].end + 30].split()
    nxt = nxt[1:] if nxt and nxt[0] in ("’s", "'s") else nxt
    return ms[0] if nxt and nxt[0].lower().strip(",") in COLON_DOCS and cx.person_like(ms[0]) else None


def colon_intro(cx: Context, sp: Span) -> Attribution | None:
    """`Dr. Roe stated:` closing the previous paragraph introduces a quote paragraph."""
    if cx.text[sp.para_start:sp.open_at].strip():
        return None
    prev_end = sp.para_start - 1
    while prev_end > 0 and cx.text[prev_end - 1].isspace():
        prev_end -= 1
    if prev_end <= 0 or cx.text[prev_end - 1] != ":":
        return None
    ps = cx.text.rfind("\n", 0, prev_end) + 1
    s = cx.sentence_start(prev_end - 1, ps)
    fake = Span(prev_end, prev_end, prev_end, prev_end, ps, prev_end)
    a = leading(cx, fake, s)
    if a is None:
        # "Transcript as follows:" names nobody: the last speaker is still talking
        subj = sentence_subject(cx, s, prev_end) or resolve_pronoun(cx, s, None)
        if subj is not None:
            name, title, kind, conf = subj
            a = Attribution(name, title, kind, None, None, round(conf * 0.7, 2), "colon", True)
    return a


def reported_via(cx: Context, sp: Span, a: Attribution) -> Attribution:
    """ "…,” Roe said, according to the Harbour Courier": the words reached the article through
    the Courier, which the sentence names as their source; the source named last speaks."""
    e = cx.sentence_end(sp.close_at, sp.para_end)
    tail = cx.masked[sp.close_at:e]
    if "x" * 3 in tail:
        return a
    via = next(reversed(list(_VIA_RE.finditer(tail))), None)
    if via is None:
        return reported_by(cx, sp.close_at, tail, a)
    start = sp.close_at + via.end()
    end = start + (stop if (stop := object_stop(_LEAD_STOP_RE, cx.masked[start:e], 0)) is not None else e - start)
    words = cx.text[start:end].lower().split()
    if any(w in ("his", "her", "their", "its") for w in words):
        return a  # "according to a copy of her farewell": the speaker's own words still
    ms = cx.names.mentions_in(start, end)
    if ms and ms[0].possessive and cx.person_like(ms[0]) and words[-1:] and words[-1] in COLON_DOCS:
        res: Resolved | None = resolved(cx, ms[0], 0.7)  # "according to Doe’s letter"
        found = True
    else:
        res, found = resolve_np(cx, start, end, subject=False)
    if not found or res is None:
        return a
    name, title, kind, conf = res
    return Attribution(name, title, kind, "according to", None, round(conf * 0.8, 2), "via", True)


def previous_sentence(cx: Context, sp: Span) -> Attribution | None:
    """A quote opening its sentence after "Roe agreed." or "Roe recalled how …": the
    speaker (or, failing one, the person subject) of the sentence before goes on. At the start
    of a paragraph, the last sentence of the previous paragraph counts when it holds no quote."""
    s = cx.sentence_start(sp.open_at, sp.para_start)
    if cx.masked[s:sp.open_at].strip():
        return None
    floor = sp.para_start
    if s <= sp.para_start:
        # the previous paragraph, past the blank lines between (not the empty line before this one)
        k = sp.para_start
        while k > 0 and cx.text[k - 1].isspace():
            k -= 1
        if k == 0:
            return None
        floor = cx.text.rfind("\n", 0, k) + 1
        while floor < k and cx.text[floor].isspace():
            floor += 1
    end = s
    while end > floor and cx.text[end - 1].isspace():
        end -= 1
    if end <= floor:
        return None
    prev_s = cx.sentence_start(end - 1, floor)
    tail = cx.masked[prev_s:end]
    if "x" * 3 in tail or (s <= sp.para_start and any(c in cx.text[prev_s:end] for c in "“”\"")):
        return None
    fake = Span(end, end, end, end, floor, end)
    a = leading(cx, fake, prev_s)
    if a is not None and a.speaker is not None:
        return a.moved("previous", 0.7)
    subj = sentence_subject(cx, prev_s, end)
    if subj is None or subj[2] != "person":
        return None
    name, title, kind, conf = subj
    return Attribution(name, title, kind, None, None, round(conf * 0.6, 2), "previous", True)


def object_stop(rx: re.Pattern[str], text: str, pos: int) -> int | None:
    """Offset from `pos` where the object after a verb ends, or None; the period of "Sen." or of
    an initial ("Jane A. Roe") does not end it."""
    start = pos
    while True:
        m = rx.search(text, start)
        if m is None:
            return None
        if m.group() == "." and not ends_sentence(text, m.start()):
            start = m.end()
            continue
        return m.start() - pos


def _shift(m: re.Match[str], base: int, text: str) -> re.Match[str]:
    """Re-match a verb found in a slice at its absolute offset (for the text after it)."""
    shifted = VERB_RE.match(text, base + m.start())
    return shifted if shifted is not None else m


def signature(cx: Context, sp: Span) -> Attribution | None:
    """A quote that fills its paragraph, signed on the next line: `“…”` / `— Jane Roe.`"""
    if cx.text[sp.para_start:sp.open_at].strip() or cx.text[sp.close_at:sp.para_end].strip(" \t\xa0.,"):
        return None
    m = _SIGNATURE_RE.match(cx.text, sp.para_end)
    if m is None:
        return None
    ms = cx.names.mentions_in(m.start(1), m.end(1))
    if not ms or ms[0].start != m.start(1) or ms[0].possessive or not cx.person_like(ms[0]):
        return None
    name, title, kind, conf = resolved(cx, ms[0], 0.8)
    return Attribution(name, title, kind, None, None, conf, "signature", True)
