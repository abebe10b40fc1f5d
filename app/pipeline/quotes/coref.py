"""Coreference within one article: pronouns, descriptions and short forms to the speaker they stand for.

- a pronoun goes to the most salient compatible person before it: near in sentences, a clause
  subject or a recent speaker, of the pronoun's gender when the article tells it;
- "the governor", "the Harbour senator" to the latest person the article gave that role;
- "most voters say" to the poll;
- organisations and documents ("the agency", "they", "the ad says"): `orgs`.
"""

from __future__ import annotations

import bisect
import re

from . import pronouns
from .clauses import (
    WORD_RE,
    description_mods,
    is_subject,
    mention_salience,
    modifier_slot,
    resolved,
    role_word,
    verb_follows,
)
from .context import Candidate, Context, Resolved
from .lexicon import (
    CONJ_START,
    GENERIC_HEADS,
    PREPOSITIONS,
    PRONOUN_GENDER,
    STOP_ROLE,
    SUBORDINATORS,
    TITLE_ABBREVIATIONS,
    TITLE_ALIASES,
)
from .mentions import Mention, is_title_word

# A known gender agreeing with the pronoun counts for little: most people's gender is unknown.
# ", the Harbour senator," / ", a party strategist." after a name: its appositive
_APPOSITIVE_RE = re.compile(
    r",[ \t\xa0]+(?:the|a|an|[A-Z][\w.]*[’']s)[ \t\xa0]+([^,.;:()“”\"\n]{2,60}?)(?=[,.;:)]|[ \t\xa0]+(?:who|which|said|says)\b)")
# A role the subject acts in: "… as the party's nominee", "… as a senator"
_AS_ROLE_RE = re.compile(
    r"[^.;:!?“”\"\n]*?\bas[ \t\xa0]+(?:the|a|an|its|his|her|their)[ \t\xa0]+"
    r"(?P<mods>(?:[\w-]+[ \t\xa0]+){0,3}?)(?P<head>[a-z][\w-]+)\b")
# "[In an interview, ]the [Harbour] senator": a sentence opening with a definite description
_DESC_SUBJECT_RE = re.compile(
    r"[ \t\xa0]*(?:(?:In|At|On|During|After|Before|Speaking|Asked)\b[^,.;:“”\"\n]{0,80},[ \t\xa0]+)?"
    r"(?P<det>[Tt]he)[ \t\xa0]")
_EPITHET_GENDER = {"businessman": "m", "businesswoman": "f", "chairman": "m", "chairwoman": "f", "congressman": "m",
                   "congresswoman": "f", "king": "m", "queen": "f"}
# Roles usually held by someone the article leaves unnamed beside the people it is about ("the
# spokesman", "the official"): no epithet for the person last talked about.
_STAFF_HEADS = frozenset("""spokesman spokeswoman aide adviser advisor official officer strategist analyst attorney
lawyer manager director executive administrator diplomat envoy host""".split())
# An adverbial clause opening a sentence, up to its comma: "When informed Doe had left, ", "If Doe wins, "
_OPENING_CLAUSE_RE = re.compile(r"[ \t\xa0]*(?:When|If|Although|Though|While|Whereas|Because|Since|Once|Unless|Until)"
                                r"\b[^,;:.!?“”\"]{1,150},")
# A person's campaign as a clause's subject: "His campaign said", "The Roe campaign, in a note, said"
_OWNERS = {"his": "m", "her": "f"}
_TEAM_NOUNS = frozenset({"campaign"})
_REPORTS_THAT_RE = re.compile(r"[ \t\xa0]+[a-z]+s[ \t\xa0]+that\b")  # "… reckons that", a verb the table lacks
_TEAM_AFTER_RE = re.compile(r"[ \t\xa0]+(campaign)\b(?![’'])(?:[ \t\xa0]+on[ \t\xa0]+[A-Z][a-z]+day)?"
                            r"(?:[ \t\xa0]+(?:also|again|then|now|[a-z]+ly)\b)*")
