"""Word tables the quote steps share: titles, abbreviations, function words, role nouns.

Every table here is general English (grammar, titles, roles); none is drawn from one
article. Person-name knowledge comes from libraries (`nameparser` for particles and
suffixes, `gender_guesser` for first names), places from `pycountry`.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Abbreviated titles and the role noun each stands for: the one list for name parsing
# ("Sen. Jane Roe"), sentence ends (the period of "Gov." ends nothing) and roles
# ("the senator" finds "Sen. Roe").
TITLE_ABBREVIATIONS: dict[str, str] = {
    "mr": "mr", "mrs": "mrs", "ms": "ms", "dr": "doctor", "prof": "professor", "rev": "reverend",
    "sen": "senator", "sens": "senator", "rep": "representative", "reps": "representative",
    "gov": "governor", "gen": "general", "gens": "general", "lt": "lieutenant", "col": "colonel",
    "sgt": "sergeant", "capt": "captain", "cmdr": "commander", "adm": "admiral", "maj": "major",
    "st": "saint", "jr": "junior", "sr": "senior",
}
# Other abbreviations whose period ends no sentence: business forms, months, AP state forms.
OTHER_ABBREVIATIONS = frozenset("""no vs inc corp co ltd jan feb mar apr jun jul aug sep sept oct nov
dec ariz calif fla ill mass mich minn pa tenn tex va wash wis conn ky la md mo ga ala okla ore colo
nev ariz kan neb miss""".split())
_INITIALISM_RE = re.compile(r"(?:[a-z]\.)+[a-z]|[a-z]")


def is_abbreviation(word: str) -> bool:
    """True when a period after `word` (lower case, no trailing period) ends no sentence:
    a title or other abbreviation, an initial ("A") or an initialism ("u.s")."""
    return word in TITLE_ABBREVIATIONS or word in OTHER_ABBREVIATIONS or bool(_INITIALISM_RE.fullmatch(word))


# Words that make a capitalised phrase a title, not part of a name ("Secretary", "Deputy").
TITLE_WORDS = frozenset("""
president vice secretary secretary-general minister prime foreign defense defence interior
deputy press senator representative governor lieutenant mayor general colonel major admiral
chief justice judge chairman chairwoman chairperson chair speaker leader majority minority
ambassador attorney director commissioner spokesman spokeswoman spokesperson mister miss mx
professor reverend pope king queen prince princess sheikh ceo cfo coo chancellor councilman
councilwoman councillor councilor congressman congresswoman assemblyman assemblywoman sheriff
officer detective sergeant captain former ex first lady candidate nominee republican democrat
democratic independent sir dame lord senior adviser advisor aide analyst manager strategist
economist pastor bishop cardinal rabbi imam archbishop superintendent commander premier emir
sultan crown envoy delegate executive founder co-founder chairman-elect president-elect
treasurer clerk solicitor counsel host anchor correspondent editor columnist reporter writer
author activist organizer pollster physician doctor nurse coach comedian actor actress singer
rapper musician journalist commentator broadcaster businessman businesswoman billionaire
entrepreneur scientist researcher historian lawyer consultant operative administrator
mp mps mep meps msp msps mla mlas qc kc pm whip baroness baron viscount earl duke duchess peer fellow
presenter interviewer moderator narrator challenger rival opponent incumbent contender hopeful frontrunner front-runner
state staff national security homeland trade finance health education energy labor labour
commerce transportation agriculture treasury veterans affairs federal
""".split()) | frozenset(TITLE_ABBREVIATIONS) - {"st", "jr", "sr"}
# Entries of nameparser's title table that also name bodies, places or fields ("Supreme Court",
# "Royal Navy", "United States", "Radio Nordmark"): no title of a person on their own.
_NOT_PERSON_TITLES = frozenset("""air army navy united states kingdom rock radio television soccer police royal
grand high most right rear special supreme her his family mother father count model player discovery
knowledge information intelligence criminal civil legal law political social software tax travel strategy
marketing computer credit financial business corporate revenue risk municipal military customs district division
field film flag flying group heir hereditary judicial literary mathematics mystery opera operating personality
pioneer presiding private pro resident technical theater theatre voice wing english british banner baseball
blues classical ballet burlesque biblical behavioral bench advertising analytics appellate award-winning
designated docket excellent expert familie knight me member metropolitan prior principal primate ranger
servant sister saint sainte warrant""".split())


def _person_titles() -> frozenset[str]:
    from nameparser.config import CONSTANTS

    return frozenset(t for t in CONSTANTS.titles if t.isascii() and t.replace("-", "").isalpha() and len(t) >= 4
                     and t not in _NOT_PERSON_TITLES)


# Titles and occupations a name may carry ("Provost", "Deacon"): ours plus nameparser's table.
TITLE_WORDS = TITLE_WORDS | _person_titles()
# Titles that give a gender.
MALE_HONORIFICS = frozenset({"mr", "mister", "sir", "lord", "king", "prince", "sheikh", "congressman", "spokesman",
                             "chairman", "councilman", "assemblyman", "father", "brother", "businessman"})
FEMALE_HONORIFICS = frozenset({"mrs", "ms", "miss", "dame", "lady", "queen", "princess", "congresswoman",
                               "spokeswoman", "chairwoman", "councilwoman", "assemblywoman", "sister",
                               "businesswoman"})
# Words that make a capitalised phrase an organisation (an all-capitals word does too).
ORG_WORDS = frozenset("""
ministry department party committee council commission agency office campaign house senate
congress parliament court union association institute foundation university college center
centre group bank inc corp corporation company co ltd llc network times post news press journal
herald tribune gazette army navy military police government administration cabinet bureau
service services authority board fund organization organisation coalition alliance federation
league club team legion caucus movement front forces guard command embassy consulate
secretariat assembly review magazine watch matter project initiative society forum pac
trust convention school academy hospital museum partnership consortium charity directorate guild
chamber confederation syndicate cooperative brotherhood sisterhood
institut instituto istituto universidad université universität ministerio ministère ministerium partido
parti partei
""".split())
# Capitalised words that start sentences or name dates, never a speaker's name.
STOP_CAPS = frozenset("""
the a an but and or so if when while after before in on at for as with asked yet still then
this that these those meanwhile however also earlier later last next moreover instead since
although though because despite during from to by of about under over into until unless
where whether which who what why how there here it its he she they we i you his her their our
my your him them us me one some many most more several both each every all no not any another
other such mr mrs ms dr today tomorrow yesterday tonight now thus indeed even only just perhaps
maybe according speaking writing read continued added said says sources source officials
well yes oh ok okay please thanks sorry hey hello dear like unlike among amid besides following including
regarding plus again finally neither either nor few top
nobody somebody anybody everybody someone anyone everyone nothing something everything
afterwards afterward namely whereas nevertheless nonetheless furthermore therefore hence otherwise
likewise thereafter overall elsewhere anyway accordingly once can
two three four five six seven eight nine ten eleven twelve dozens hundreds thousands millions
shall cannot won't can't don't doesn't didn't isn't wasn't aren't
had has have was were is are did does would could should might must
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december
""".split()) - {"may", "april", "june", "august"}  # also first names
# Months shortened: no name when written with a period or when no first name ("Mar", "Jun" are).
MONTH_ABBREVIATIONS = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
MONTHS = frozenset("""january february march april may june july august september october november
december""".split())
NAME_SUFFIXES = frozenset({"ii", "iii", "iv", "jr", "sr"})
# Party words written before a politician's name ("Tory Jane Roe", "Lib Dem Jane Roe").
PARTY_WORDS = frozenset("""tory labour conservative liberal lib dem democrat republican socialist nationalist
unionist communist libertarian gop democratic""".split())
# Last words of the names of broadcast programmes, and of days and seasons, which say nothing.
PROGRAMME_HEADS = frozenset("show hour tonight podcast programme newshour".split())
DAY_HEADS = frozenset("day eve week weekend".split())
# Titles whose "of" names the holder ("the Duke of Harbourton"), unlike an office's ("the MP for Harbourton").
NOBLE_TITLES = frozenset("""duke duchess earl countess marquess marchioness viscount baron baroness lord lady
prince princess bishop archbishop""".split())

# Function words of clause structure.
PREPOSITIONS = frozenset("""of for at from with to by about in on against than like under including
into over as between among toward towards behind after before during via per through across around
near outside inside amid throughout within beyond upon along""".split())
CONJ_START = frozenset("""while and but as of in to for that which because if when whereas although
though so or nor than who whom whose where after before since until unless with without from by
on at into about like its his her their our this these those""".split())
SUBORDINATORS = frozenset({"that", "because", "if", "whether", "whom", "than", "unless", "since"})
SUBJECT_PRONOUNS = frozenset({"he", "she", "they", "we", "i", "it"})
PRONOUN_GENDER = {"he": "m", "she": "f", "him": "m", "her": "f"}
PLURAL_PRONOUNS = frozenset({"they", "we", "it"})
BE_FORMS = frozenset("was were is are been being be".split())
# Prepositions that also open a clause: "hours after Roe said".
CLAUSE_CONJ = frozenset("after before since until as".split())
# Words allowed between a subject and its verb ("Roe also said", "he had initially dismissed").
AUX = frozenset("""also has have had was were is are be been being would will could should may might
must later earlier then again once previously recently repeatedly initially quickly simply flatly
publicly privately already further finally often even just never not did does do n't only
reportedly allegedly famously first last since himself herself itself themselves yesterday today
tonight now still subsequently immediately angrily bluntly sharply curtly proudly confidently
plainly candidly frankly openly boldly firmly calmly softly quietly loudly emphatically
""".split())
AUX_VERBS = frozenset("""is was has had will would can could did does may might must should shall
wants wanted thinks thought believes believed knows knew went came made took gave got""".split())
COMMON_VERB_AFTER = frozenset("""has had is was will would did does can could told said says also have
were are may might must should""".split())
# Words in -ed that are no verbs.
ED_NOUNS = frozenset("red bed need seed speed feed shed hundred kindred".split())
# Words that carry no role in an appositive or before a name.
STOP_ROLE = frozenset("""the a an of for and in on at to with from by his her their its our who which that
former then now also new top longtime senior one two three""".split())
INDEFINITE = frozenset({"a", "an", "one", "another", "some", "many", "several", "other", "others",
                        "someone", "somebody", "most", "few", "two", "three", "critics", "officials",
                        "supporters", "sources", "experts", "analysts", "observers", "people",
                        "residents", "voters", "protesters", "democrats", "republicans"})

# Person descriptions that may stand for a named speaker ("the governor said"), with the
# title words that name the same role.
TITLE_ALIASES: dict[str, tuple[str, ...]] = {
    "senator": ("sen", "senator"), "governor": ("gov", "governor"), "representative": ("rep",),
    "congressman": ("rep", "congressman"), "congresswoman": ("rep", "congresswoman"),
    "lawmaker": ("rep", "sen", "senator", "congressman", "congresswoman"),
    "general": ("gen", "general"), "minister": ("minister",), "president": ("president",),
    "secretary": ("secretary",), "spokesman": ("spokesman", "spokesperson", "secretary"),
    "spokeswoman": ("spokeswoman", "spokesperson", "secretary"), "mayor": ("mayor",),
    "chairman": ("chairman", "chair"), "manager": (), "chairwoman": ("chairwoman", "chair"), "judge": ("judge",),
    "ambassador": ("ambassador",), "leader": ("leader", "speaker"), "speaker": ("speaker",),
    "director": ("director",), "chancellor": ("chancellor",), "premier": ("premier",),
    "candidate": (), "nominee": (), "official": (), "businessman": (), "businesswoman": (), "billionaire": (),
    "frontrunner": (), "front-runner": (), "politician": (), "activist": (),
    "commentator": (), "professor": ("professor", "prof"), "author": (), "host": (),
    "attorney": ("attorney",), "lawyer": (), "doctor": ("dr",), "economist": (), "analyst": (),
    "adviser": ("adviser",), "advisor": ("advisor",), "aide": (), "strategist": (),
    "chief": ("chief",), "commissioner": ("commissioner",), "sheriff": ("sheriff",),
    "man": (), "woman": (), "pastor": ("pastor",), "reverend": ("rev",), "queen": ("queen",),
    "king": ("king",), "pope": ("pope",), "diplomat": (), "envoy": ("envoy",), "officer": (),
    "administrator": ("administrator",), "executive": ("executive", "ceo"),
}
# Heads too vague to pick one entity from a role ("the man shouted").
GENERIC_HEADS = frozenset("man woman person people one group".split())
# Nouns that stand for an organisation named earlier ("the agency said").
ORG_DESCRIPTIONS = frozenset({"campaign", "ministry", "department", "agency", "company", "group",
                              "committee", "government", "administration", "office", "party",
                              "organization", "organisation", "council", "statement", "report",
                              "newspaper", "paper", "network", "firm", "union", "bank", "court",
                              "board", "commission", "coalition", "alliance", "broadcaster", "station",
                              "institute", "foundation", "university", "authority", "bureau", "league"})
# Documents that "say" things for whoever issued them.
DOC_NOUNS = frozenset("""ad ads advert advertisement commercial statement letter release memo video website
email e-mail tweet filing spot flier flyer mailer petition complaint lawsuit motion brief paper study editorial
report""".split())
ISSUED_NOUNS = frozenset("ad ads advert advertisement commercial spot video mailer flier flyer release statement email"
                         " e-mail memo letter"
                         .split())
# What a name's possessive may introduce with a colon: "From Roe’s post:", "Roe’s response was:".
COLON_DOCS = DOC_NOUNS | frozenset("post page account speech remarks response reply answer message words".split())
# Subjects that are a poll's respondents: "37 percent of voters say", "most adults said".
POLL_SUBJECTS = frozenset("""percent voters respondents majority republicans democrats independents
adults likely""".split())
# A role noun after a name ("Roe campaign spokesman") makes the name a modifier.
NOUN_AFTER = TITLE_WORDS | frozenset("""release releases conference conferences corps office room pool briefing
report reports statement statements card cards""".split())


@lru_cache(maxsize=1)
def _gender_detector() -> object:
    import gender_guesser.detector as gd  # loaded on first use: 0.2 s and a 4 MB table

    return gd.Detector(case_sensitive=False)


# Where news in English is written most: a first name they read as the other gender tells none.
_ENGLISH_COUNTRIES = ("usa", "great_britain", "ireland")


@lru_cache(maxsize=65536)
def first_name_gender(first: str) -> str | None:
    """ "m", "f" or None from a first name, by the `gender_guesser` table (clear cases only: the
    mostly-male and mostly-female names cost more pronouns than they resolved on the tune split)."""
    if len(first) < 2 or not first.isalpha():
        return None
    detector = _gender_detector()
    g = detector.get_gender(first)  # type: ignore[attr-defined]
    if g not in ("male", "female"):
        return None
    other = "female" if g == "male" else "male"
    if any(detector.get_gender(first, c) in (other, "mostly_" + other)  # type: ignore[attr-defined]
           for c in _ENGLISH_COUNTRIES):
        return None  # the table's overall answer is not what English-language news means ("Jan", "Marian")
    return "m" if g == "male" else "f"


_REGION_TYPES = frozenset({
    "State", "Province", "Region", "Country", "Nation", "Republic", "Land", "Oblast", "Emirate", "Canton",
    "Autonomous region", "Autonomous community", "Autonomous republic", "Territory", "Union territory",
    "Regional state", "Voivodship", "Prefecture", "Governorate", "Administrative region", "Capital territory",
    "Federal territory", "Special administrative region", "Federal district", "Capital district",
})


@lru_cache(maxsize=65536)
def is_first_name(word: str) -> bool:
    """Is `word` a first name in the `gender_guesser` table (of any gender, or androgynous)?"""
    return len(word) >= 2 and word.isalpha() and _gender_detector().get_gender(word) != "unknown"  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Lower-cased names of countries and their first-level regions (ISO 3166, from `pycountry`)."""
    import pycountry

    names: set[str] = set()
    for c in pycountry.countries:
        names.add(c.name.lower())
        for attr in ("common_name", "official_name"):
            if hasattr(c, attr):
                names.add(getattr(c, attr).lower())
    for s in pycountry.subdivisions:
        # states, provinces and regions only: districts and boroughs share names with people
        if s.parent_code is None and s.type in _REGION_TYPES:
            names.add(s.name.lower())
    return frozenset(n for n in names if " " not in n or "," not in n)


