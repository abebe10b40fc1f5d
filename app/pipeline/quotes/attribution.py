"""Say who said each quoted span.

Rules, tried in order for every span (first hit wins):
  1. trailing attribution right after the closing mark: `…,” Rutte told reporters`,
     `…,” said Sen. John McCain`;
  2. the nearest speech verb before the quote in the same sentence:
     `Rutte said on Monday that the move was “…”`, `the Kremlin dismissed reports as “…”`;
  3. an introduction ending with a colon in the previous paragraph: `Dr. Ward stated:`;
  4. another attributed quote of the same paragraph (split and run-on quotes);
  5. the quote that runs on from the previous paragraph, or the previous paragraph's
     speaker for a paragraph that is all quote.
The words found in the subject slot are then resolved: names to the fullest form the
article gives, pronouns and descriptions ("the governor") to the most recent compatible
person, indefinites ("a spokesman", "one person") to no name.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .marks import Span
from .names import FEMALE_HONORIFICS, MALE_HONORIFICS, TITLE_WORDS, Mention, NameIndex
from .verbs import CHANNEL_RE, VERB_FORMS, VERB_RE

# Sentence ends: . ! ? (optionally followed by a closing mark) then space and a capital/mark.
_SENT_END_RE = re.compile(r"[.!?][”\"’']?[ \t\xa0]+(?=[“\"‘'(\[A-Z0-9])|\n\s*")
_ABBREV = frozenset("""mr mrs ms dr sen rep gov gen col lt sgt capt st jr sr prof rev no vs
inc corp co ltd u.s u.k u.n d.c a.m p.m jan feb mar apr jun jul aug sep sept oct nov dec ariz
calif fla ill mass mich minn n.y n.j pa tenn tex va wash wis conn ky la md mo ga ala okla ore
""".split())
# After a quote that ends with a full stop: spaces, then the capital of the next sentence.
_AFTER_QUOTE_END_RE = re.compile(r"[)\]]?[ \t\xa0]+(?=[A-Z“\"])")
# Words allowed between a subject and its verb ("Rutte also said", "he had initially dismissed").
_AUX = frozenset("""also has have had was were is are be been being would will could should may might
must later earlier then again once previously recently repeatedly initially quickly simply flatly
publicly privately already further finally often even just never not did does do n't only
reportedly allegedly famously first last since himself herself itself themselves yesterday today
tonight now still subsequently immediately angrily bluntly sharply curtly proudly confidently
plainly candidly frankly openly boldly firmly calmly softly quietly loudly emphatically
""".split())
_TIME_TAIL_RE = re.compile(
    r"(?:,?\s+(?:on|last|this|late|early|earlier|on\s+late)?\s*(?:Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|week|month|year|night|morning|afternoon|evening)(?:\s+(?:night|morning|afternoon|evening))?,?)+\s*$"
)
_PREPOSITIONS = frozenset("""of for at from with to by about in on against than like under including
into over as between among toward towards behind after before during via per through across around
near outside inside amid throughout within beyond upon along""".split())
_CONJ_START = frozenset("""while and but as of in to for that which because if when whereas although
though so or nor than who whom whose where after before since until unless with without from by
on at into about like its his her their our this these those""".split())
# Documents that "say" things for whoever issued them.
_DOC_NOUNS = frozenset("""ad ads advert advertisement commercial statement letter release memo video website
email e-mail tweet filing spot flier flyer mailer petition complaint lawsuit motion brief paper study""".split())
# Documents a speaker releases: "The ad says" speaks for whoever was last said to release it.
_ISSUED_NOUNS = frozenset("ad ads advert advertisement commercial spot video mailer flier flyer release statement".split())
_SUBORDINATORS = frozenset({"that", "because", "if", "whether", "whom", "than", "unless", "since"})
# A known gender agreeing with the pronoun counts for little: most people's gender is unknown.
_SUBJECT_PRONOUNS = frozenset({"he", "she", "they", "we", "i", "it"})
_GENDER_BONUS = 1.0
_SUBORDINATE_PENALTY = 0.5
_PREPOSITION_PENALTY = 1.0
_SAME_SENTENCE_BONUS = 2.0
_FIRST_BONUS = 1.0
_PREV_SENTENCE_BONUS = 1.0  # the subject of the sentence just before a pronoun's
_SENT_COST = 1.0  # pronoun distance: per sentence back
_PARA_COST = 1.0  # ... and per paragraph boundary crossed
_SPEAKER_BONUS = 4.0  # the last attributed speaker
# Rule switches (each measured on the gold sets; kept as flags so a regression can be bisected).
_PREV_PARA_SENTENCE = True  # a paragraph-opening quote continues the previous paragraph's last sentence
_PREV_SUBJECT = True  # ... or, with no speech verb there, that sentence's person subject
_VERB_SUBJECT_FIRST = True  # a sentence's subject is the name a verb follows
_QUOTE_SENT_END = True  # a quote ending with a full stop ends its sentence (for distances)
_NEXT_NAMED = True  # "X’s campaign manager says …" named in the next sentence
_POLLS = True  # "37 percent of Americans say" -> the poll
_ORG_KIND = True  # "the group" / "the network" -> a recent organisation
_PRONOUN_AT_WORD = True  # resolve a pronoun from its own position
_PRONOUN_GENDER = {"he": "m", "she": "f", "him": "m", "her": "f"}
_PLURAL_PRONOUNS = frozenset({"they", "we", "it"})
_INDEFINITE = frozenset({"a", "an", "one", "another", "some", "many", "several", "other", "others",
                         "someone", "somebody", "most", "few", "two", "three", "critics", "officials",
                         "supporters", "sources", "experts", "analysts", "observers", "people",
                         "residents", "voters", "protesters", "democrats", "republicans"})
# Person descriptions that may stand for a named speaker ("the governor said").
_TITLE_ALIASES = {
    "senator": ("sen", "senator"), "governor": ("gov", "governor"), "representative": ("rep",),
    "congressman": ("rep", "congressman"), "congresswoman": ("rep", "congresswoman"),
    "lawmaker": ("rep", "sen", "senator", "congressman", "congresswoman"),
    "general": ("gen", "general"), "minister": ("minister",), "president": ("president",),
    "secretary": ("secretary",), "spokesman": ("spokesman", "spokesperson", "secretary"),
    "spokeswoman": ("spokeswoman", "spokesperson", "secretary"), "mayor": ("mayor",),
    "chairman": ("chairman", "chair"), "manager": (), "chairwoman": ("chairwoman", "chair"), "judge": ("judge",),
    "ambassador": ("ambassador",), "leader": ("leader", "speaker"), "speaker": ("speaker",),
    "director": ("director",), "chancellor": ("chancellor",), "premier": ("premier",),
    "candidate": (), "nominee": (), "official": (), "businessman": (), "billionaire": (),
    "mogul": (), "frontrunner": (), "front-runner": (), "politician": (), "activist": (),
    "commentator": (), "professor": ("professor", "prof"), "author": (), "host": (),
    "attorney": ("attorney",), "lawyer": (), "doctor": ("dr",), "economist": (), "analyst": (),
    "adviser": ("adviser",), "advisor": ("advisor",), "aide": (), "strategist": (),
    "chief": ("chief",), "commissioner": ("commissioner",), "sheriff": ("sheriff",),
    "man": (), "woman": (), "pastor": ("pastor",), "reverend": ("rev",), "queen": ("queen",),
    "king": ("king",), "pope": ("pope",), "diplomat": (), "envoy": ("envoy",), "officer": (),
}
_ORG_DESCRIPTIONS = frozenset({"campaign", "ministry", "department", "agency", "company", "group",
                               "committee", "government", "administration", "office", "party",
                               "organization", "organisation", "council", "kremlin", "pentagon",
                               "statement", "report", "newspaper", "paper", "network", "firm"})
_WORK_CUE_RE = re.compile(
    r"(?:book|film|movie|documentary|song|album|show|series|novel|poem|play|musical|article|op-ed|essay|"
    r"column|headline|titled|entitled|headlined|program|programme|podcast|episode|hashtag|slogan|"
    r"banner|sign|signs|shirt|shirts|hat|hats|motto)s?[\s,:]*[“\"‘']?$",
    re.I,
)
_WORD_RE = re.compile(r"[\w’'-]+")
# ", the Florida senator," / ", a Republican strategist." after a name: its appositive
_APPOSITIVE_RE = re.compile(r",[ \t\xa0]+(?:the|a|an|[A-Z][\w.]*[’']s)[ \t\xa0]+([^,.;:()“”\"\n]{2,60}?)(?=[,.;:)]|[ \t\xa0]+(?:who|which|said|says)\b)")
# Words that carry no role in an appositive or before a name.
_STOP_ROLE = frozenset("""the a an of for and in on at to with from by his her their its our who which that
former then now also new top longtime senior one two three""".split())
# Words in -ed that are no verbs.
_ED_NOUNS = frozenset("red bed need seed speed feed shed hundred kindred".split())
# Prepositions that also open a clause: "hours after Sanders said".
_CLAUSE_CONJ = frozenset("after before since until as".split())
# Subjects that are a poll's respondents: "37 percent of Americans say", "most voters said".
_POLL_SUBJECTS = frozenset("""percent americans voters respondents majority republicans democrats independents
adults likeliest likely""".split())
_POLL_RE = re.compile(r"((?:[A-Z][\w&.’'/-]*[ \t-])*[A-Z][\w&.’'/-]*)[ \t]+(poll|survey)\b")
STOP_WORDS_POLL = frozenset("the a an new latest recent fresh this that".split())
# Organisation descriptions that may stand for the organisation last named as a subject.
_ORG_KIND_HEADS = frozenset("group organization organisation network union company firm coalition".split())
_BROADCASTERS = frozenset("cnn msnbc bbc fox nbc abc cbs npr pbs fox news cnbc c-span".split())
# What a name's possessive may introduce with a colon: "From Bush’s Facebook post:", "Clinton’s response was:".
_COLON_DOCS = _DOC_NOUNS | frozenset("post page account speech remarks response reply answer message words".split())
# Heads too vague to pick one entity from a role ("the man shouted").
_GENERIC_HEADS = frozenset("man woman person people one group".split())
# Abbreviated titles, as role nouns.
_ROLE_OF_ABBREV = {"sen": "senator", "rep": "representative", "gov": "governor", "gen": "general",
                   "dr": "doctor", "prof": "professor", "rev": "reverend", "lt": "lieutenant", "col": "colonel",
                   "capt": "captain", "sgt": "sergeant", "adm": "admiral"}
_AUX_VERBS = frozenset("""is was has had will would can could did does may might must should shall
wants wanted thinks thought believes believed knows knew went came made took gave got""".split())
_COMMON_VERB_AFTER = frozenset("""has had is was will would did does can could told said says
says, also has have were are may might must should""".split())


@dataclass(frozen=True, slots=True)
class Attribution:
    speaker: str | None
    title: str | None
    speaker_type: str | None
    verb: str | None
    channel: str | None
    confidence: float
    rule: str  # which rule fired (for debugging and confidence)
    found: bool  # an attribution was seen, even when it names nobody ("one person said")


NO_ATTRIBUTION = Attribution(None, None, None, None, None, 0.0, "none", False)


def _mask(text: str, spans: list[Span]) -> str:
    """The text with quoted words blanked, so verbs and sentence ends inside quotes are ignored."""
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for sp in spans:
        if sp.start < pos:
            continue
        parts.append(text[pos:sp.start])
        parts.append("x" * (sp.end - sp.start))
        pos = sp.end
    parts.append(text[pos:])
    return "".join(parts)


class Attributor:
    """Attribution state for one document: masked text, sentence ends, names, recent speakers."""

    def __init__(self, text: str, spans: list[Span], names: NameIndex) -> None:
        self.text = text
        self.spans = spans
        self.names = names
        self.masked = _mask(text, spans)
        self.sent_ends: list[int] = []
        for m in _SENT_END_RE.finditer(self.masked):
            if m.group()[0] == "\n":
                self.sent_ends.append(m.end())
                continue
            word = self.masked[max(0, m.start() - 6):m.start()].split()
            w = word[-1].lower().lstrip("(“\"") if word else ""
            if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                continue
            self.sent_ends.append(m.end())
        # for distances only, a quote ending with a full stop ends its sentence too
        # (`… a "new-media journalist." Mosman saw …`); attribution still reads past it
        # (`“We won.” Rutte said`)
        self.dist_ends = list(self.sent_ends)
        if _QUOTE_SENT_END:
            for sp in spans:
                if sp.close_at > sp.end and text[sp.end - 1:sp.end] in ".!?" and sp.close_at < len(text):
                    m2 = _AFTER_QUOTE_END_RE.match(text, sp.close_at)
                    if m2:
                        self.dist_ends.append(m2.end())
            self.dist_ends.sort()
        # paragraph starts, for the distance between a pronoun and its candidates
        self.para_starts: list[int] = [0] + [m.end() for m in re.finditer(r"\n\s*", text)]
        # speakers resolved so far: (position, name, entity-or-None gender)
        self.speaker_pos: list[int] = []
        self.speaker_names: list[tuple[str, str | None, str]] = []
        self._subject_cache: dict[int, bool] = {}
        self._has_poll = " poll" in text or " survey" in text
        self._roles: dict[str, set[str]] | None = None  # entity key -> role words (built on demand)
        self._salience: dict[int, float] = {}

    # ---- sentence geometry -------------------------------------------------------------
    def sentence_start(self, pos: int, floor: int) -> int:
        i = bisect.bisect_right(self.sent_ends, pos) - 1
        s = self.sent_ends[i] if i >= 0 else 0
        return max(s, floor)

    def _clause_start(self, pos: int) -> int:
        """Sentence start for salience and distance: a quote ending with a full stop ends one."""
        i = bisect.bisect_right(self.dist_ends, pos) - 1
        return self.dist_ends[i] if i >= 0 else 0

    def sentence_end(self, pos: int, ceil: int) -> int:
        i = bisect.bisect_right(self.sent_ends, pos)
        e = self.sent_ends[i] if i < len(self.sent_ends) else len(self.text)
        return min(e, ceil)

    # ---- resolution ---------------------------------------------------------------------
    def _person_like(self, m: Mention) -> bool:
        if self.masked[m.start] == "x":
            return False  # a name inside quoted words is not the one speaking
        return m.org or bool(m.title) or self.names.is_person_name(self.names.full_name(m.name, m.start))

    def _resolved(self, m: Mention, conf: float) -> tuple[str, str | None, str, float]:
        if m.org:
            ent = self.names.entity(m.name)
            return m.name, None, "organisation", conf
        full = self.names.full_name(m.name, m.start)
        ent = self.names.entity(full)
        title = m.title or (ent.title if ent else None)
        return full, title, "person", conf

    def _gender(self, name: str) -> str | None:
        ent = self.names.entity(name)
        return ent.gender if ent else None

    def _is_subject(self, m: Mention) -> bool:
        """A mention that heads its clause: sentence-initial, or followed by a verb."""
        cached = self._subject_cache.get(m.start)
        if cached is not None:
            return cached
        after = self.masked[m.end:m.end + 120]
        words = _WORD_RE.findall(after)[:6]
        res = False
        # skip an appositive: "Mark Rutte, NATO's secretary-general, said"
        if after.lstrip().startswith(","):
            close = after.find(",", after.find(",") + 1)
            if 0 < close < 90:
                words = _WORD_RE.findall(after[close + 1:])[:3]
        elif after.lstrip().startswith("("):
            close = after.find(")")
            if 0 < close < 40:
                words = _WORD_RE.findall(after[close + 1:])[:3]
        speech = False
        if words and words[0].lower() in _SUBJECT_PRONOUNS:
            # an appositive to a pronoun subject: "her husband, Milton Berg, said she …"
            self._subject_cache[m.start] = False
            self._salience[m.start] = 0.0
            return False
        for w in words[:3]:
            lw = w.lower()
            if lw in VERB_FORMS or lw in _COMMON_VERB_AFTER or (
                    w.islower() and (lw.endswith(("ed", "n't", "n’t")) or lw in _AUX_VERBS)):
                res = True
                speech = lw in VERB_FORMS and not VERB_FORMS[lw].object_only
                break
            if lw not in _AUX:
                break
        s = self._clause_start(m.start)
        lead = self.text[s:m.start]
        if not res and not m.possessive and after.lstrip()[:1] in (",", ".", ";", "") \
                and _after_inverted_verb(self.masked[max(s, m.start - 80):m.start]):
            # "…, said Katie Harbath, an outreach director": the speaker of an inverted verb
            self._subject_cache[m.start] = True
            self._salience[m.start] = 2.0
            return True
        # the sentence's subject: after an opening phrase ("Later, ", "In a statement, "), only
        # titles and modifiers before the name ("Democratic presidential candidate")
        lead_words = lead[lead.rfind(",") + 1:].split()
        first = len(lead_words) <= 6 and not any(
            w.lower() in _CONJ_START or w.lower() in _PREPOSITIONS or w.lower() in _SUBORDINATORS
            or w.lower() in VERB_FORMS for w in lead_words)
        res = res or first
        self._subject_cache[m.start] = res
        self._salience[m.start] = (2.0 if speech else 0.0) + (_FIRST_BONUS if first else 0.0)
        return res

    def _mention_salience(self, m: Mention) -> float:
        """Extra weight for the subject of a speech verb and for the sentence's first name."""
        self._is_subject(m)
        return self._salience.get(m.start, 0.0)

    def _distance(self, pos: int, cand: int) -> float:
        """Distance from a pronoun at `pos` back to a candidate at `cand`, in sentences, with a
        paragraph boundary costing extra; characters only break ties."""
        sents = bisect.bisect_right(self.dist_ends, pos) - bisect.bisect_right(self.dist_ends, cand)
        paras = bisect.bisect_right(self.para_starts, pos) - bisect.bisect_right(self.para_starts, cand)
        return _SENT_COST * min(sents, 12) + _PARA_COST * min(paras, 6) + (pos - cand) / 2000

    def resolve_pronoun(self, pos: int, gender: str | None) -> tuple[str, str | None, str, float] | None:
        """Most salient compatible person before `pos`: near in sentences, a clause subject or a
        speaker, and of the pronoun's gender when the article tells it. The subject of the
        sentence just before the pronoun's is its usual referent."""
        floor = max(0, pos - 2500)
        best: tuple[float, tuple[str, str | None, str, float]] | None = None
        j = bisect.bisect_left(self.speaker_pos, pos) - 1
        while j >= 0 and self.speaker_pos[j] >= floor:
            name, title, kind = self.speaker_names[j]
            if kind == "person" and self._compatible(name, gender):
                score = -self._distance(pos, self.speaker_pos[j]) + _SPEAKER_BONUS + self._gender_bonus(name, gender)
                best = (score, (name, title, "person", 0.75))
                break
            j -= 1
        i = bisect.bisect_left(self.names.starts, pos) - 1
        sent_s = self._clause_start(pos)
        prev_s = self._clause_start(sent_s - 1) if sent_s > 0 else 0
        seen = 0
        while i >= 0 and self.names.mentions[i].start >= floor and seen < 12:
            m = self.names.mentions[i]
            i -= 1
            if m.org or not self._person_like(m):
                continue
            full = self.names.full_name(m.name, m.start)
            if not self._compatible(full, gender):
                continue
            seen += 1
            score = -self._distance(pos, m.start) + self._gender_bonus(full, gender)
            subj = self._is_subject(m)
            if subj:
                score += 3 + self._mention_salience(m)
            if m.possessive:
                score -= 1
            prev = self.text[max(0, m.start - 20):m.start].split()
            while prev and prev[-1].lower() in ("the", "a", "an"):
                prev.pop()
            if prev and prev[-1].lower() in _SUBORDINATORS:
                score -= _SUBORDINATE_PENALTY  # the subject of a reported clause ("… claimed that Obama is …")
            elif prev and prev[-1].lower().strip(",") in _PREPOSITIONS:
                score -= _PREPOSITION_PENALTY  # "Trump went after Bush": Bush is no subject
            if sent_s <= m.start and subj:
                score += _SAME_SENTENCE_BONUS  # a named subject in the pronoun's own sentence
            elif prev_s <= m.start < sent_s and subj:
                score += _PREV_SENTENCE_BONUS  # the subject of the sentence just before
            if best is None or score > best[0]:
                best = (score, self._resolved(m, 0.7))
        return best[1] if best else None

    def _gender_bonus(self, name: str, gender: str | None) -> float:
        return _GENDER_BONUS if gender is not None and self._gender(name) == gender else 0.0

    def _compatible(self, name: str, gender: str | None) -> bool:
        if gender is None:
            return True
        g = self._gender(name)
        return g is None or g == gender

    def _entity_key(self, m: Mention) -> str:
        return ("org:" + m.name if m.org else self.names.full_name(m.name, m.start)).lower()

    def roles(self) -> dict[str, set[str]]:
        """Role words the document gives each entity, from titles ("Florida Sen. X"), lower-case
        words before a name ("digital consultant X") and appositives ("X, the Florida senator,",
        "CNN, the network,")."""
        if self._roles is not None:
            return self._roles
        roles: dict[str, set[str]] = {}
        text = self.text
        for m in self.names.mentions:
            if self.masked[m.start] == "x" or m.possessive:
                continue
            words: list[str] = []
            if m.title:
                words += m.title.lower().replace(".", "").replace("-", " ").split()
            pre = text[max(0, m.start - 60):m.start].split()
            k = len(pre)
            while k > 0 and len(pre) - k < 4 and _role_word(pre[k - 1]):
                k -= 1
            words += pre[k:]
            ap = _APPOSITIVE_RE.match(text, m.end)
            if ap:
                words += [w for w in ap.group(1).lower().replace("-", " ").split() if w not in _STOP_ROLE]
            elif not m.org:
                # "Clinton delivered her acceptance speech as the Democratic nominee"
                asr = _AS_ROLE_RE.match(self.masked, m.end, min(len(text), m.end + 90))
                if asr and asr.group("head") in _TITLE_ALIASES and asr.group("head") not in _GENERIC_HEADS \
                        and not self.names.mentions_in(m.end, asr.start()) and self._is_subject(m):
                    words += [w for w in asr.group("mods").lower().split() if w not in _STOP_ROLE]
                    words.append(asr.group("head"))
            if not words:
                continue
            expanded = {_ROLE_OF_ABBREV.get(w, w) for w in words} | set(words)
            roles.setdefault(self._entity_key(m), set()).update(expanded)
        self._roles = roles
        return roles

    def resolve_role(self, head: str, mods: list[str], pos: int) -> tuple[str, str | None, str, float] | None:
        """ "the Florida senator", "the network": the latest entity before `pos` the document
        described with that role noun, preferring one that also has the modifiers."""
        roles = self.roles()
        if head in _GENERIC_HEADS or not any(head in r for r in roles.values()):
            return None
        proper = [w for w in mods if w[:1].isupper()]
        mods = [w.lower() for w in mods]
        floor = max(0, pos - 6000)
        i = bisect.bisect_left(self.names.starts, pos) - 1
        first: tuple[str, str | None, str, float] | None = None
        while i >= 0 and self.names.mentions[i].start >= floor:
            m = self.names.mentions[i]
            i -= 1
            if self.masked[m.start] == "x" or not self._person_like(m):
                continue
            r = roles.get(self._entity_key(m))
            if not r or head not in r:
                continue
            if all(w in r for w in mods):
                return self._resolved(m, 0.7)
            if all(w.lower() in r for w in proper):
                first = first or self._resolved(m, 0.6)  # "the Florida senator" must be from Florida
        return first

    def resolve_description(self, head: str, pos: int, mods: list[str] | None = None,
                            fallback: bool = True) -> tuple[str, str | None, str, float] | None:
        """ "the governor" -> the most recent person whose title fits, else the last speaker."""
        res = self.resolve_role(head, mods or [], pos)
        if res is not None:
            return res
        aliases = _TITLE_ALIASES.get(head, ())
        floor = max(0, pos - 4000)
        if aliases:
            i = bisect.bisect_left(self.names.starts, pos) - 1
            while i >= 0 and self.names.mentions[i].start >= floor:
                m = self.names.mentions[i]
                i -= 1
                if m.org:
                    continue
                full = self.names.full_name(m.name, m.start)
                ent = self.names.entity(full)
                titles = " ".join(filter(None, (m.title, ent.title if ent else None))).lower().replace(".", "")
                if any(a in titles.replace("-", " ").split() for a in aliases):
                    return self._resolved(m, 0.7)
        if not fallback:
            return None
        gender = "f" if head in ("woman", "spokeswoman", "chairwoman", "congresswoman", "queen") else (
            "m" if head in ("man", "spokesman", "chairman", "congressman", "king", "businessman") else None)
        return self.resolve_pronoun(pos, gender)

    def resolve_np(self, start: int, end: int, subject: bool) -> tuple[tuple[str, str | None, str, float] | None, bool]:
        """Resolve the words of a subject (before the verb) or object (after it) slot.

        Returns (speaker or None, found): found is False when the slot holds nothing that
        can speak (so another rule may try).
        """
        region = self.text[start:end]
        if subject:
            # drop adverbs, auxiliaries and times between the subject and the verb
            region = _TIME_TAIL_RE.sub("", region)
            words = region.split()
            while words and words[-1].lower().strip(",") in _AUX:
                words.pop()
            cut = region.rfind(words[-1]) + len(words[-1]) if words else 0
            region = region[:cut].rstrip(" ,")
            end = start + len(region)
            if words and words[-1].lower() == "who" and region[:-3].rstrip().endswith(","):
                # "Contrast that with Trump, who has called …": the relative pronoun's antecedent
                ante = [m for m in self.names.mentions_in(start, end - 3)
                        if self._person_like(m) and not m.possessive and not self.text[m.end:end - 3].strip(" ,")]
                if ante:
                    return self._resolved(ante[-1], 0.8), True
            # an appositive between subject and verb: "Mark Rutte, NATO's secretary-general, said"
            comma = region.rfind(",")
            if comma > 0:
                appos = region[comma + 1:].strip()
                rel = _RELATIVE_RE.search(appos)
                if rel and appos.split()[0].lower() in ("the", "a", "an") and rel.start() > 0:
                    appos = appos[:rel.start()]  # ", an undergraduate who led the study, said"
                if appos and (appos[0].islower() or appos.split()[0].lower() in ("the", "a", "an")
                              or "’s " in appos or "'s " in appos) and _noun_phrase(appos) \
                        and not self._names_person(start + comma + 1, end):
                    head_end = start + comma
                    res, found = self._np_at(start, head_end, True)
                    if found and res is not None:
                        return res, found
        return self._np_at(start, end, subject)

    def _appositive_name(self, start: int, end: int) -> tuple[str, str | None, str, float] | None:
        """A person named right at `start` and closing the phrase: ", Corey Lewandowski." """
        for m in self.names.mentions_in(start, min(end, start + 60)):
            if m.org or m.possessive or self.text[start:m.start].strip(" ,") or not self._person_like(m):
                return None
            if self.text[m.end:m.end + 2].strip()[:1] in ("", ",", ".", ";"):
                return self._resolved(m, 0.8)
            return None
        return None

    def _next_sentence_subject(self, pos: int) -> tuple[str, str | None, str, float] | None:
        """A person named in full opening the sentence after the one at `pos`."""
        e = self.sentence_end(pos, len(self.text))
        for m in self.names.mentions_in(e, min(len(self.text), e + 120)):
            lead = self.text[e:m.start].split()
            if m.org or m.possessive or len(m.name.split()) < 2 or len(lead) > 2 or self.masked[m.start] == "x":
                return None
            return self._resolved(m, 0.6) if self._is_subject(m) else None
        return None

    def _recent_poll(self, start: int, end: int) -> str | None:
        """The named poll of the sentence at `start`, else the nearest one named before it:
        "an Associated Press-GfK poll", "Wednesday’s Quinnipiac poll"."""
        s = self.sentence_start(start, 0)
        e = self.sentence_end(end, len(self.text))
        best: str | None = None
        for m in _POLL_RE.finditer(self.masked, max(0, s - 1500), e):
            words = m.group(1).split()
            k = max((i + 1 for i, w in enumerate(words) if w.endswith(("’s", "'s")) or w.lower() in STOP_WORDS_POLL),
                    default=0)
            words = words[k:]
            if words and (len(" ".join(words)) > 2 or best is None):  # "the Q poll" abbreviates a named one
                best = f"{' '.join(words)} {m.group(2).lower()}"
                if m.start() >= s:
                    break
        return best

    def _names_person(self, start: int, end: int) -> bool:
        """A person named in full (not a possessive) in [start, end): "…, former president Bill Clinton"
        is the subject after an opening phrase, not an appositive."""
        return any(not m.org and not m.possessive and len(m.name.split()) >= 2 and self.masked[m.start] != "x"
                   for m in self.names.mentions_in(start, end))

    def _np_at(self, start: int, end: int, subject: bool) -> tuple[tuple[str, str | None, str, float] | None, bool]:
        region = self.text[start:end]
        words = region.split()
        if not words:
            return None, False
        low = [w.lower().strip(",;:()“”\"") for w in words]
        key = low[-1] if subject else low[0]
        if key in _PRONOUN_GENDER or key in _PLURAL_PRONOUNS:
            if key in _PLURAL_PRONOUNS:
                return self._resolve_plural(start), True
            # resolve from where the pronoun stands: "Sanders paused, when he told …" finds
            # Sanders earlier in the same sentence
            at = start + region.rfind(words[-1]) if subject and _PRONOUN_AT_WORD else start
            return self.resolve_pronoun(at, _PRONOUN_GENDER[key]), True
        mentions = [m for m in self.names.mentions_in(start, end) if self._person_like(m)]
        if subject:
            if _POLLS and self._has_poll and (any(w in _POLL_SUBJECTS for w in low) or " in 10 " in f" {' '.join(low)} "):
                # "37 percent of Americans say …": the poll that asked them speaks
                poll = self._recent_poll(start, end)
                if poll is not None:
                    return (poll, None, "organisation", 0.6), True
            if low[-1] in ("and", "but", "or", "then"):
                return None, False  # a coordinated verb: its subject is the clause's
            doc = next((k for k, w in enumerate(low[:5]) if w in _DOC_NOUNS), -1)
            if doc >= 0 and not any(w in VERB_FORMS for w in low[:doc]):
                res = self._document_source(start, end, low)
                if res is not None:
                    return res, True
            for m in reversed(mentions):
                before = self._words_before(m, start)
                if before and before[-1].lower().strip(",") in _PREPOSITIONS and not (
                        before[-1].lower() in _CLAUSE_CONJ and not self.text[m.end:end].strip(" ,")):
                    continue  # "a spokesman for Trump said"; but "hours after Sanders said"
                if m.possessive:
                    tail = self.text[m.end:end].split()
                    if tail and tail[-1].lower().strip(",") in ("campaign", "team", "camp"):
                        return (f"{m.name.split()[-1]} campaign", None, "organisation", 0.6), True
                    continue
                if self.text[m.end:m.end + 10].startswith((" campaign", " camp ")):
                    return (f"{m.name} campaign", None, "organisation", 0.7), True  # "the Trump campaign said"
                if _modifier_slot(self.text, m, end):
                    continue  # "the Vermont senator said"
                return self._resolved(m, 0.9), True
            # a lone surname right before the verb speaks even when never given in full ("Hale said")
            last = [m for m in self.names.mentions_in(start, end) if not m.possessive and not m.org]
            if last and not self.text[last[-1].end:end].strip(" ,") and self.masked[last[-1].start] != "x":
                return self._resolved(last[-1], 0.7), True
        else:
            for k, m in enumerate(mentions):
                if m.possessive or m.start - start > 60:
                    continue
                # "said Huckabee campaign spokesman Hogan Gidley": a name used as a modifier
                nxt = self.text[m.end:m.end + 2]
                if k + 1 < len(mentions) and nxt[:1] == " " and nxt[1:2].islower() and \
                        self.text[m.end:end].split()[0] not in _PREPOSITIONS:
                    continue
                if nxt[:1] == " " and nxt[1:2].islower() and _modifier_slot(self.text, m, end):
                    continue  # "said the Florida senator": a description, resolved below
                if self.text[m.end:m.end + 8].split()[:1] in (["poll"], ["survey"], ["poll,"], ["poll."]):
                    return (f"{m.name} {self.text[m.end:m.end + 8].split()[0].strip(',.')}", None,
                            "organisation", 0.8), True  # "according to a Harbour Institute poll"
                return self._resolved(m, 0.9), True
        # descriptions: "the governor", "a spokesman for the campaign", "one person"
        seq = low if subject else low[:6]
        if subject:
            tail = seq[-5:]
            head = tail[-1]
            # the determiner nearest the head: "In a statement, the network" is definite
            det = next((w for w in reversed(tail) if w in ("the", "a", "an", "one", "another", "this", "that", "his",
                                                            "her", "their", "its", "some")), "")
        else:
            head = next((w for w in seq[1:5] if w in _TITLE_ALIASES or w in _ORG_DESCRIPTIONS), seq[-1])
            det = seq[0]
        owned = det in ("his", "her", "their", "its") or any(w.endswith(("’s", "'s")) for w in seq[:-1])
        if subject and head in _TITLE_ALIASES and _NEXT_NAMED and (
                owned or (seq[0] in ("a", "an") and head not in _GENERIC_HEADS)):
            # "Trump’s campaign manager says …. Corey Lewandowski told reporters": named next
            named = self._next_sentence_subject(end)
            if named is not None:
                return named, True
        if det in _INDEFINITE or seq[0] in _INDEFINITE or head in _INDEFINITE:
            return None, True
        if det in ("his", "her", "their", "its") and (head in _TITLE_ALIASES or head in _ORG_DESCRIPTIONS):
            return None, True  # "his spokesman": someone else, unnamed
        mods = _description_mods(words, seq, head, subject)
        if det == "the" and mods is not None:
            res = self.resolve_role(head, mods, start)
            if res is not None:
                return res, True
        if head in _ORG_DESCRIPTIONS:
            return self._recent_org(start, head), True
        if head in _GENERIC_HEADS and det == "the":
            return None, True  # "the woman said": an unnamed bystander, or someone the text keeps unnamed
        if head in _TITLE_ALIASES:
            return self.resolve_description(head, start, mods), True
        return None, False

    def sentence_subject(self, sent_start: int, limit: int) -> tuple[str, str | None, str, float] | None:
        """The subject of a sentence: a leading pronoun, or its first name not after a preposition."""
        words = self.masked[sent_start:limit].split()
        if words and words[0].lower() in _PRONOUN_GENDER:
            return self.resolve_pronoun(sent_start, _PRONOUN_GENDER[words[0].lower()])
        first: Mention | None = None
        for m in self.names.mentions_in(sent_start, limit):
            if not self._person_like(m):
                continue
            before = self._words_before(m, sent_start)
            if before and before[-1].lower().strip(",") in _PREPOSITIONS:
                continue
            if m.possessive:
                camp = self.text.find("campaign", m.end, m.end + 14)
                if camp > 0 and _verb_follows(self.masked, camp + 8, limit):
                    return f"{m.name.split()[-1]} campaign", None, "organisation", 0.6  # "Clinton’s campaign took"
                continue
            if _VERB_SUBJECT_FIRST and (not _verb_follows(self.masked, m.end, limit)
                                        or (before and before[-1].lower() in _SUBORDINATORS)):
                # "Speaking in Salem, New Hampshire, Trump went after Bush": the name a verb
                # follows is the subject; an earlier name in an opening phrase is not
                first = first or m
                continue
            return self._resolved(m, 0.7)
        if first is not None:
            return self._resolved(first, 0.7)
        return self._description_subject(sent_start, limit)

    def _description_subject(self, sent_start: int, limit: int) -> tuple[str, str | None, str, float] | None:
        """A definite description heading the sentence ("The billionaire businessman began …",
        "In an interview, the Wisconsin Republican said …"): the person it stands for."""
        m = _DESC_SUBJECT_RE.match(self.masked, sent_start, limit)
        if m is None:
            return None
        end = -1
        for w in _WORD_RE.finditer(self.masked, m.end("det"), min(limit, m.end("det") + 50)):
            lw = w.group().lower()
            if w.group().islower() and lw not in _GENERIC_HEADS and (
                    lw in _TITLE_ALIASES or (_role_word(lw) and any(lw in r for r in self.roles().values()))):
                end = w.end()  # a role noun: the head, unless another follows ("campaign manager")
                continue
            if end >= 0 or (w.group().islower() and not _role_word(lw)) or lw in _PREPOSITIONS:
                break
        nxt = _WORD_RE.match(self.masked, end + 1) if end >= 0 else None
        if nxt is None or not (_verb_follows(self.masked, end, limit) or (
                nxt.group().islower() and nxt.group() not in _CONJ_START and nxt.group() not in _PREPOSITIONS)):
            return None
        words = self.masked[m.start("det"):end].split()
        mods = _description_mods(words, [w.lower() for w in words], words[-1].lower(), True) or []
        res = self.resolve_description(words[-1].lower(), m.start("det"), mods, fallback=False)
        if res is None or res[2] != "person":
            return None
        return res

    def _words_before(self, m: Mention, floor: int) -> list[str]:
        """The words before a mention's phrase (its title included), without determiners and
        hyphenated modifiers: "of the anti-Trump National Review" -> [..., "of"]."""
        s = m.start
        if m.title and m.org:
            k = self.text.rfind(m.title, max(floor, s - len(m.title) - 4), s)
            if k >= 0:
                s = k
        before = self.text[max(floor, s - 30):s].split()
        while before and (before[-1].lower() in ("the", "a", "an") or (
                before[-1][:1].islower() and "-" in before[-1] and len(before) >= 2)):
            before.pop()
        return before

    def _document_source(self, start: int, end: int, low: list[str]) -> tuple[str, str | None, str, float] | None:
        """Who stands behind "The ad says", "A letter from X warns", "The campaign’s statement declares"."""
        for m in self.names.mentions_in(start, end):
            before = self.text[max(start, m.start - 30):m.start].split()
            while before and before[-1].lower() in ("the", "a", "an"):
                before.pop()
            if before and before[-1].lower() in ("from", "by"):
                return self._resolved(m, 0.7)
            if m.possessive:
                return self._resolved(m, 0.7)
        if any(w in ("campaign’s", "campaign's") for w in low):
            return self._recent_campaign(start)
        if low[0] in ("the", "this", "that") and any(w in _ISSUED_NOUNS for w in low[:4]):
            return self._recent_subject(start)
        return None

    def _recent_campaign(self, pos: int) -> tuple[str, str | None, str, float] | None:
        """The campaign last named before `pos`: "the Jeb Bush campaign", "Trump’s campaign"."""
        i = bisect.bisect_left(self.names.starts, pos) - 1
        floor = max(0, pos - 3000)
        while i >= 0 and self.names.mentions[i].start >= floor:
            m = self.names.mentions[i]
            i -= 1
            if m.org and m.name.lower().endswith(" campaign"):
                return m.name, None, "organisation", 0.6
            nxt = self.text[m.end:m.end + 14].lstrip("’'s ").lower()
            if not m.org and nxt.startswith("campaign"):
                return f"{m.name.split()[-1]} campaign", None, "organisation", 0.6
        return None

    def _recent_subject(self, pos: int) -> tuple[str, str | None, str, float] | None:
        """The last sentence-initial subject (person or organisation) before `pos`."""
        i = bisect.bisect_left(self.names.starts, pos) - 1
        floor = max(0, pos - 800)
        while i >= 0 and self.names.mentions[i].start >= floor:
            m = self.names.mentions[i]
            i -= 1
            if m.possessive or self.masked[m.start] == "x":
                continue
            if self._is_subject(m) and self._mention_salience(m) >= 1.0:
                if self.text[m.end:m.end + 10].startswith((" campaign", " camp ")):
                    return f"{m.name} campaign", None, "organisation", 0.6
                return self._resolved(m, 0.6)
        return None

    def _recent_org(self, pos: int, head: str) -> tuple[str, str | None, str, float] | None:
        i = bisect.bisect_left(self.names.starts, pos) - 1
        floor = max(0, pos - 3000)
        while i >= 0 and self.names.mentions[i].start >= floor:
            m = self.names.mentions[i]
            i -= 1
            if m.org and head in m.name.lower():
                return m.name, None, "organisation", 0.6
        if head not in _ORG_KIND_HEADS or not _ORG_KIND:
            return None
        # "the group said": the organisation last named as a clause subject, nearby; "the network"
        # also fits a broadcaster ("CNN was quick to push back … the network said")
        i = bisect.bisect_left(self.names.starts, pos) - 1
        floor = max(0, pos - 1500)
        while i >= 0 and self.names.mentions[i].start >= floor:
            m = self.names.mentions[i]
            i -= 1
            if not m.org or m.possessive or self.masked[m.start] == "x" or _is_place_name(m.name):
                continue
            if head == "network" and m.name.lower() in _BROADCASTERS:
                return m.name, None, "organisation", 0.6
            if head != "network" and self._is_subject(m) and self._mention_salience(m) >= 1.0:
                return m.name, None, "organisation", 0.5
        return None

    def _resolve_plural(self, pos: int) -> tuple[str, str | None, str, float] | None:
        j = bisect.bisect_left(self.speaker_pos, pos) - 1
        if j >= 0 and pos - self.speaker_pos[j] < 600:
            name, title, kind = self.speaker_names[j]
            if kind == "organisation":
                return name, title, kind, 0.5
        return None

    # ---- the rules ----------------------------------------------------------------------
    def _verb_text(self, m: re.Match[str]) -> tuple[str, str | None]:
        verb = m.group()
        rest = self.text[m.end():m.end() + 80]
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

    def trailing(self, sp: Span, limit: int) -> Attribution | None:
        """`…,” Rutte told reporters` / `…,” said Sen. John McCain` right after the quote."""
        after = self.masked[sp.close_at:limit]
        lead = len(after) - len(after.lstrip(" \t\xa0,—–-:"))
        m = VERB_RE.search(after, lead, min(len(after), lead + 90))
        # a noun-like form used as a noun: "White House press secretary Josh Earnest told"
        while m is not None and VERB_FORMS[m.group()].trailing_only and _noun_follows(after, m.end()):
            m = VERB_RE.search(after, m.end(), min(len(after), lead + 90))
        if m is not None and VERB_FORMS[m.group()].trailing_only:
            # "…" state prosecutor Alexis Ortiz told Reuters: a noun-like form with a real verb after it
            later = VERB_RE.search(after, m.end(), min(len(after), lead + 90))
            if later is not None and not VERB_FORMS[later.group()].trailing_only \
                    and not any(c in after[m.end():later.start()] for c in ",.;:!?“”\"") \
                    and self.names.mentions_in(sp.close_at + m.end(), sp.close_at + later.start()):
                m = later
        if m is None:
            return None
        verb = VERB_FORMS[m.group()]
        np_text = after[lead:m.start()]
        if verb.object_only and not (m.group().endswith(" of") and np_text.strip()):
            return None  # "…,” Jenna Golden said of the campaign: the subject still speaks
        if any(c in _ABBREV_DOT_RE.sub("", np_text) for c in ".;!?“”\"") or len(np_text.split()) > 12:
            return None
        base = sp.close_at
        if np_text.strip():
            first = np_text.split()[0].lower()
            if first in _CONJ_START and first not in ("the", "a", "an", "one"):
                return None
            res, found = self.resolve_np(base + lead, base + m.start(), subject=True)
        else:
            # verb first: the speaker follows up to the next punctuation
            stop = _object_stop(_TRAIL_STOP_RE, after, m.end())
            obj_end = m.end() + (stop if stop is not None else len(after) - m.end())
            if after[m.end():obj_end].strip() == "" and stop is not None and after[m.end() + stop] == ",":
                # "said, according to ..." - rare; skip the comma
                obj_end = m.end() + stop
            res, found = self.resolve_np(base + m.end(), base + obj_end, subject=False)
            if res is None and after[obj_end:obj_end + 1] == ",":
                # "…,” said Trump’s campaign manager, Corey Lewandowski: the name in apposition
                named = self._appositive_name(base + obj_end + 1, base + len(after))
                if named is not None:
                    res, found = named, True
        if not found:
            return None
        vtext, channel = self._verb_text(_shift(m, base, self.text))
        if res is None:
            return Attribution(None, None, None, vtext, channel, 0.6, "trailing", True)
        name, title, kind, conf = res
        return Attribution(name, title, kind, vtext, channel, conf, "trailing", True)

    def leading(self, sp: Span, sent_start: int) -> Attribution | None:
        """The nearest speech verb before the quote in its sentence, with its subject."""
        pre = self.masked[sent_start:sp.open_at]
        verbs = list(VERB_RE.finditer(pre))
        unnamed: Attribution | None = None
        for m in reversed(verbs):
            if VERB_FORMS[m.group()].trailing_only and not _verb_before_quote(pre, m):
                continue
            vstart = sent_start + m.start()
            vend = sent_start + m.end()
            before = pre[:m.start()].rstrip()
            res, found = None, False
            by = _PASSIVE_BY_RE.match(self.masked, vend) if before.split()[-1:] and \
                before.split()[-1].lower() in _BE_FORMS else None
            if m.group() == "according to":
                pass
            elif by is not None:
                # "Sanders was asked by host Bill Maher, “…”": the agent speaks, not the subject
                stop = _object_stop(_LEAD_STOP_RE, self.masked[by.end():sp.open_at], 0)
                obj_end = by.end() + (stop if stop is not None else sp.open_at - by.end())
                res, found = self.resolve_np(by.end(), obj_end, subject=False)
                if not found:
                    continue
            elif m.group().endswith("ing") and (before.endswith(",") or before.split()[-1:] in (
                    ["by"], ["while"], ["after"], ["before"], ["in"], ["when"], ["upon"], ["on"], ["without"])):
                # "…, calling him a “loser”": the participle's subject is the sentence's
                res = self.sentence_subject(sent_start, vstart)
                found = res is not None
            else:
                prev_q = pre.rfind("x\u201d", 0, m.start())
                subj_start = sent_start if prev_q < 0 else sent_start + prev_q + 2
                res, found = self.resolve_np(subj_start, vstart, subject=True)
                if not found and before.split()[-1:] and before.split()[-1].lower() in ("and", "but", "or", "then"):
                    res = self.sentence_subject(sent_start, vstart)
                    found = res is not None
            if not found:
                stop = _object_stop(_LEAD_STOP_RE, self.masked[vend:sp.open_at], 0)
                obj_end = vend + (stop if stop is not None else sp.open_at - vend)
                if obj_end > vend:
                    res, found = self.resolve_np(vend, obj_end, subject=False)
            if not found:
                continue
            vtext, channel = self._verb_text(_shift(m, sent_start, self.text))
            dist = sp.open_at - vend
            conf_scale = 1.0 if dist < 150 else 0.8
            if res is None:
                unnamed = unnamed or Attribution(None, None, None, vtext, channel, 0.5, "leading", True)
                continue  # an earlier verb may name the speaker ("He said that …, which some argued, …")
            name, title, kind, conf = res
            return Attribution(name, title, kind, vtext, channel, round(conf * conf_scale, 2), "leading", True)
        return unnamed

    def colon_name(self, sp: Span, sent_start: int) -> Attribution | None:
        """`Pollsters agree - Carl Bialik: “…”`, `From Bush’s Facebook post: “…”`: a name (or a
        name’s document) right before the colon that introduces the quote."""
        pre = self.masked[sent_start:sp.open_at].rstrip()
        if not pre.endswith(":") or sp.single or sp.para_start == 0:
            return None  # a headline's "Trump: ‘I’m the Worst Thing …’" is a label, not a report
        head = pre[:-1].rstrip()
        if head.endswith((" was", " is")):
            head = head.rsplit(None, 1)[0]  # "Clinton’s response was:"
        colon = sent_start + len(head)
        ms = self.names.mentions_in(max(sent_start, colon - 80), colon)
        if not ms:
            return None
        m = ms[-1]
        if len(ms) >= 2 and ms[-2].possessive and (m.org or not self._person_like(m)):
            m = ms[-2]  # "From Bush’s Facebook post:"
        tail = self.text[m.end:colon].split()
        if m.possessive:
            tail = tail[1:] if tail and tail[0] in ("’s", "'s") else tail
            if not tail or tail[-1].lower().rstrip(":") not in _COLON_DOCS:
                return None
        elif tail or not self._person_like(m) or m.org:
            return None
        before = self.text[max(sent_start, m.start - 20):m.start].split()
        if not m.possessive and before and before[-1].lower() in _PREPOSITIONS:
            return None  # "Trump wrote to Roffman:": the addressee, not the writer
        name, title, kind, conf = self._resolved(m, 0.7)
        return Attribution(name, title, kind, None, None, conf, "colon", True)

    def colon_intro(self, sp: Span) -> Attribution | None:
        """`Dr. Ward stated:` closing the previous paragraph introduces a quote paragraph."""
        if self.text[sp.para_start:sp.open_at].strip():
            return None
        prev_end = sp.para_start - 1
        while prev_end > 0 and self.text[prev_end - 1].isspace():
            prev_end -= 1
        if prev_end <= 0 or self.text[prev_end - 1] != ":":
            return None
        ps = self.text.rfind("\n", 0, prev_end) + 1
        s = self.sentence_start(prev_end - 1, ps)
        fake = Span(prev_end, prev_end, prev_end, prev_end, ps, prev_end)
        a = self.leading(fake, s)
        if a is None:
            # "Transcript as follows:" names nobody: the last speaker is still talking
            subj = self.sentence_subject(s, prev_end) or self.resolve_pronoun(s, None)
            if subj is not None:
                name, title, kind, conf = subj
                a = Attribution(name, title, kind, None, None, round(conf * 0.7, 2), "colon", True)
        return a

    def previous_sentence(self, sp: Span) -> Attribution | None:
        """A quote opening its sentence after "Bystrom agreed." or "Sami recalled how …": the
        speaker (or, failing one, the person subject) of the sentence before goes on. At the start
        of a paragraph, the last sentence of the previous paragraph counts when it holds no quote."""
        s = self.sentence_start(sp.open_at, sp.para_start)
        if self.masked[s:sp.open_at].strip():
            return None
        floor = sp.para_start
        if s <= sp.para_start:
            if not _PREV_PARA_SENTENCE:
                return None
            floor = self.text.rfind("\n", 0, max(0, sp.para_start - 1))
            floor = floor + 1 if floor >= 0 else 0
            while floor < sp.para_start and self.text[floor].isspace():
                floor += 1
            if floor >= sp.para_start:
                return None
        end = s
        while end > floor and self.text[end - 1].isspace():
            end -= 1
        if end <= floor:
            return None
        prev_s = self.sentence_start(end - 1, floor)
        tail = self.masked[prev_s:end]
        if "x" * 3 in tail or (s <= sp.para_start and any(c in self.text[prev_s:end] for c in "“”\"")):
            return None
        fake = Span(end, end, end, end, floor, end)
        a = self.leading(fake, prev_s)
        if a is not None and a.speaker is not None:
            return Attribution(a.speaker, a.title, a.speaker_type, a.verb, a.channel, round(a.confidence * 0.7, 2),
                               "previous", True)
        if not _PREV_SUBJECT:
            return None
        subj = self.sentence_subject(prev_s, end)
        if subj is None or subj[2] != "person":
            return None
        name, title, kind, conf = subj
        return Attribution(name, title, kind, None, None, round(conf * 0.6, 2), "previous", True)

    def remember(self, pos: int, att: Attribution) -> None:
        if att.speaker is None or att.speaker_type is None:
            return
        i = bisect.bisect_left(self.speaker_pos, pos)
        self.speaker_pos.insert(i, pos)
        self.speaker_names.insert(i, (att.speaker, att.title, att.speaker_type))


