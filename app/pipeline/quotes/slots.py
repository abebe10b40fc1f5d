"""The words in a verb's subject slot (before it) or object slot (after it), read as a speaker.

A name resolves to its fullest form; a pronoun, a description ("the governor", "the agency")
or a document ("the ad says") goes to `coref`; an indefinite ("a spokesman", "one person")
names nobody but still counts as an attribution.
"""

from __future__ import annotations

import bisect
import re

from .clauses import description_mods, is_subject, modifier_slot, noun_phrase, resolved
from .context import Context, Resolved
from .coref import recent_poll, recent_subject, resolve_description, resolve_pronoun, resolve_role
from .lexicon import (
    AUX,
    CLAUSE_CONJ,
    CONJ_START,
    DOC_NOUNS,
    GENERIC_HEADS,
    INDEFINITE,
    ISSUED_NOUNS,
    ORG_DESCRIPTIONS,
    PLURAL_PRONOUNS,
    POLL_SUBJECTS,
    PREPOSITIONS,
    PRONOUN_GENDER,
    TITLE_ALIASES,
)
from .mentions import Mention, is_title_word
from .orgs import earlier_document_owner, named_org, recent_campaign, recent_org, resolve_plural
from .verbs import VERB_FORMS

# "But a spokesman for the ": the subject of a sentence is a body's unnamed spokesperson
_SPOKESPERSON_RE = re.compile(r"(?:(?:But|And|However,)[ \t\xa0]+)?(?:A|a|The|the)[ \t\xa0]+"
                              r"(?:spokesman|spokeswoman|spokesperson)[ \t\xa0]+(?:for|of|at|from)[ \t\xa0]+(?:the[ \t\xa0]+)?")
_TIME_TAIL_RE = re.compile(
    r"(?:,?\s+(?:on|last|this|late|early|earlier|on\s+late)?\s*(?:Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|week|month|year|night|morning|afternoon|evening)(?:\s+(?:night|morning|afternoon|evening))?,?)+\s*$"
)
# Where a new clause with a subject of its own begins: "…, who …", "…, where …", "…; …".
_CLAUSE_BREAK_RE = re.compile(r",\s+(?:\w+\s+){0,6}?(?:who|whom|which|where|when|while|whose)\b|\s(?:and|but)\s+(?:he|she|they)\b")
# Words that open an adverbial phrase before the subject ("After the vote, the mayor said").
_OPENERS = frozenset("after before when while although though speaking asked appearing".split())
# (", which includes Doe," is the subject's; ", which an inquiry found," names its own subject)
_WHO_CLAUSE_RE = re.compile(r",[\"”’]?\s+(?:who|which(?=\s+[a-z]+(?:s|ed)\s))\s[^,]*$")
# ", with Roe promising …": the participle's subject follows, no appositive
_WITH_RE = re.compile(r"\s*with\s+(?:the\s+)?[A-Z]")
_RELATIVE_RE = re.compile(r"\s(?:who|which|that)\s")


def resolve_np(cx: Context, start: int, end: int, subject: bool) -> tuple[Resolved | None, bool]:
    """Resolve the words of a subject (before the verb) or object (after it) slot.

    Returns (speaker or None, found): found is False when the slot holds nothing that
    can speak (so another rule may try).

    Neighbouring quotes ask about the same slot ("Roe said “…” and “…”"): the answer is kept
    per document. It reads the document and the speakers attributed before the slot's end
    (pronouns and "they" go to the last speaker), which only grow: the number of those is part
    of the key, so a speaker attributed since makes a new question.
    """
    key = (start, end, subject, bisect.bisect_right(cx.speaker_pos, end))
    got = cx.slot_answers.get(key)
    if got is None:
        got = cx.slot_answers[key] = _resolve_np(cx, start, end, subject)
    return got