# Prefixes in nameparser's table that are also everyday English words between capitals.
_NOT_PARTICLES = frozenset("do bar bat op bon het te ter vel heer tho thoe aan ua vd dem auf san santa st ste mac mc"
                           .split())


@lru_cache(maxsize=1)
def name_particles() -> tuple[frozenset[str], frozenset[str]]:
    """Surname particles from `nameparser`: those standing apart ("de", "van", "bin") and those
    joined to the surname by a hyphen or apostrophe ("al-", "d’")."""
    from nameparser.config import CONSTANTS

    spaced = {p for p in CONSTANTS.prefixes if p.isascii() and p.isalpha()} - _NOT_PARTICLES
    joined = {p[:-1] for p in CONSTANTS.prefixes if p.isascii() and p[:-1].isalpha() and p[-1] in "-'"}
    return frozenset(spaced | {"el", "ben"}), frozenset(joined)


@lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Lower-cased names of countries only (their short forms: "iran", "bolivia")."""
    import pycountry

    names: set[str] = set()
    for c in pycountry.countries:
        for n in (c.name, getattr(c, "common_name", None)):
            if n:
                names.add(n.lower().split(",")[0])
    return frozenset(names)


@lru_cache(maxsize=65536)
def country_prefix(stem: str) -> bool:
    """Does some country's name start with `stem` ("austral" -> Australia)?"""
    return any(n.startswith(stem) for n in country_names())


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """ISO 4217 currency codes ("USD", "EUR"), from `pycountry`: no speakers."""
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