_NOUN_AFTER = TITLE_WORDS | frozenset("""release releases conference conferences corps office room pool briefing
report reports statement statements card cards""".split())


def _is_place_name(name: str) -> bool:
    return name.split()[0].lower() in ("new", "north", "south", "east", "west") or name.isupper() and len(name) > 5


def _modifier_slot(text: str, m: Mention, end: int) -> bool:
    """ "the Florida senator": a name between "the" and a lower-case role noun modifies it."""
    before = [w.lower() for w in text[max(0, m.start - 20):m.start].split()[-2:]]
    nxt = text[m.end:end].split()
    if not nxt or not before:
        return False
    head = nxt[0].strip(",")
    if before[-1] == "the" and _role_word(head):
        return True
    # "a top Ivo Marsh adviser": a determiner shortly before, a role noun right after
    return head in _TITLE_ALIASES and any(w in ("a", "an", "the", "one") for w in before)


# The period of an initial or a title ("James A. Baker", "Sen.", "U.S."): no sentence end.
# "[In an interview, ]the [Florida] senator": a sentence opening with a definite description
_DESC_SUBJECT_RE = re.compile(
    r"[ \t\xa0]*(?:(?:In|At|On|During|After|Before|Speaking|Asked)\b[^,.;:“”\"\n]{0,80},[ \t\xa0]+)?"
    r"(?P<det>[Tt]he)[ \t\xa0]")