def _resolve_np(cx: Context, start: int, end: int, subject: bool) -> tuple[Resolved | None, bool]:
    region = cx.text[start:end]
    if subject:
        # drop adverbs, auxiliaries and times between the subject and the verb
        region = _TIME_TAIL_RE.sub("", region)
        words = region.split()
        while words and words[-1].lower().strip(",") in AUX:
            words.pop()
        cut = region.rfind(words[-1]) + len(words[-1]) if words else 0
        closed = region[:cut].rstrip().endswith(",")  # a comma right before the verb closes an appositive
        region = region[:cut].rstrip(" ,")
        end = start + len(region)
        if words and words[-1].lower() == "who" and region[:-3].rstrip().endswith(","):
            # "Contrast that with Roe, who has called …": the relative pronoun's antecedent
            ante = [m for m in cx.names.mentions_in(start, end - 3)
                    if cx.person_like(m) and not m.possessive and not cx.text[m.end:end - 3].strip(" ,")]
            if ante:
                return resolved(cx, ante[-1], 0.8), True
        comma = region.rfind(",")
        opening = region.split(None, 1)[0].lower() if region.strip() else ""
        first_comma = region.find(",")
        if 0 < first_comma == comma and not closed and (opening in PREPOSITIONS or opening in _OPENERS or (
                opening.endswith("ing") and opening in VERB_FORMS)):
            # "During a visit from Jane Roe, the caretaker explained": the subject follows the
            # opening phrase (but "After the talk Jane Roe, the mayor, said" closes an appositive)
            tail_start = start + comma + 1
            tail = cx.text[tail_start:end]
            if tail.strip() and (tail.split()[0].lower() in ("the", "a", "an", "he", "she", "they", "it")
                                 or is_title_word(tail.split()[0])) and noun_phrase(tail):
                # (also "In a speech on Doe's return, Mr Roe said": a title and a name)
                return np_at(cx, tail_start, end, True)
        who = _WHO_CLAUSE_RE.search(region)
        if who is not None:
            # "Jane Roe, a singer on Doe’s record, who later taught beside Doe, said": the relative
            # clause and the appositive follow the subject, the first person named
            for m in cx.names.mentions_in(start, start + who.start()):
                before = cx.words_before(m, start)
                if m.possessive or not cx.person_like(m) or (before and before[-1].lower() in PREPOSITIONS):
                    continue
                if not before or before[-1].endswith(",") is False and all(w[:1].isupper() for w in before):
                    return resolved(cx, m, 0.8), True
                break
        # an appositive between subject and verb: "Jane Roe, the board's secretary, said"
        if comma > 0 and not _WITH_RE.match(region, comma + 1):
            appos = region[comma + 1:].strip()
            rel = _RELATIVE_RE.search(appos)
            if rel and (appos.split()[0].lower() in ("the", "a", "an") or is_title_word(appos.split()[0])) \
                    and rel.start() > 0:
                appos = appos[:rel.start()]  # ", an undergraduate who led the study, said"
            if appos and (appos[0].islower() or appos.split()[0].lower() in ("the", "a", "an")
                          or "’s " in appos or "'s " in appos or is_title_word(appos.split()[0])) \
                    and noun_phrase(appos) \
                    and (_participle(appos) or not names_person(cx, start + comma + 1, end, subjects_only=True)
                         or _named_head(cx, start, start + comma)):
                # (", playing Tom Doe on …,": the participle's object is no subject)
                head_end = start + comma
                res, found = np_at(cx, start, head_end, True)
                if found and res is not None:
                    return res, found
    return np_at(cx, start, end, subject)


def _named_head(cx: Context, start: int, end: int) -> bool:
    """Is [start, end) a person named in full and nothing else ("Jane Roe" of "Jane Roe, President
    Harbour Ferries, said"): then a title and a name after the comma are that person's role and
    employer, not a second subject."""
    ms = cx.names.mentions_in(start, end)
    if len(ms) != 1:
        return False
    m = ms[0]
    return not m.org and not m.possessive and len(m.name.split()) >= 2 and cx.person_like(m) \
        and not cx.text[start:m.start].strip() and not cx.text[m.end:end].strip()


def _with_participle(cx: Context, m: Mention, before: list[str], end: int) -> bool:
    """ "…, with Roe (recently) promising to …": "with" and a participle make the name after it
    the participle's subject."""
    if before[-1].lower() != "with":
        return False
    between = cx.text[m.end:end].split()
    verb = [w for w in cx.text[end:end + 40].split() if not w.endswith("ly")][:1]
    return all(w.endswith("ly") for w in between) and bool(verb) and verb[0].endswith("ing")


def _participle(phrase: str) -> bool:
    """Does the phrase open with a lower-case participle ("playing Doe", "speaking for Doe")?"""
    first = phrase.split(None, 1)[0]
    return first.islower() and first.isalpha() and first.endswith("ing") and len(first) > 5


