"""Clause structure around a mention: is it the subject of its clause, how salient is it, and
small tests of the words around a verb (appositives, role nouns, inverted verbs).

Shallow grammar over the masked text: the words right after a name say whether a verb
follows it, the words before it whether it opens its sentence.
"""

from __future__ import annotations

import bisect
import re

from .context import Context, Resolved
from .lexicon import (
    AUX,
    AUX_VERBS,
    COMMON_VERB_AFTER,
    CONJ_START,
    DOC_NOUNS,
    ED_NOUNS,
    INDEFINITE,
    NOUN_AFTER,
    PREPOSITIONS,
    STOP_ROLE,
    SUBJECT_PRONOUNS,
    SUBORDINATORS,
    TITLE_ALIASES,
)
from .mentions import Mention, is_title_word
from .verbs import VERB_FORMS

# How far back a bare surname looks for the full name of the person it stands for.
_SURNAME_REACH = 3000
WORD_RE = re.compile(r"[\w’'-]+")
_FIRST_BONUS = 1.0  # salience of the first name of a sentence
_WH = frozenset("why how what whether where when".split())


def is_subject(cx: Context, m: Mention) -> bool:
    """A mention that heads its clause: sentence-initial, or followed by a verb."""
    cached = cx.subject_cache.get(m.start)
    if cached is not None:
        return cached
    after = cx.masked[m.end:m.end + 120]
    words = WORD_RE.findall(after)[:6]
    res = False
    # skip an appositive: "Jane Roe, the board's secretary, said"
    if after.lstrip().startswith(","):
        close = after.find(",", after.find(",") + 1)
        if 0 < close < 90:
            words = WORD_RE.findall(after[close + 1:])[:3]
    elif after.lstrip().startswith("("):
        close = after.find(")")
        if 0 < close < 40:
            words = WORD_RE.findall(after[close + 1:])[:3]
    speech = False
    prev = cx.masked[max(0, m.start - 30):m.start].split()[-1:]
    if prev and prev[0].isalpha() and prev[0].islower() and prev[0].endswith("ed") and len(prev[0]) > 4 \
            and prev[0] not in ED_NOUNS and prev[0] not in VERB_FORMS:
        # "Roe hammered Doe, calling him …": the object of a verb in the past tense heads no clause
        cx.subject_cache[m.start] = False
        cx.salience[m.start] = 0.0
        return False
    if words and words[0].lower() in SUBJECT_PRONOUNS:
        # an appositive to a pronoun subject: "her husband, John Roe, said she …"
        cx.subject_cache[m.start] = False
        cx.salience[m.start] = 0.0
        return False
    for w in words[:3]:
        lw = w.lower()
        if lw in VERB_FORMS or lw in COMMON_VERB_AFTER or (
                w.islower() and (lw.endswith(("ed", "n't", "n’t")) or lw in AUX_VERBS)):
            res = True
            speech = lw in VERB_FORMS and not VERB_FORMS[lw].object_only
            break
        if lw not in AUX:
            break
    s = cx.clause_start(m.start)
    lead = cx.text[s:m.start]
    if not res and not m.possessive and after.lstrip()[:1] in (",", ".", ";", "") \
            and after_inverted_verb(cx.masked[max(s, m.start - 80):m.start]):
        # "…, said Jane Roe, an outreach director": the speaker of an inverted verb
        cx.subject_cache[m.start] = True
        cx.salience[m.start] = 2.0
        return True
    # the sentence's subject: after an opening phrase ("Later, ", "In a statement, "), only
    # titles and modifiers before the name ("Labour leadership candidate")
    lead_words = lead[lead.rfind(",") + 1:].split()
    if lead_words[:1] in (["And"], ["But"], ["Yet"], ["So"]) and "," not in lead:
        lead_words = lead_words[1:]  # "But Roe, for all …, seems to agree": a conjunction opens the sentence
    first = len(lead_words) <= 6 and not any(
        w.lower() in CONJ_START or w.lower() in PREPOSITIONS or w.lower() in SUBORDINATORS
        or w.lower() in VERB_FORMS for w in lead_words)
    if first and lead.strip():
        # after a comma, a name opens the clause only when the sentence does not open with a
        # person: "Roe, a Doe admirer, praised …" and "Dr. Roe, head of …, questioned Doe’s
        # timetable" name Doe in an appositive or an object
        opener = next(iter(cx.names.mentions_in(s, m.start)), None)
        first = opener is None or opener.org or opener.possessive or not cx.person_like(opener) or any(
            w[:1].islower() or w.lower() in CONJ_START or w.lower() in PREPOSITIONS or w.lower() in _WH
            for w in cx.text[s:opener.start].split())
    if first and not res and lead.rstrip().split()[-1:] in (["a"], ["an"]) and cx.text[m.end:m.end + 2][1:].islower():
        first = False  # "Roe, a Doe supporter, said": a name modifying a noun after "a" heads nothing
    res = res or first
    cx.subject_cache[m.start] = res
    cx.salience[m.start] = (2.0 if speech else 0.0) + (_FIRST_BONUS if first else 0.0)
    return res