_RELATIVE_RE = re.compile(r"\s(?:who|which|that)\s")
# A role the subject acts in: "… as the Democratic nominee", "… as a senator"
_AS_ROLE_RE = re.compile(
    r"[^.;:!?“”\"\n]*?\bas[ \t\xa0]+(?:the|a|an|its|his|her|their)[ \t\xa0]+"
    r"(?P<mods>(?:[\w-]+[ \t\xa0]+){0,3}?)(?P<head>[a-z][\w-]+)\b")
_BE_FORMS = frozenset("was were is are been being be".split())
_PASSIVE_BY_RE = re.compile(r"[ \t\xa0]+(?:\w+ly[ \t\xa0]+)?by[ \t\xa0]+")
_ABBREV_DOT_RE = re.compile(r"\b(?:[A-Z]|[A-Z]\.[A-Z]|Sen|Rep|Gov|Gen|Dr|Mr|Mrs|Ms|Lt|Col|Sgt|Capt|Prof|Rev|St|Jr|Sr|Adm|Maj)\.")
_TRAIL_STOP_RE = re.compile(r"[,.;:!?()“”\"—]|\s(?:who|which|that|after|when|as|in|on|at)\s")
_LEAD_STOP_RE = re.compile(r"[,.;:!?()“”\"—]|\s(?:that|who|which)\s")