def clause_names(cx: Context, pos: int) -> frozenset[str]:
    """The people a clause names after its subject pronoun (from `pos` to a quotation, a relative
    clause or the sentence's end): "he told Roe", "she said Roe was wrong". A pronoun never means a name its own
    clause goes on to give (binding: the name would be bound by the pronoun)."""
    stop = min(cx.sentence_end(pos, len(cx.text)), pos + 160)
    rest = cx.masked[pos:stop]
    rel = _CLAUSE_BREAK_RE.search(rest)
    cut = min((k for k in (rest.find("“"), rest.find('"'), rest.find("xxx"), rest.find(";"), rel.start() if rel else -1)
               if k >= 0), default=len(rest))
    return frozenset(cx.names.full_name(m.name, m.start) for m in cx.names.mentions_in(pos, pos + cut)
                     if not m.org)


def appositive_name(cx: Context, start: int, end: int) -> Resolved | None:
    """A person named right at `start` (after at most a few lower-case role words) and closing
    the phrase: ", Jane Roe.", ", actress Jane Roe." """
    for m in cx.names.mentions_in(start, min(end, start + 60)):
        lead = cx.text[start:m.start].strip(" ,").split()
        if m.org or m.possessive or not cx.person_like(m) or len(lead) > 3 \
                or not all(w.isalpha() and w.islower() and w not in VERB_FORMS and w not in CONJ_START for w in lead):
            return None
        if cx.text[m.end:m.end + 2].strip()[:1] in ("", ",", ".", ";"):
            return resolved(cx, m, 0.8)
        return None
    return None


def next_sentence_subject(cx: Context, pos: int) -> Resolved | None:
    """A person named in full opening the sentence after the one at `pos`."""
    e = cx.sentence_end(pos, len(cx.text))
    for m in cx.names.mentions_in(e, min(len(cx.text), e + 120)):
        lead = cx.text[e:m.start].split()
        if m.org or m.possessive or len(m.name.split()) < 2 or len(lead) > 2 or cx.masked[m.start] == "x":
            return None
        return resolved(cx, m, 0.6) if is_subject(cx, m) else None
    return None


def names_person(cx: Context, start: int, end: int, subjects_only: bool = False) -> bool:
    """A person named in full (not a possessive) in [start, end): "…, former mayor Jane Roe"
    is the subject after an opening phrase, not an appositive. With `subjects_only`, a person
    after a preposition does not count (", a spokesman for Mayor Jane Roe," is an appositive)."""
    for m in cx.names.mentions_in(start, end):
        if m.org or m.possessive or len(m.name.split()) < 2 or cx.masked[m.start] == "x":
            continue
        if subjects_only:
            lead = cx.text[start:m.start]
            if m.title and lead.rstrip().endswith(m.title):
                lead = lead.rstrip()[:-len(m.title)]
            before = [w for w in lead.split() if w.lower() not in ("the", "a", "an")]
            title_of = len(before) >= 2 and before[-1] == "of" and before[-2][:1].isupper() \
                and is_title_word(before[-2])
            if before and (before[-1].lower().strip(",") in PREPOSITIONS or (
                    before[-1].islower() and before[-1].endswith("ed"))) and not title_of:
                # "for Mayor Roe", "a firm called Harbour Partners": no subject (but "Speaker of the
                # House Jane Roe": the "of" is the title's)
                continue
            if any(w in PREPOSITIONS for w in before[1:]) and not title_of:
                continue  # "chief of the pilots' journal Harbour Tide": a name after "of …" is the role's
        return True
    return False