def resolved(cx: Context, m: Mention, conf: float) -> Resolved:
    """The speaker a mention names: its fullest form, with its title."""
    if m.org:
        name = m.name
        if name.isupper() and 2 <= len(name) <= 6:
            name = cx.names.spelled_out(name)  # "the HPA said" -> the name the article spelt out
        name = cx.names.fullest_org(name)
        return name, None, "organisation", conf
    full = cx.names.full_name(m.name, m.start)
    if " " not in m.name and cx.names.forms_of(m.name) > 1:
        full = _subject_form(cx, m) or full
    ent = cx.names.entity(full)
    if " " not in full and not m.title and (ent is None or (ent.title is None and ent.gender is None)):
        org = cx.names.org_opening_with(full)
        if org is not None:  # "Norsk said", the article naming no person Norsk: Norsk Shipping Group
            return org, None, "organisation", conf
    title = m.title or (ent.title if ent else None)
    return full, title, "person", conf


def _subject_form(cx: Context, m: Mention) -> str | None:
    """Two people share a surname ("Tove Roe, sister of Olaf Roe, …. Roe said"): the bare
    surname stands for the one last named in full as a clause subject, if any."""
    key = cx.names.key(m.name)
    i = bisect.bisect_left(cx.names.starts, m.start) - 1
    checked = 0
    found: Mention | None = None
    while i >= 0 and cx.names.mentions[i].start >= m.start - _SURNAME_REACH and checked < 6:
        c = cx.names.mentions[i]
        i -= 1
        if c.org or c.possessive or " " not in c.name or cx.names.key(c.name) != key or cx.in_quote(c.start):
            continue
        if cx.names.introduces_kin(c.start):
            continue  # "her husband, Olaf Roe, said": a relative named in passing
        checked += 1
        before = cx.words_before(c, max(0, c.start - 60))
        while before and role_word(before[-1]):
            before.pop()  # "of yard owner Olaf Roe": skip the role words to the preposition
        if is_subject(cx, c) and not (before and before[-1].lower().strip(",") in PREPOSITIONS):
            if found is not None and c.start < cx.sentence_start(found.start, 0):
                break
            found = c  # the earliest such subject of that sentence: "Olaf Roe, brother of Tove Roe, said"
    return cx.names.full_name(found.name, found.start) if found is not None else None


def mention_salience(cx: Context, m: Mention) -> float:
    """Extra weight for the subject of a speech verb and for the sentence's first name."""
    is_subject(cx, m)
    return cx.salience.get(m.start, 0.0)



def verb_follows(masked: str, pos: int, limit: int) -> bool:
    """A finite verb (after adverbs, auxiliaries and an appositive) right after `pos`, before `limit`."""
    after = masked[pos:min(limit, pos + 120)]
    if after.startswith(","):
        first = WORD_RE.findall(after[:30])[:1]
        if first and first[0] in VERB_FORMS and first[0].endswith(("ed", "told", "said")):
            return True  # "Doe, told the Gazette Roe was wrong, …": an appositive closed, then its verb
        close = after.find(",", 1)
        if 0 < close < 90:
            after = after[close + 1:]
    for w in WORD_RE.findall(after[:60])[:4]:
        lw = w.lower()
        if lw in VERB_FORMS or lw in COMMON_VERB_AFTER or lw in AUX_VERBS or (
                w.islower() and lw.endswith(("ed", "n't", "n’t"))):
            return True
        if lw not in AUX:
            return False
    return False