def _object_stop(rx: re.Pattern[str], text: str, pos: int) -> int | None:
    """Offset from `pos` where the object after a verb ends, or None; the period of "Sen." or of
    an initial ("James A. Baker") does not end it."""
    start = pos
    while True:
        m = rx.search(text, start)
        if m is None:
            return None
        if m.group() == ".":
            word = text[max(0, m.start() - 6):m.start()].split()
            w = word[-1].lower() if word else ""
            if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                start = m.end()
                continue
        return m.start() - pos


def _noun_phrase(words_text: str) -> bool:
    """An appositive holds no clause: no verb, subject pronoun or clause opener ("the senator from
    Ohio", not "issued a statement after Trump" or "saying she"). A subject relative clause
    ("who backs Cruz") may be skipped too; an object one ("which President Obama declared") not."""
    ws = words_text.split()
    if len(ws) >= 2 and ws[0].lower() in ("who", "which") and ws[1].islower() and ws[1] not in _INDEFINITE \
            and (ws[1] in VERB_FORMS or ws[1] in _AUX_VERBS or ws[1] in _AUX or ws[1].endswith(("s", "ed"))):
        return True
    for w in ws:
        lw = w.lower().strip(",;:()")
        if lw in VERB_FORMS or lw in _SUBJECT_PRONOUNS or lw in _AUX_VERBS or lw in _SUBORDINATORS:
            return False
        if lw in ("after", "when", "while", "before", "because", "as", "although", "though", "and", "but",
                  "which", "who", "whom", "where"):
            return False
        if w.islower() and lw.endswith("ed") and len(lw) > 4 and lw not in _ED_NOUNS:
            return False
    return True


