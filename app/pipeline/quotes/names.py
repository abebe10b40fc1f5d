"""Names in one document: find capitalised mentions, split titles off, cluster surnames.

"NATO Secretary-General Mark Rutte" is a mention with title "NATO Secretary-General" and
name "Mark Rutte"; a later "Rutte" resolves to the fullest name with that surname seen
nearest before it. Organisations ("the Kremlin", "the State Department") are mentions
too. Everything is computed once per document with precompiled regexes.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

# Upper-case letters of the Latin, Greek and Cyrillic blocks (re has no \p{Lu}).
_UPPER = "".join(chr(c) for c in range(0x41, 0x530) if chr(c).isupper())
_ABBREVS = r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Capt|Prof|Rev|St|Jr|Sr|Adm|Maj|Cmdr|Gens|Sens|Reps)\."
# A name token: an abbreviation, initials ("H.W."), or a capitalised word; a period ends
# a word only in the first two forms, so "Trump. That" is two phrases.
_TOKEN = (rf"(?:{_ABBREVS}|[{_UPPER}]\.(?:[{_UPPER}]\.)*(?![\w])|(?:Mc|Mac|O[’'])?[{_UPPER}][\w]*"
          rf"(?:[-’'](?!(?:ll|ve|re|m|d)\b)[\w]+)*)")
_PARTICLES = r"(?:von|van|der|den|de|del|della|di|da|dos|du|la|le|bin|ibn|al|el|ben|of|for|and|on)"
_GAP = r"[ \t\xa0]+"
# not after a lower-case prefix and hyphen: "anti-Trump National Review" names no Trump
SEQ_RE = re.compile(rf"(?<![\w@#])(?<![a-z]-){_TOKEN}(?:{_GAP}(?:{_PARTICLES}{_GAP})*{_TOKEN})*")
_TOKEN_RE = re.compile(_TOKEN)

# Words that make a capitalised phrase a title, not part of a name ("Sen.", "Secretary").
TITLE_WORDS = frozenset("""
president vice secretary secretary-general minister prime foreign defense defence interior
deputy press sen senator rep representative gov governor lt lieutenant mayor gen general col
colonel maj major adm admiral chief justice judge chairman chairwoman chairperson chair speaker
leader majority minority ambassador attorney director commissioner spokesman spokeswoman
spokesperson dr mr mrs ms miss mx mister prof professor rev reverend pope king queen prince princess
sheikh ceo cfo coo chancellor councilman councilwoman councillor councilor congressman
congresswoman assemblyman assemblywoman sheriff officer detective sgt sergeant capt captain
former ex first lady candidate nominee republican democrat democratic gop independent sir dame
lord senior adviser advisor aide analyst manager strategist economist pastor bishop cardinal
rabbi imam archbishop superintendent commander premier emir sultan crown envoy delegate
secretary-of executive founder co-founder chairman-elect president-elect treasurer clerk
solicitor counsel host anchor correspondent editor columnist reporter writer author
activist organizer pollster spokeswoman economist physician doctor nurse coach comedian actor
actress singer rapper musician journalist commentator broadcaster businessman businesswoman billionaire
entrepreneur scientist researcher historian lawyer consultant operative chairman
state staff national security homeland white house trade finance health education energy
justice labor labour commerce transportation agriculture treasury veterans affairs federal
""".split())
# Honorifics that give a gender.
MALE_HONORIFICS = frozenset({"mr", "mister", "sir", "lord", "king", "prince", "sheikh", "congressman", "spokesman",
                             "chairman", "councilman", "assemblyman", "father", "brother"})
FEMALE_HONORIFICS = frozenset({"mrs", "ms", "miss", "dame", "lady", "queen", "princess", "congresswoman",
                               "spokeswoman", "chairwoman", "councilwoman", "assemblywoman", "sister"})
# Words that make a capitalised phrase an organisation.
ORG_WORDS = frozenset("""
kremlin pentagon ministry department party committee council commission agency office campaign
house senate congress parliament court union association institute foundation university
college center centre group bank inc corp corporation company co ltd llc network times post
news press journal herald tribune gazette reuters ap afp bloomberg cnn msnbc bbc fox nbc abc cbs
npr politico breitbart nato un eu fbi cia nsa dhs doj irs epa fda cdc who imf opec hamas hezbollah
taliban army navy military police government administration cabinet bureau service services
authority board fund organization organisation coalition alliance federation league club team
legion caucus movement front forces guard command embassy consulate secretariat assembly
review magazine watch matter project initiative society forum pac convention
""".split())
# Capitalised words that start sentences or name dates, never a speaker's name.
STOP_CAPS = frozenset("""
the a an but and or so if when while after before in on at for as with asked yet still then
this that these those meanwhile however also earlier later last next moreover instead since
although though because despite during from to by of about under over into until unless
where whether which who what why how there here it its he she they we i you his her their our
my your him them us me one some many most more several both each every all no not any another
other such mr mrs ms dr today tomorrow yesterday tonight now thus indeed even only just perhaps
maybe according speaking writing read continued added said says says, sources source officials
had has have was were is are did does would could should might must
monday tuesday wednesday thursday friday saturday sunday january february march
july september october november december feb mar apr jun jul aug sep sept oct nov dec
""".split())
PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i", "you"})

# Small first-name tables give a gender guess when no honorific or pronoun does.
FEMALE_NAMES = frozenset("""
hillary nancy elizabeth sarah carly michelle kamala ursula angela theresa marine nikki susan
mary patricia jennifer linda barbara jessica karen lisa betty margaret sandra ashley kimberly
emily donna carol ruth sharon laura cynthia amy anna rebecca virginia kathleen pamela martha
debra amanda stephanie carolyn christine marie janet catherine frances ann joyce diane alice
julie heather teresa doris gloria evelyn jean cheryl mildred katherine joan judith rose janice
kelly nicole judy christina kathy theresa beverly denise tammy irene jane lori rachel marilyn
andrea kathryn louise sara anne jacqueline wanda bonnie julia ruby lois tina phyllis norma paula
diana annie lillian emma robin peggy crystal gladys rita dawn connie florence tracy edna tiffany
carmen rosa cindy grace wendy victoria edith kim sherry sylvia josephine thelma shannon sheila
ethel ellen elaine marjorie carrie charlotte monica esther pauline emma juanita anita rhonda
hazel amber eva debbie april leslie clara lucille jamie joanne eleanor valerie danielle megan
alicia suzanne michele gail bertha darlene veronica jill erin geraldine lauren cathy joann
lorraine lynn sally regina erica beatrice dolores bernice audrey yvonne annette june samantha
marion dana stacy ana renee ida vivian roberta holly brittany melanie loretta yolanda jeanette
laurie katie kristen vanessa alma sue elsie beth jeanne sabrina kellyanne hope huma donna
madeleine condoleezza sonia ruth elena tulsi kirsten dianne maxine debbie ilhan alexandria
ayanna rashida liz marsha kristi kari giorgia jacinda sanna yulia olena iryna oksana natalia
svetlana olga tatiana maria sophia brigid jonah
""".split()) - {"jonah"}
MALE_NAMES = frozenset("""
donald barack joe joseph john james robert michael william david richard charles thomas
christopher daniel matthew anthony mark paul steven andrew kenneth joshua kevin brian george
edward ronald timothy jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin
scott brandon benjamin samuel frank gregory raymond alexander patrick jack dennis jerry tyler
aaron jose adam henry nathan douglas zachary peter kyle walter ethan jeremy harold keith
christian roger noah gerald carl terry sean austin arthur lawrence jesse dylan bryan jordan
billy bruce albert willie gabriel logan alan juan wayne roy ralph randy eugene vincent russell
elijah louis bobby philip johnny bernie ted marco jeb ben chris mike mitch rand lindsey rick
bill vladimir volodymyr andrii andriy dmitry sergei sergey xi emmanuel olaf boris rishi keir
narendra recep benjamin bibi tim mitt newt reince sean kellyanne jared ivanka hunter jim tom
chuck harry al dick colin rex jens antony lloyd jake kevin ron pete beto cory jay jonah
""".split()) - {"kellyanne", "ivanka"}


@dataclass(slots=True)
class Mention:
    """A capitalised phrase: an optional title and a name (person or organisation)."""

    start: int  # of the name part
    end: int
    name: str
    title: str | None
    org: bool
    possessive: bool
    honorific: str | None = None  # lower-cased, for gender


@dataclass(slots=True)
class Entity:
    """All mentions that share a surname (persons) or a name (organisations)."""

    name: str
    org: bool
    title: str | None = None
    gender: str | None = None  # "m", "f" or None
    first_pos: int = 0
    full: bool = False  # has a first name + surname form
    positions: list[int] = field(default_factory=list)


def _word_key(tok: str) -> str:
    return tok.lower().rstrip(".").replace("’", "'")


def _is_title_token(tok: str) -> bool:
    k = _word_key(tok)
    if k in TITLE_WORDS:
        return True
    return "-" in k and any(p in TITLE_WORDS for p in k.split("-"))


def _is_org_token(tok: str) -> bool:
    k = _word_key(tok)
    if "-" in k and any(p in ORG_WORDS for p in k.split("-")):
        return True  # "Sun-Times"
    return k in ORG_WORDS or (tok.isupper() and len(tok) >= 2 and tok.isalpha() and k not in TITLE_WORDS
                              and k not in _NAME_SUFFIXES)


# Generational suffixes end a person's name ("Charles Elliott III"); all caps, but no acronym.
_NAME_SUFFIXES = frozenset({"ii", "iii", "iv", "jr", "sr"})
# "South Korean-born Monte Haines", "Texas-based analyst": a capitalised word with one of these
# suffixes modifies the name after it and is no part of it.
_MODIFIER_SUFFIX_RE = re.compile(
    r"-(?:born|based|bred|raised|led|backed|owned|run|funded|made|educated|trained|affiliated|aligned|"
    r"leaning|style|era|area)$")


# Place names look like "First Last" names; their first or last words give them away.
_PLACE_FIRST = frozenset("""new north south east west san los las santa saint st grand great puerto costa
sri hong united el fort lake mount port rhode upper lower central northern southern eastern western
""".split())
_PLACE_LAST = frozenset("""avenue street road boulevard county city state states island islands river
valley mountains mountain park square beach bay republic kingdom korea carolina dakota virginia
hampshire jersey mexico york coast village hall airport arena stadium center centre plaza
garden gardens heights hills springs falls district province region oblast territory africa america
europe asia east west strip bank sea ocean gulf peninsula""".split())


_SURNAME_TITLES = frozenset({"king", "bishop", "major", "judge", "prince", "pope", "cardinal", "dean", "marshal"})
# Words after "X’s" that show a contraction ("Trump’s been", "Rubio’s not") rather than a possessive.
_CONTRACTION_NEXT = frozenset("""been not never also already going gone got done said told made just still
a an the very now become always clearly really here there""".split())

_INNER_FUNCTION = frozenset("a an the is was are were to in with has have it its this that not".split())


def _is_place(parts: list[str]) -> bool:
    if len(parts) < 2:
        return False
    return parts[0].lower() in _PLACE_FIRST or parts[-1].lower() in _PLACE_LAST


def _is_stop(tok: str) -> bool:
    """Sentence-initial function words and dates; "US" is a country, not the pronoun."""
    if len(tok) > 1 and tok.isupper():
        return False
    return _word_key(tok) in STOP_CAPS and not _is_title_token(tok)


def _gender_of(first: str) -> str | None:
    f = first.lower()
    if f in FEMALE_NAMES:
        return "f"
    if f in MALE_NAMES:
        return "m"
    return None


def parse_phrase(text: str, start: int, end: int) -> Mention | None:
    """Split one capitalised phrase into title and name; None when it names nobody."""
    toks = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text, start, end)]
    # leading sentence words ("But", "The") and dates are not part of a name
    i = 0
    while i < len(toks) and _is_stop(toks[i][2]):
        i += 1
    toks = toks[i:]
    while toks and _is_stop(toks[-1][2]):
        toks = toks[:-1]
    # "South Korean-born Monte Haines": drop everything up to a "-born" modifier
    for j in range(len(toks) - 2, -1, -1):
        if _MODIFIER_SUFFIX_RE.search(toks[j][2]):
            toks = toks[j + 1:]
            break
    # a possessive inside the phrase ends the name: "Russia’s Kursk region"
    for j, (_, _, w) in enumerate(toks[:-1]):
        if w.endswith(("’s", "'s")):
            toks = toks[: j + 1]
            break
    if not toks:
        return None
    honorific = None
    last_title = -1
    # a title word that is also a surname ends a name: "Billie Jean King", "Angus King"
    n_title = len(toks)
    if (len(toks) >= 3 and _word_key(toks[-1][2]) in _SURNAME_TITLES
            and not any(_is_title_token(w) or _is_org_token(w) for _, _, w in toks[-3:-1])):
        n_title = len(toks) - 1
    for j, (_, _, w) in enumerate(toks[:n_title]):
        if _is_title_token(w):
            last_title = j
            k = _word_key(w)
            if k in MALE_HONORIFICS or k in FEMALE_HONORIFICS:
                honorific = k
    name_toks = toks[last_title + 1:]
    title_toks = toks[: last_title + 1]
    org = any(_is_org_token(w) for _, _, w in toks)
    if not name_toks:
        if not org:
            return None
        name_toks, title_toks = toks, []
    elif org and title_toks and all(_is_org_token(w) for _, _, w in name_toks):
        # "the State Department", "Justice Department": the title word names the body
        name_toks, title_toks = toks, []
    elif org and not any(_is_org_token(w) for _, _, w in name_toks) and len(name_toks) >= 1:
        org = False  # "Pentagon Deputy Press Secretary Sabrina Singh": the org is in the title
    # the possessive "’s" belongs to the phrase, not the name
    s0 = name_toks[0][0]
    e0 = name_toks[-1][1]
    last = text[e0 - 2:e0]
    possessive = False
    if last in ("’s", "'s"):
        e0 -= 2
        nxt = text[e0 + 2:e0 + 40].split()
        # "Christie’s been saying": a contraction of "has"/"is", not a possessive
        possessive = not (nxt and nxt[0].lower().strip(",") in _CONTRACTION_NEXT)
    elif text[e0 - 1:e0] in ("’", "'"):
        e0 -= 1
        possessive = True
    if text[e0 - 1:e0] == "." and e0 - s0 > 2:
        w = text[s0:e0].split()[-1]
        # keep the period of initials ("H.W.") and abbreviations ("Jr."); drop a sentence's
        if not (len(w) <= 3 or w.count(".") > 1):
            e0 -= 1
    name = " ".join(text[s0:e0].split())
    # strip particles the phrase regex let in at the edges ("of", "and")
    parts = name.split()
    while parts and parts[-1].lower() in ("of", "for", "and", "on", "the"):
        parts.pop()
    if not parts:
        return None
    name = " ".join(parts)
    if not org and _is_place(parts):
        org = True  # places speak only as their governments ("North Korea said")
    if len(parts) >= 3 and all(p.isupper() for p in parts):
        return None  # an all-caps headline, not a name
    if any(p.lower() in _INNER_FUNCTION for p in parts[1:]):
        return None  # a title-cased headline ("Reform Was A Sign Of Leadership")
    title = " ".join(text[title_toks[0][0]:title_toks[-1][1]].split()) if title_toks else None
    return Mention(s0, e0, name, title, org, possessive, honorific)


_JOINER_RE = re.compile(r"[ \t\xa0]+(of|for|and|on|von|van|der|den|de|del|della|di|da|dos|du|la|le|bin|ibn|al|el|ben)[ \t\xa0]+")


def _sub_phrases(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a phrase at joiners that do not bind: "Trump and Cruz", "Jonah Goldberg of Ohio".

    "of"/"for" bind after a title or organisation word ("Secretary of State", "Center for
    American Progress"); name particles ("von der Leyen") always bind.
    """
    out: list[tuple[int, int]] = []
    cur = start
    for j in _JOINER_RE.finditer(text, start, end):
        word = j.group(1)
        if word in ("and", "on"):
            bind = False
        elif word in ("of", "for"):
            prev = text[cur:j.start()].split()
            bind = bool(prev) and (_is_title_token(prev[-1]) or _is_org_token(prev[-1]))
        else:
            bind = True
        if not bind:
            out.append((cur, j.start()))
            cur = j.end()
    out.append((cur, end))
    return out