def np_at(cx: Context, start: int, end: int, subject: bool) -> tuple[Resolved | None, bool]:
    region = cx.text[start:end]
    words = region.split()
    if not words:
        return None, False
    low = [w.lower().strip(",;:()“”\"") for w in words]
    key = low[-1] if subject else low[0]
    if key in PRONOUN_GENDER or key in PLURAL_PRONOUNS:
        if key in PLURAL_PRONOUNS:
            return resolve_plural(cx, start, key == "it"), True
        # resolve from where the pronoun stands: "Roe paused, when he told …" finds
        # Roe earlier in the same sentence
        at = start + region.rfind(words[-1]) if subject else start
        s0 = cx.sentence_start(at, 0)
        if subject and s0 < at and cx.masked[s0:s0 + 4].split()[:1] == [key.capitalize()] \
                and key in ("he", "she"):
            # "He thinks that unless Roe agrees, … which he calls …": the pronoun opening the
            # sentence and this one are one person, whom the words between do not name
            at = s0
        if subject and at == s0 and key in ("he", "she"):
            body = _spokesperson_before(cx, s0)
            if body is not None:
                return body, True
        return resolve_pronoun(cx, at, PRONOUN_GENDER[key], clause_names(cx, end) if subject else frozenset()), True
    mentions = [m for m in cx.names.mentions_in(start, end) if cx.person_like(m)]
    if subject:
        if cx.has_poll and (any(w in POLL_SUBJECTS for w in low) or " in 10 " in f" {' '.join(low)} "):
            # "37 percent of voters say …": the poll that asked them speaks
            poll = recent_poll(cx, start, end)
            if poll is not None:
                return (poll, None, "organisation", 0.6), True
        if low[-1] in ("and", "but", "or", "then"):
            return None, False  # a coordinated verb: its subject is the clause's
        doc = next((k for k, w in enumerate(low[:5]) if w in DOC_NOUNS), -1)
        if doc >= 0 and not any(w in VERB_FORMS for w in low[:doc]) and not any(
                w.endswith(",") for w in words[doc:-1]):  # "In a leaflet by Roe's team, Doe wrote": Doe
            res = document_source(cx, start, end, low)
            if res is None and low[0] in ("the", "this", "that") and doc <= 3:
                res = earlier_document_owner(cx, start, low[doc])  # "the editorial said": its paper
            if res is not None:
                return res, True
        for m in reversed(mentions):
            if cx.text[m.start - 1:m.start] == "(" and cx.text[m.end:m.end + 1] == ")" \
                    and any(not x.org and x.start < m.start for x in mentions):
                continue  # "Roe of the Harbour Board (HB) said": the short form of the body after a person
            before = cx.words_before(m, start)
            k = len(before)
            while not m.org and k and is_title_word(before[k - 1]):
                k -= 1
            if 0 < k < len(before) and before[k - 1].lower() not in CLAUSE_CONJ:
                before = before[:k]  # "a spokesman for Mayor Jane Roe said": past the title (but "as Sen. Roe said")
            if before and before[-1].lower().strip(",") in PREPOSITIONS and not (
                    before[-1].lower() in CLAUSE_CONJ and not cx.text[m.end:end].strip(" ,")) \
                    and not _with_participle(cx, m, before, end):
                continue  # "a spokesman for Roe said"; but "hours after Roe said", "with Roe saying"
            if m.possessive:
                tail = cx.text[m.end:end].split()
                if tail and tail[-1].lower().strip(",") in ("campaign", "team", "camp"):
                    return (f"{m.name.split()[-1]} campaign", None, "organisation", 0.6), True
                if [w.lower().strip(",") for w in tail] in (["’s", "office"], ["'s", "office"], ["office"]):
                    # "Roe’s office said": the office speaks for Roe, and is named so
                    return (f"{m.name.split()[-1]}’s office", None, "organisation", 0.6), True
                continue
            if cx.text[m.end:m.end + 10].startswith((" campaign", " camp ")):
                return (f"{m.name} campaign", None, "organisation", 0.7), True  # "the Roe campaign said"
            if modifier_slot(cx.text, m, end):
                continue  # "the Harbour senator said"
            return resolved(cx, m, 0.9), True
        # a lone surname right before the verb speaks even when never given in full ("Roe said")
        last = [m for m in cx.names.mentions_in(start, end) if not m.possessive and not m.org]
        if last and not cx.text[last[-1].end:end].strip(" ,") and cx.speakable(last[-1]):
            return resolved(cx, last[-1], 0.7), True
    else:
        for k, m in enumerate(mentions):
            if m.possessive or m.start - start > 60:
                continue
            before = cx.words_before(m, start)
            while before and is_title_word(before[-1]):
                before.pop()  # "to Mayor Jane Roe"
            if low[0] in ("the", "a", "an") and before and before[-1].lower().strip(",") in PREPOSITIONS \
                    and before[-1].lower() not in ("by", "from"):
                # "said the bookkeeper for Mayor Jane Roe": a description, resolved below (but "a
                # statement from Roe", "a filing by Roe" name their source)
                continue
            if cx.text[start:m.start].strip(" ,").lower() in ("", "the") \
                    and cx.text[m.end:end].strip(" ,").lower() in ("campaign", "camp"):
                return (f"{m.name} campaign", None, "organisation", 0.7), True  # "according to the Roe campaign"
            # "said Roe campaign spokesman John Doe": a name used as a modifier
            nxt = cx.text[m.end:m.end + 2]
            if k + 1 < len(mentions) and nxt[:1] == " " and nxt[1:2].islower() and \
                    cx.text[m.end:end].split()[0] not in PREPOSITIONS:
                continue
            if nxt[:1] == " " and nxt[1:2].islower() and modifier_slot(cx.text, m, end):
                continue  # "said the Harbour senator": a description, resolved below
            if cx.text[m.end:m.end + 8].split()[:1] in (["poll"], ["survey"], ["poll,"], ["poll."]):
                return (f"{m.name} {cx.text[m.end:m.end + 8].split()[0].strip(',.')}", None,
                        "organisation", 0.8), True  # "according to a Harbour Institute poll"
            return resolved(cx, m, 0.9), True
    # descriptions: "the governor", "a spokesman for the campaign", "one person"
    seq = low if subject else low[:6]
    if subject:
        tail = seq[-5:]
        head = tail[-1]
        # the determiner nearest the head: "In a statement, the network" is definite
        det = next((w for w in reversed(tail) if w in ("the", "a", "an", "one", "another", "this", "that", "his",
                                                        "her", "their", "its", "some")), "")
    else:
        head = next((w for w in seq[1:5] if w in TITLE_ALIASES or w in ORG_DESCRIPTIONS), seq[-1])
        det = seq[0]
    owned = det in ("his", "her", "their", "its") or any(w.endswith(("’s", "'s")) for w in seq[:-1])
    if subject and head in TITLE_ALIASES and (
            owned or (seq[0] in ("a", "an") and head not in GENERIC_HEADS)):
        # "Roe’s campaign manager says …. John Doe told reporters": named next
        named = next_sentence_subject(cx, end)
        if named is not None:
            return named, True
    if det in INDEFINITE or seq[0] in INDEFINITE or head in INDEFINITE:
        return None, True
    if det in ("his", "her", "their", "its") and (head in TITLE_ALIASES or head in ORG_DESCRIPTIONS):
        return None, True  # "his spokesman": someone else, unnamed
    mods = description_mods(words, seq, head, subject)
    if det == "the" and mods is not None:
        res = resolve_role(cx, head, mods, start)
        if res is not None:
            return res, True
    if head in ORG_DESCRIPTIONS:
        return recent_org(cx, start, head), True
    if head in GENERIC_HEADS and det == "the":
        return None, True  # "the woman said": an unnamed bystander, or someone the text keeps unnamed
    if head in TITLE_ALIASES:
        return resolve_description(cx, head, start, mods), True
    if det == "the" and head.isalpha() and head.islower():
        # "the association said": a body the article named with that noun ("Harbour Pilots Association")
        org = named_org(cx, start, head)
        if org is not None:
            return org, True
    return None, False