def _verb_follows(masked: str, pos: int, limit: int) -> bool:
    """A finite verb (after adverbs, auxiliaries and an appositive) right after `pos`, before `limit`."""
    after = masked[pos:min(limit, pos + 120)]
    if after.startswith(","):
        close = after.find(",", 1)
        if 0 < close < 90:
            after = after[close + 1:]
    for w in _WORD_RE.findall(after[:60])[:4]:
        lw = w.lower()
        if lw in VERB_FORMS or lw in _COMMON_VERB_AFTER or lw in _AUX_VERBS or (
                w.islower() and lw.endswith(("ed", "n't", "n’t"))):
            return True
        if lw not in _AUX:
            return False
    return False


def _role_word(w: str) -> bool:
    """A lower-case noun that may describe the name after it ("digital consultant", "anchor")."""
    return (w.isalpha() and w.islower() and w not in _STOP_ROLE and w not in VERB_FORMS and w not in _AUX
            and w not in _CONJ_START and w not in _PREPOSITIONS and w not in _SUBORDINATORS
            and w not in _AUX_VERBS and not w.endswith(("ed", "ing", "ly")))


def _description_mods(words: list[str], low: list[str], head: str, subject: bool) -> list[str] | None:
    """The modifiers of a definite description "the <modifier>* <head>" ("the Florida senator"),
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
    return [w for w in mods if w.lower() not in _STOP_ROLE]


def _after_inverted_verb(before: str) -> bool:
    """True when `before` ends with a speech verb and, at most, lower-case role words and titles:
    "said", "said digital consultant", "according to Harbour Department spokeswoman"."""
    words = before.split()
    k = len(words)
    while k > 0 and len(words) - k < 6 and (words[k - 1].islower() or words[k - 1][:1].isupper()) \
            and words[k - 1] not in VERB_FORMS and not words[k - 1].endswith((",", ".", ";", ":")):
        if words[k - 1].lower() in _CONJ_START and words[k - 1].lower() not in ("of", "for", "to"):
            return False
        k -= 1
    if k == 0:
        return False
    w = words[k - 1].rstrip(",")
    if w in ("to",) and k >= 2 and words[k - 2] == "according":
        return True
    return w in VERB_FORMS and not VERB_FORMS[w].object_only and not VERB_FORMS[w].trailing_only


def _verb_before_quote(pre: str, m: re.Match[str]) -> bool:
    """A noun-like form right before the quote after a document is a verb: "The ad claims “…”"."""
    if pre[m.end():].strip(" \t\xa0,:").lower() not in ("", "that"):
        return False
    before = pre[:m.start()].split()
    return bool(before) and before[-1].lower() in _DOC_NOUNS


def _noun_follows(text: str, pos: int) -> bool:
    nxt = text[pos:pos + 30].split()
    return bool(nxt) and nxt[0].lower() in _NOUN_AFTER


def _shift(m: re.Match[str], base: int, text: str) -> re.Match[str]:
    """Re-match a verb found in a slice at its absolute offset (for the text after it)."""
    shifted = VERB_RE.match(text, base + m.start())
    return shifted if shifted is not None else m


def is_title_of_work(text: str, sp: Span) -> bool:
    """ "the book “Fire and Fury”": title-cased words after a work noun."""
    words = text[sp.start:sp.end].split()
    if not words or len(words) > 12:
        return False
    caps = sum(1 for w in words if w[:1].isupper() or w.lower() in ("of", "the", "a", "an", "and", "in", "on",
                                                                     "to", "for", "at", "by", "with"))
    if caps < len(words):
        return False
    return bool(_WORK_CUE_RE.search(text[max(0, sp.open_at - 40):sp.open_at + 1]))


def is_nickname(text: str, sp: Span) -> bool:
    """Dwayne “The Rock” Johnson: a short quote between two capitalised words."""
    if len(text[sp.start:sp.end].split()) > 3:
        return False
    before = text[max(0, sp.open_at - 20):sp.open_at].split()
    after = text[sp.close_at:sp.close_at + 20].split()
    return bool(before and after and before[-1][:1].isupper() and after[0][:1].isupper()
                and before[-1][-1:].isalpha())


def gender_hint(title: str | None) -> str | None:
    if not title:
        return None
    for w in title.lower().replace(".", "").split():
        if w in MALE_HONORIFICS:
            return "m"
        if w in FEMALE_HONORIFICS:
            return "f"
    return None