_INNER_POSSESSIVE_RE = re.compile(r"[’']s[ \t\xa0]+")


def _possessive_split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """ "Fox’s Chris Wallace" is two phrases: the possessor and the name after it."""
    out: list[tuple[int, int]] = []
    cur = start
    for p in _INNER_POSSESSIVE_RE.finditer(text, start, end):
        out.append((cur, p.start() + 2))
        cur = p.end()
    out.append((cur, end))
    return out


def find_mentions(text: str) -> list[Mention]:
    out: list[Mention] = []
    for m in SEQ_RE.finditer(text):
        for s, e in _sub_phrases(text, m.start(), m.end()) if " " in m.group() else ((m.start(), m.end()),):
            parts = _possessive_split(text, s, e) if ("’s " in text[s:e] or "'s " in text[s:e]) else ((s, e),)
            for ps, pe in parts:
                mention = parse_phrase(text, ps, pe)
                if mention is not None:
                    out.append(mention)
    return out


_FAMILY_RE = re.compile(
    rf"[’']s[ \t]+(?:wife|husband|son|daughter|brother|sister|mother|father|widow|widower),[ \t]+([{_UPPER}][a-z]+),")
# Juan “Chico” Manriquez: a quoted capitalised word or two between a first name and a surname.
_NICK_OPEN_RE = re.compile(r"[ \t\xa0][“\"‘']")
_NICKNAME_RE = re.compile(
    rf"[“\"‘'][{_UPPER}][\w.’'-]*(?:[ \t\xa0][{_UPPER}][\w.’'-]*)?[”\"’'](?=[ \t\xa0]+[{_UPPER}][\w’'-]+)")