def noun_phrase(words_text: str) -> bool:
    """An appositive holds no clause: no verb, subject pronoun or clause opener ("the senator from
    Ruritania", not "issued a statement after Roe" or "saying she"). A subject relative clause
    ("who backs Roe") may be skipped too; an object one ("which Mayor Jane Roe declared") not."""
    ws = words_text.split()
    if len(ws) >= 2 and ws[0].lower() in ("who", "which") and ws[1].islower() and ws[1] not in INDEFINITE \
            and (ws[1] in VERB_FORMS or ws[1] in AUX_VERBS or ws[1] in AUX or ws[1].endswith(("s", "ed"))):
        return True
    for i, w in enumerate(ws):
        lw = w.lower().strip(",;:()")
        if w.islower() and lw.endswith("ed") and 0 < i < len(ws) - 1 and ws[i - 1].isalpha() \
                and ws[i - 1].islower() and ws[i - 1] not in SUBJECT_PRONOUNS and ws[i + 1][:1].isupper():
            continue  # "a firm called Harbour Partners": a participle naming something, no clause
        if lw in VERB_FORMS or lw in SUBJECT_PRONOUNS or lw in AUX_VERBS or lw in SUBORDINATORS:
            return False
        if lw == "and" and 0 < i < len(ws) - 1 and _role_like(ws[i - 1]) and _role_like(ws[i + 1]):
            continue  # "president and chief executive of …": one role
        if lw == "and" and 0 < i < len(ws) - 1 and ws[i - 1][:1].isupper() and ws[i + 1][:1].isupper():
            continue  # "chair of the Roads and Bridges Committee": inside a name
        if lw in ("after", "when", "while", "before", "because", "as", "although", "though", "and", "but",
                  "which", "who", "whom", "where"):
            return False
        if w.islower() and lw.endswith("ed") and len(lw) > 4 and lw not in ED_NOUNS:
            return False
    return True



def _role_like(w: str) -> bool:
    return is_title_word(w) or (w.islower() and role_word(w))


def role_word(w: str) -> bool:
    """A lower-case noun that may describe the name after it ("digital consultant", "anchor")."""
    return (w.isalpha() and w.islower() and w not in STOP_ROLE and w not in VERB_FORMS and w not in AUX
            and w not in CONJ_START and w not in PREPOSITIONS and w not in SUBORDINATORS
            and w not in AUX_VERBS and not w.endswith(("ed", "ing", "ly")))



def modifier_slot(text: str, m: Mention, end: int) -> bool:
    """ "the Harbour senator": a name between "the" and a lower-case role noun modifies it."""
    before = [w.lower() for w in text[max(0, m.start - 20):m.start].split()[-2:]]
    nxt = text[m.end:end].split()
    if not nxt or not before:
        return False
    head = nxt[0].strip(",")
    if before[-1] == "the" and role_word(head):
        return True
    # "a top Jane Roe adviser": a determiner shortly before, a role noun right after
    return head in TITLE_ALIASES and any(w in ("a", "an", "the", "one") for w in before)



def after_inverted_verb(before: str) -> bool:
    """True when `before` ends with a speech verb and, at most, lower-case role words and titles:
    "said", "said digital consultant", "according to Harbour Department spokeswoman"."""
    words = before.split()
    k = len(words)
    while k > 0 and len(words) - k < 6 and (words[k - 1].islower() or words[k - 1][:1].isupper()) \
            and words[k - 1] not in VERB_FORMS and not words[k - 1].endswith((",", ".", ";", ":")):
        low = words[k - 1].lower()
        if (low in CONJ_START and low not in ("of", "for", "to")) or low in SUBJECT_PRONOUNS or low in _WH \
                or low in AUX_VERBS:
            return False  # "… why she trusted Roe": a clause of its own, no inverted speaker
        k -= 1
    if k == 0:
        return False
    w = words[k - 1].rstrip(",")
    if w in ("to",) and k >= 2 and words[k - 2] == "according":
        return True
    if k >= 2 and words[k - 2].lower() in SUBJECT_PRONOUNS:
        return False  # "he said Roe": the verb has its subject, the name is its object
    return w in VERB_FORMS and not VERB_FORMS[w].object_only and not VERB_FORMS[w].trailing_only



def description_mods(words: list[str], low: list[str], head: str, subject: bool) -> list[str] | None:
    """The modifiers of a definite description "the <modifier>* <head>" ("the Harbour senator"),
    or None when the slot is not one."""
    try:
        h = low.index(head) if not subject else len(low) - 1 - low[::-1].index(head)
    except ValueError:
        return None
    k = h - 1
    mods: list[str] = []
    while k >= 0 and low[k] != "the" and h - k <= 4:
        if not words[k].strip(",;:()").replace("-", "").isalpha():
            return None
        mods.append(words[k].strip(",;:()"))
        k -= 1
    if k < 0 or low[k] != "the":
        return None
    return [w for w in mods if w.lower() not in STOP_ROLE]



def verb_before_quote(pre: str, m: re.Match[str]) -> bool:
    """A noun-like form right before the quote after a document is a verb: "The ad claims “…”"."""
    if pre[m.end():].strip(" \t\xa0,:").lower() not in ("", "that"):
        return False
    before = pre[:m.start()].split()
    return bool(before) and before[-1].lower() in DOC_NOUNS



def noun_follows(text: str, pos: int) -> bool:
    nxt = text[pos:pos + 30].split()
    return bool(nxt) and nxt[0].lower() in NOUN_AFTER