def _spokesperson_before(cx: Context, s0: int) -> Resolved | None:
    """ "A spokesman for the Harbour Office defended the plan. He said: …": a he or she opening the
    sentence after one whose subject is a body's unnamed spokesperson speaks for that body."""
    if s0 == 0:
        return None
    p0 = cx.sentence_start(s0 - 1, 0)
    if "\n" in cx.text[p0:s0]:
        return None  # another paragraph
    m = _SPOKESPERSON_RE.search(cx.masked, p0, s0)
    if m is None or cx.masked[p0:m.start()].strip() and not cx.masked[p0:m.start()].rstrip().endswith(("”", '"')):
        return None  # the subject opens the sentence, or follows a quotation that ended one
    body = cx.names.mentions_in(m.end(), min(s0, m.end() + 60))[:1]
    if not body or not body[0].org or body[0].possessive or cx.masked[m.end():body[0].start].strip(" "):
        return None
    return resolved(cx, body[0], 0.7)


def document_source(cx: Context, start: int, end: int, low: list[str]) -> Resolved | None:
    """Who stands behind "The ad says", "A letter from X warns", "The campaign’s statement declares"."""
    for m in cx.names.mentions_in(start, end):
        before = cx.text[max(start, m.start - 30):m.start].split()
        while before and before[-1].lower() in ("the", "a", "an"):
            before.pop()
        if before and before[-1].lower() in ("from", "by"):
            return resolved(cx, m, 0.7)
        if m.possessive:
            return resolved(cx, m, 0.7)
    if any(w in ("campaign’s", "campaign's") for w in low):
        return recent_campaign(cx, start)
    if low[0] in ("the", "this", "that") and any(w in ISSUED_NOUNS for w in low[:4]):
        return recent_subject(cx, start)
    return None