# "For Roe," / "To Roe," opening a sentence (after a full stop, a line break or the text's start)
_OPENS_RE = re.compile(r"(?:^|[.!?][”\"’']?[ \t\xa0]+|\n[ \t\xa0]*)(?:For|To)[ \t\xa0]+(?:[A-Z][\w.’'-]*[ \t\xa0]+){0,3}$")
_CLAUSE_PRONOUN_RE = re.compile(r",[ \t\xa0]+(he|she)[ \t\xa0]")
_ADVERBIAL = frozenset("when after before until once".split())
# A passive verb and its agent before a name: "was supported by (Dr.) ".
_PASSIVE_RE = re.compile(r"\b(?:was|were|is|are|been|being)[ \t\xa0]+(?:\w+ly[ \t\xa0]+)?\w+(?:ed|en|wn)\b"
                         r"[^.;:“”\"]{0,30}?[ \t\xa0]by[ \t\xa0]+(?:[A-Z][\w.-]*[ \t\xa0]+){0,4}$")
# How near before a bare surname the other bearer of it must be named in full to be the one meant.
_OTHER_FORM_REACH = 1500
# Modifiers that make a role another, lesser one ("vice president", "deputy director").
_LESSER_MODS = ("vice", "deputy", "assistant", "associate")
# Nouns for what someone said: "Roe’s remark that …", "Roe’s vow to …".
_SPEECH_NOUNS = frozenset("""accusation claim claims comment comments remark remarks pledge promise phrase
statement statements words call assertion warning description response argument charge vow""".split())
_POLL_RE = re.compile(r"((?:[A-Z][\w&.’'/-]*[ \t-])*[A-Z][\w&.’'/-]*)[ \t]+(poll|survey)\b")
_POLL_STOP = frozenset("the a an new latest recent fresh this that".split())


def resolve_pronoun(cx: Context, pos: int, gender: str | None, exclude: frozenset[str] = frozenset()) -> Resolved | None:
    """The best-scoring compatible person before `pos` (see `pronouns`): near in sentences, a
    clause subject or a speaker, and of the pronoun's gender when the article tells it; never one
    of the full names in `exclude` (those the pronoun's own clause names after it)."""
    floor = max(0, pos - 2500)
    cands: list[tuple[dict[str, float], Resolved]] = []
    w = pronouns.weights()
    scores: list[float] = []  # each candidate's score, as the choice below reads it
    # Candidates further back only lose on the distances: once even the best score the other
    # features allow cannot beat the best candidate so far, the rest are not looked at (their
    # analysis is most of the cost). Not when recording every candidate for training.
    bounded = pronouns.RECORD is None
    w_sents, w_paras, w_chars = (w.get(k, 0.0) for k in pronouns.DISTANCES)
    j = bisect.bisect_left(cx.speaker_pos, pos) - 1
    while j >= 0 and cx.speaker_pos[j] >= floor:
        name, title, kind = cx.speaker_names[j]
        if kind == "person" and compatible(cx, name, gender) and name not in exclude:
            f = _distance_features(cx, pos, cx.speaker_pos[j])
            f.update(_entity_features(cx, name, gender))
            f["last_speaker"] = 1.0
            cands.append((f, (name, title, "person", 0.75)))
            scores.append(pronouns.score(f, w))
            break
        j -= 1
    i = bisect.bisect_left(cx.names.starts, pos) - 1
    sent_s = cx.clause_start(pos)
    prev_s = cx.clause_start(sent_s - 1) if sent_s > 0 else 0
    seen = 0
    while i >= 0 and cx.names.mentions[i].start >= floor and seen < 12:
        m = cx.names.mentions[i]
        if bounded and scores and (ceil := pronouns.candidate_ceiling(w, m.start >= prev_s)) is not None:
            sents, paras = cx.separation(pos, m.start)
            reach = ceil + w_sents * min(sents, 12) + w_paras * min(paras, 6) + w_chars * ((pos - m.start) / 2000)
            if max(scores) > reach + 1e-9:
                break  # this and every candidate before it score below the best one so far
        if (i, gender) not in cx.pronoun_cands:
            cx.pronoun_cands[i, gender] = _candidate(cx, m, gender)
        c = cx.pronoun_cands[i, gender]
        i -= 1
        if c is None:
            continue
        full, ent_f, subj, salience, kind, res = c
        if full in exclude:
            continue
        seen += 1
        # the same features in the same order as ever (their sum picks the candidate)
        f = _distance_features(cx, pos, m.start)
        f.update(ent_f)
        if subj:
            f["subject"] = 1.0
            f["salience"] = salience
            if sent_s <= m.start:
                f["same_sentence_subject"] = 1.0  # a named subject in the pronoun's own sentence
            elif prev_s <= m.start:
                f["previous_sentence_subject"] = 1.0  # the subject of the sentence just before
        if m.possessive:
            f["possessive"] = 1.0
        if kind == "subordinate":
            f["subordinate"] = 1.0  # the subject of a reported clause ("… claimed that Roe is …")
        elif kind.startswith("adverbial") and (sent_s <= m.start or prev_s <= m.start):
            # "Roe looked worried when Doe mentioned it": the subject of an adverbial clause is not the
            # sentence's subject
            f["subordinate"] = 1.0
            f.pop("same_sentence_subject", None)
            f.pop("previous_sentence_subject", None)
        elif kind.endswith("agent"):
            # "The decision was supported by Dr. Jane Roe": the agent of a passive acts
            f["subject"] = 1.0
            f["salience"] = 1.0
            if sent_s <= m.start:
                f["same_sentence_subject"] = 1.0
            elif prev_s <= m.start:
                f["previous_sentence_subject"] = 1.0
        elif kind.endswith("preposition"):
            f["preposition"] = 1.0  # "Roe went after Doe": Doe is no subject
        cands.append((f, res))
        scores.append(pronouns.score(f, w))
    if pronouns.RECORD is not None:
        pronouns.RECORD.append((pos, [(r[0], f) for f, r in cands]))
    if not cands:
        return None
    best = max(range(len(cands)), key=lambda k: (scores[k], -k))
    return cands[best][1]