def blank_nicknames(text: str) -> str:
    """The text with nicknames blanked (same length), so "Juan “Chico” Manriquez" reads as the
    name "Juan Manriquez"."""
    if "“" not in text and '"' not in text and "‘" not in text and "'" not in text:
        return text
    parts: list[str] = []
    pos = 0
    for q in _NICK_OPEN_RE.finditer(text):
        if q.start() < pos or not text[q.start() - 1:q.start()].isalpha():
            continue
        m = _NICKNAME_RE.match(text, q.start() + 1)
        if m is None:
            continue
        before = text[max(0, m.start() - 30):m.start()].split()
        if not before or not before[-1][:1].isupper() or not before[-1].isalpha():
            continue  # the word before must be a capitalised first name
        parts.append(text[pos:m.start()])
        parts.append(" " * (m.end() - m.start()))
        pos = m.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


class NameIndex:
    """Surname clusters of one document, with the positions of every mention."""

    def __init__(self, text: str, extra: str | None = None, quoted: list[tuple[int, int]] | None = None) -> None:
        self.text = text
        # names inside quoted words ("the book “The Real Donald Trump”") widen a surname only
        # when the article gives no form outside quotes
        self._quoted = sorted(quoted or [])
        self._quoted_starts = [q[0] for q in self._quoted]
        self._by_surname_quoted: dict[str, tuple[list[int], list[str]]] = {}
        self.mentions = find_mentions(blank_nicknames(text))
        self.starts = [m.start for m in self.mentions]
        self.entities: dict[str, Entity] = {}
        # full-name forms by surname key, in order of appearance: positions and names side
        # by side (for bisect), plus the distinct forms, so lookups stay fast on long texts
        self._by_surname: dict[str, tuple[list[int], list[str]]] = {}
        self._distinct: dict[str, list[str]] = {}
        self._by_first: dict[str, set[str]] = {}
        # "Trump’s wife, Melania," / "his son, Hunter,": a first name takes the family's surname
        for fm in _FAMILY_RE.finditer(text):
            owner = text[max(0, fm.start() - 30):fm.start()].split()[-1:]
            if owner and owner[0][:1].isupper() and owner[0].isalpha():
                first = fm.group(1)
                self._by_first.setdefault(first.lower(), set()).add(f"{first} {owner[0]}")
        if extra:
            # names in the headline count as given before the body (position -1)
            for m in find_mentions(extra):
                if not m.org and len(m.name.split()) >= 2:
                    self._add_form(-1, m.name)
        for m in self.mentions:
            self._register(m)

    @staticmethod
    def key(name: str) -> str:
        parts = [p for p in name.lower().replace(".", "").split() if p not in ("jr", "sr", "ii", "iii", "iv")]
        return parts[-1] if parts else name.lower()

    def _register(self, m: Mention) -> None:
        if m.org:
            ent = self.entities.setdefault("org:" + m.name.lower(), Entity(m.name, True, first_pos=m.start))
            ent.positions.append(m.start)
            return
        parts = m.name.split()
        if len(parts) >= 2:
            self._add_form(m.start, m.name)
            self._by_first.setdefault(parts[0].lower(), set()).add(m.name)
        # entities are keyed by the resolved full name, so "Rachel Berg" and "Milton Berg" stay apart
        full = self.full_name(m.name, m.start)
        ek = full.lower()
        ent = self.entities.get(ek)
        if ent is None:
            ent = self.entities[ek] = Entity(full, False, first_pos=m.start)
        ent.positions.append(m.start)
        fparts = full.split()
        if len(fparts) >= 2:
            ent.full = True
            g = _gender_of(fparts[0])
            if g and ent.gender is None:
                ent.gender = g
        if m.honorific:
            if m.honorific in MALE_HONORIFICS:
                ent.gender = "m"
            elif m.honorific in FEMALE_HONORIFICS:
                ent.gender = "f"
        if m.title and (ent.title is None or len(m.title) > len(ent.title)):
            if not all(_word_key(w) in MALE_HONORIFICS | FEMALE_HONORIFICS | {"dr"} for w in m.title.split()):
                ent.title = m.title

    def _in_quote(self, pos: int) -> bool:
        i = bisect.bisect_right(self._quoted_starts, pos) - 1
        return i >= 0 and pos < self._quoted[i][1]

    def _add_form(self, pos: int, name: str) -> None:
        k = self.key(name)
        if pos >= 0 and self._quoted and self._in_quote(pos):
            qposs, qnames = self._by_surname_quoted.setdefault(k, ([], []))
            qposs.append(pos)
            qnames.append(name)
            return
        poss, names = self._by_surname.setdefault(k, ([], []))
        poss.append(pos)
        names.append(name)
        distinct = self._distinct.setdefault(k, [])
        if name not in distinct:
            distinct.append(name)

    def full_name(self, name: str, pos: int) -> str:
        """The fullest form of `name` the document gives, preferring the nearest one before `pos`."""
        parts = name.split()
        k = self.key(name)
        forms = self._by_surname.get(k) or self._by_surname_quoted.get(k)
        if len(parts) == 1 and not forms:
            firsts = self._by_first.get(parts[0].lower())
            if firsts and len(firsts) == 1:
                return next(iter(firsts))
            return name
        if not forms:
            return name
        poss, names = forms
        if len(parts) >= 2:
            # a full form already: only widen it when a longer form shares its first name
            # ("Pete Santilli" -> "Peter Santilli") or ends with it ("Ki Hong" -> "Justin Ki Hong")
            distinct = self._distinct.get(k, [])
            longer = [f for f in distinct if len(f) > len(name) and (
                f.split()[0] == parts[0] or (f.split()[0].startswith(parts[0]) and len(f.split()) == len(parts))
                or f.endswith(" " + name))]
            return longer[-1] if longer else name
        i = bisect.bisect_right(poss, pos) - 1
        return names[i] if i >= 0 else names[0]

    def entity(self, full: str) -> Entity | None:
        return self.entities.get(full.lower()) or self.entities.get("org:" + full.lower())

    def mentions_in(self, start: int, end: int) -> list[Mention]:
        i = bisect.bisect_left(self.starts, start)
        out = []
        while i < len(self.mentions) and self.mentions[i].start < end:
            if self.mentions[i].end <= end:
                out.append(self.mentions[i])
            i += 1
        return out

    def is_person_name(self, name: str) -> bool:
        """Multi-word names, or surnames the document also gives in full or with a title."""
        ent = self.entities.get(name.lower())
        if ent is None or ent.org:
            return False
        return len(name.split()) >= 2 or ent.full or ent.title is not None