@lru_cache(maxsize=65536)
def demonym(word: str) -> bool:
    """ "Ruritanian", "Nordmarkish": a word for the people of a country, from the country's name."""
    low = word.lower()
    if is_first_name(word):
        return False
    for suffix in ("ian", "an", "ese", "ish", "i"):
        stem = low[:-len(suffix)]
        if low.endswith(suffix) and len(stem) >= 4 and country_prefix(stem):
            return True
    return False


# Words before a demonym that make it a description of a person ("the Texan", "his fellow Texan").
DEMONYM_DETERMINERS = [[w] for w in "the a fellow another one".split()]


@lru_cache(maxsize=65536)
def regional_demonym(word: str) -> bool:
    """ "Harbourian", "Texan": a word for the people of a country or a region ("Texas"), no name."""
    low = word.lower()
    if len(low) < 5 or not low.isalpha() or is_first_name(word):
        return False
    for suffix, endings in (("ian", ("ia", "", "a")), ("an", ("", "a", "as", "o")), ("ese", ("", "a")), ("er", ("",))):
        stem = low[:-len(suffix)]
        if low.endswith(suffix) and len(stem) >= 3 and any(stem + e in place_names() for e in endings):
            return True
    return demonym(word)


# Kinship nouns ("her husband, Olaf Roe"; "his wife Mara").
KIN_NOUNS = frozenset("""husband wife son daughter brother sister father mother widow widower cousin nephew niece
uncle aunt grandson granddaughter grandfather grandmother stepson stepdaughter stepfather stepmother
brother-in-law sister-in-law son-in-law daughter-in-law father-in-law mother-in-law spouse""".split())
# "his wife Mara", "her son, Olaf,": a relative the article names by first name alone
KIN_FIRST_RE = re.compile(r"\b(?:[Hh]is|[Hh]er|[Tt]heir)[ \t]+(?:" + "|".join(sorted(KIN_NOUNS)) + r"),?[ \t]+$")