def _candidate(cx: Context, m: Mention, gender: str | None) -> Candidate | None:
    """What a pronoun's candidate mention gives wherever the pronoun stands (None when it names
    nobody of that gender): its full name, entity features, subject and salience, what the words
    before it make it ("subordinate", "adverbial" with a fallback, "agent", "preposition" or
    ""), and whom it resolves to; asked once per mention and gender, for every pronoun after it."""
    if m.org or not cx.person_like(m):
        return None
    full = cx.names.full_name(m.name, m.start)
    if not compatible(cx, full, gender):
        full = _other_form(cx, m.name, gender) or ""
        if not full or not any(o.name == full for o in cx.names.mentions_in(max(0, m.start - _OTHER_FORM_REACH), m.start)):
            return None  # "Roe" is the Roe the article means there, unless the other was just named in full
    ent_f = _entity_features(cx, full, gender)
    # "The Roe campaign said …. “…,” he told …": the name modifies the clause's subject, it is none
    subj = is_subject(cx, m) and not (cx.text[m.end:m.end + 1] == " " and modifier_slot(cx.text, m, m.end + 40))
    salience = mention_salience(cx, m) if subj else 0.0
    prev = cx.text[max(0, m.start - 20):m.start].split()
    while prev and prev[-1].lower() in ("the", "a", "an"):
        prev.pop()
    kind = ""
    if [w.lower() for w in prev[-2:]] in (["as", "for"], ["as", "to"], ["according", "to"]) \
            and cx.text[m.end:m.end + 3].startswith(","):
        # "As for Roe, she said …": the sentence's topic, which its pronoun subject takes up; so
        # is the source a sentence opens with ("According to Roe, …. “…,” she said")
        subj, salience = True, 1.0
    elif prev and prev[-1] in ("For", "To") and cx.text[m.end:m.end + 1] == "," \
            and _OPENS_RE.search(cx.text, max(0, m.start - 30), m.start):
        # "For Roe, the vote was a relief": the sentence gives Roe's view, whoever its subject is,
        # and a pronoun after it takes Roe up as readily as a speaker
        subj, salience = True, 2.0
    elif prev and prev[-1].lower() in SUBORDINATORS:
        kind = "subordinate"
    else:
        if prev and prev[-1].lower() in _ADVERBIAL and subj:
            kind = "adverbial"  # only in the pronoun's sentence or the one before; else as below
        if _agent(prev) and _PASSIVE_RE.search(cx.text, max(0, m.start - 60), m.start):
            kind += "agent"
        elif prev and prev[-1].lower().strip(",") in PREPOSITIONS:
            kind += "preposition"
    res = resolved(cx, m, 0.7)
    if res[0] != full and " " not in m.name and not compatible(cx, res[0], gender):
        ent = cx.names.entity(full)
        res = (full, ent.title if ent else None, "person", 0.7)  # "Roe … she said": the Roe who is a she
    return full, ent_f, subj, salience, kind, res


def _agent(prev: list[str]) -> bool:
    """Do the words before a name end with "by" and, at most, titles ("by Sen.")?"""
    k = len(prev)
    while k > 0 and len(prev) - k < 3 and is_title_word(prev[k - 1]):
        k -= 1
    return k > 0 and prev[k - 1].lower() == "by"


def _distance_features(cx: Context, pos: int, cand: int) -> dict[str, float]:
    sents, paras = cx.separation(pos, cand)
    return {"sents": float(min(sents, 12)), "paras": float(min(paras, 6)), "chars": (pos - cand) / 2000}


def _entity_features(cx: Context, name: str, gender: str | None) -> dict[str, float]:
    ent = cx.names.entity(name)
    f: dict[str, float] = {}
    if gender is not None and ent is not None and ent.gender == gender:
        f["gender_match"] = 1.0
    if ent is not None:
        f["mentions"] = pronouns.mentions_feature(len(ent.positions))
        f["full_form"] = float(ent.full)
        f["titled"] = float(ent.title is not None)
    return f


def _other_form(cx: Context, surname: str, gender: str | None) -> str | None:
    """Two people share a bare surname and the nearest is of the other gender: the one full form
    of the pronoun's gender, if the article gives exactly one."""
    if " " in surname or gender is None or cx.names.forms_of(surname) < 2:
        return None
    fits = [f for f in cx.names.distinct_forms(surname) if cx.gender(f) == gender]
    return fits[0] if len(fits) == 1 else None


def compatible(cx: Context, name: str, gender: str | None) -> bool:
    if gender is None:
        return True
    g = cx.gender(name)
    return g is None or g == gender


def role_table(cx: Context) -> dict[str, set[str]]:
    """Role words the document gives each entity, from titles ("Harbour Sen. X"), lower-case
    words before a name ("digital consultant X") and appositives ("X, the Harbour senator,",
    "the Courier, the newspaper,")."""
    if cx.role_words is not None:
        return cx.role_words
    roles: dict[str, set[str]] = {}
    text = cx.text
    for m in cx.names.mentions:
        if cx.masked[m.start] == "x" or m.possessive:
            continue
        words: list[str] = []
        if m.title:
            words += m.title.lower().replace(".", "").replace("-", " ").split()
        pre = text[max(0, m.start - 60):m.start].split()
        k = len(pre)
        while k > 0 and len(pre) - k < 4 and role_word(pre[k - 1]):
            k -= 1
        words += pre[k:]
        ap = _APPOSITIVE_RE.match(text, m.end)
        if ap:
            words += [w for w in ap.group(1).lower().replace("-", " ").split() if w not in STOP_ROLE]
        elif not m.org:
            # "Roe delivered her acceptance speech as the party's nominee"
            asr = _AS_ROLE_RE.match(cx.masked, m.end, min(len(text), m.end + 90))
            if asr and asr.group("head") in TITLE_ALIASES and asr.group("head") not in GENERIC_HEADS \
                    and not cx.names.mentions_in(m.end, asr.start()) and is_subject(cx, m):
                words += [w for w in asr.group("mods").lower().split() if w not in STOP_ROLE]
                words.append(asr.group("head"))
        if not words:
            continue
        expanded = {TITLE_ABBREVIATIONS.get(w, w) for w in words} | set(words)
        roles.setdefault(cx.entity_key(m), set()).update(expanded)
    cx.role_words = roles
    return roles


def resolve_role(cx: Context, head: str, mods: list[str], pos: int) -> Resolved | None:
    """ "the Harbour senator", "the network": the latest entity before `pos` the document
    described with that role noun, preferring one that also has the modifiers."""
    roles = role_table(cx)
    if head in GENERIC_HEADS or not any(head in r for r in roles.values()):
        return None
    proper = [w for w in mods if w[:1].isupper()]
    mods = [w.lower() for w in mods]
    floor = max(0, pos - 6000)
    first: Resolved | None = None
    for m in cx.names.back_from(pos, floor):
        if cx.masked[m.start] == "x" or not cx.person_like(m):
            continue
        r = roles.get(cx.entity_key(m))
        if not r or head not in r:
            continue
        if any(w in r and w not in mods for w in _LESSER_MODS):
            continue  # "the president" is not the vice president, "the director" not a deputy
        if all(w in r for w in mods):
            return resolved(cx, m, 0.7)
        if all(w.lower() in r for w in proper):
            first = first or resolved(cx, m, 0.6)  # "the Harbour senator" must be from Harbour
    return first


def resolve_description(cx: Context, head: str, pos: int, mods: list[str] | None = None,
                        fallback: bool = True) -> Resolved | None:
    """ "the governor" -> the most recent person whose title fits, else the last speaker."""
    res = resolve_role(cx, head, mods or [], pos)
    if res is not None:
        return res
    aliases = TITLE_ALIASES.get(head, ())
    floor = max(0, pos - 4000)
    if aliases and not any(w[:1].isupper() for w in mods or ()):
        # (a description with a place or party, "the Harbour senator", wants a person the
        # article gave that place or party; `resolve_role` found none, and a bare title fits
        # no better than the sentences around it)
        for m in cx.names.back_from(pos, floor):
            if m.org or cx.masked[m.start] == "x":
                continue  # a title inside quoted words ("… against President Doe …") is not the narrator's
            full = cx.names.full_name(m.name, m.start)
            ent = cx.names.entity(full)
            titles = " ".join(filter(None, (m.title, ent.title if ent else None))).lower().replace(".", "")
            words = titles.replace("-", " ").split()
            if any(w in words and w not in (mods or ()) for w in _LESSER_MODS):
                continue  # "the president" is not the vice president (as in `resolve_role`)
            if any(a in words for a in aliases):
                return resolved(cx, m, 0.7)
    if not fallback:
        return None
    gender = "f" if head in ("woman", "spokeswoman", "chairwoman", "congresswoman", "queen") else (
        "m" if head in ("man", "spokesman", "chairman", "congressman", "king", "businessman") else None)
    return resolve_pronoun(cx, pos, gender)


def recent_poll(cx: Context, start: int, end: int) -> str | None:
    """The named poll of the sentence at `start`, else the nearest one named before it:
    "a Harbour Institute poll", "Wednesday’s Roe poll"."""
    s = cx.sentence_start(start, 0)
    e = cx.sentence_end(end, len(cx.text))
    best: str | None = None
    for m in _POLL_RE.finditer(cx.masked, max(0, s - 1500), e):
        words = m.group(1).split()
        k = max((i + 1 for i, w in enumerate(words) if w.endswith(("’s", "'s")) or w.lower() in _POLL_STOP),
                default=0)
        words = words[k:]
        if words and (len(" ".join(words)) > 2 or best is None):  # "the Q poll" abbreviates a named one
            best = f"{' '.join(words)} {m.group(2).lower()}"
            if m.start() >= s:
                break
    return best


def sentence_subject(cx: Context, sent_start: int, limit: int) -> Resolved | None:
    """The subject of a sentence: a leading pronoun, or its first name not after a preposition."""
    words = cx.masked[sent_start:limit].split()
    if len(words) >= 3 and words[0].lower() in _OWNERS and words[1].lower().strip(",") in _TEAM_NOUNS:
        # "His campaign objected that …": the campaign of the one the pronoun means speaks
        owner = resolve_pronoun(cx, sent_start, _OWNERS[words[0].lower()])
        return _team_of(owner[0], words[1]) if owner is not None and owner[2] == "person" else None
    if words and words[0].lower() in PRONOUN_GENDER:
        return resolve_pronoun(cx, sent_start, PRONOUN_GENDER[words[0].lower()])
    # "Last winter, he chose Roe and said …": a pronoun opening the clause after an opening
    # phrase is the subject, not a name after it
    pron = _CLAUSE_PRONOUN_RE.search(cx.masked, sent_start, limit)
    first: Mention | None = None
    # "When informed Doe had joined the club, Roe said …": names in an opening adverbial clause are
    # not the sentence's subject (kept only as a last resort)
    opener = _OPENING_CLAUSE_RE.match(cx.masked, sent_start, limit)
    main_from = opener.end() if opener is not None else sent_start
    for m in cx.names.mentions_in(sent_start, limit):
        if m.start < main_from:
            if cx.person_like(m) and not m.possessive:
                first = first or m
            continue
        if pron is not None and pron.start() < m.start:
            return resolve_pronoun(cx, pron.start(1), PRONOUN_GENDER[pron.group(1).lower()])
        if not cx.person_like(m) or cx.text.rfind("(", sent_start, m.start) > cx.text.rfind(")", sent_start, m.start):
            continue  # a name in parentheses is no subject
        before = cx.words_before(m, sent_start)
        if before and before[-1].lower().strip(",") in PREPOSITIONS:
            continue
        if m.possessive:
            camp = cx.text.find("campaign", m.end, m.end + 14)
            if camp > 0 and verb_follows(cx.masked, camp + 8, limit):
                return f"{m.name.split()[-1]} campaign", None, "organisation", 0.6  # "Roe’s campaign took"
            nxt = [w.lower().strip(",") for w in cx.text[m.end:m.end + 40].split()]
            nxt = nxt[1:] if nxt[:1] in (["’s"], ["'s"]) else nxt
            if first is None and not before and any(w in _SPEECH_NOUNS for w in nxt[:3]):
                return resolved(cx, m, 0.6)  # "Roe’s remark that …": Roe's words
            continue
        team = _TEAM_AFTER_RE.match(cx.text, m.end)
        if team is not None and not before and (verb_follows(cx.masked, team.end(), limit)
                                                or _REPORTS_THAT_RE.match(cx.masked, team.end())):
            return _team_of(m.name, team.group(1))  # "The Roe campaign reckons that …": the campaign speaks
        if not verb_follows(cx.masked, m.end, limit) or (before and before[-1].lower() in SUBORDINATORS):
            # "Speaking in Harbourton, Ruritania, Roe went after Doe": the name a verb
            # follows is the subject; an earlier name in an opening phrase is not
            first = first or m
            continue
        return resolved(cx, m, 0.7)
    if first is not None:
        return resolved(cx, first, 0.7)
    if pron is not None:
        # "On her campaign page, she vows to …": no name before the clause's pronoun
        return resolve_pronoun(cx, pron.start(1), PRONOUN_GENDER[pron.group(1).lower()])
    return description_subject(cx, sent_start, limit)


def _team_of(name: str, noun: str) -> Resolved:
    """ "Roe campaign": a person's campaign, named by the surname as the rules name it elsewhere."""
    return f"{name.split()[-1]} {noun.lower().strip(',')}", None, "organisation", 0.6


def description_subject(cx: Context, sent_start: int, limit: int) -> Resolved | None:
    """A definite description heading the sentence ("The retired engineer began …",
    "In an interview, the Harbour Liberal said …"): the person it stands for."""
    m = _DESC_SUBJECT_RE.match(cx.masked, sent_start, limit)
    if m is None:
        return None
    end = -1
    for w in WORD_RE.finditer(cx.masked, m.end("det"), min(limit, m.end("det") + 50)):
        lw = w.group().lower()
        if w.group().islower() and lw not in GENERIC_HEADS and (
                lw in TITLE_ALIASES or (role_word(lw) and any(lw in r for r in role_table(cx).values()))):
            end = w.end()  # a role noun: the head, unless another follows ("campaign manager")
            continue
        if end >= 0 or (w.group().islower() and not role_word(lw)) or lw in PREPOSITIONS:
            break
    nxt = WORD_RE.match(cx.masked, end + 1) if end >= 0 else None
    if nxt is None or not (verb_follows(cx.masked, end, limit) or (
            nxt.group().islower() and nxt.group() not in CONJ_START and nxt.group() not in PREPOSITIONS)):
        return None
    words = cx.masked[m.start("det"):end].split()
    mods = description_mods(words, [w.lower() for w in words], words[-1].lower(), True) or []
    head = words[-1].lower()
    res = resolve_description(cx, head, m.start("det"), mods, fallback=False)
    if res is None and head in TITLE_ALIASES and head not in GENERIC_HEADS and head not in _STAFF_HEADS:
        # an epithet no earlier title or role matches ("The billionaire businessman began …"):
        # like a pronoun, the salient person of the sentences before
        res = resolve_pronoun(cx, m.start("det"), _EPITHET_GENDER.get(head))
    if res is None or res[2] != "person":
        return None
    return res


def recent_subject(cx: Context, pos: int) -> Resolved | None:
    """The last sentence-initial subject (person or organisation) before `pos`."""
    for m in cx.names.back_from(pos, max(0, pos - 800)):
        if m.possessive or cx.masked[m.start] == "x":
            continue
        if is_subject(cx, m) and mention_salience(cx, m) >= 1.0:
            if cx.text[m.end:m.end + 10].startswith((" campaign", " camp ")):
                return f"{m.name} campaign", None, "organisation", 0.6
            return resolved(cx, m, 0.6)
    return None
