"""Quoted words that are no statement: titles of works and nicknames."""

from __future__ import annotations

import re

from .lexicon import DOC_NOUNS, INDEFINITE, ORG_DESCRIPTIONS, TITLE_WORDS
from .marks import Span

_WORK_CUE_RE = re.compile(
    r"(?:book|memoir|biography|autobiography|film|movie|documentary|song|album|show|series|novel|poem|play|"
    r"musical|article|op-ed|essay|"
    r"column|headline|titled|entitled|headlined|program|programme|podcast|episode|hashtag|slogan|"
    r"banner|sign|signs|shirt|shirts|hat|hats|motto)s?[\s,:]*[“\"‘']?$",
    re.I,
)
_WRITTEN_TITLE_RE = re.compile(r"^(?:titled|entitled|headlined)", re.I)
_SMALL_WORDS = frozenset("of the a an and in on to for at by with".split())


def is_title_of_work(text: str, sp: Span) -> bool:
    """ "the novel “The Salt Road”": title-cased words after a work noun."""
    words = text[sp.start:sp.end].split()
    if not words or len(words) > 12:
        return False
    if any(not (w[:1].isupper() or w.lower() in _SMALL_WORDS) for w in words):
        return False
    cue = _WORK_CUE_RE.search(text[max(0, sp.open_at - 40):sp.open_at + 1])
    # "a memo titled “…”", "an ad entitled “…”": words its author wrote, a quotation of them
    return cue is not None and not _WRITTEN_TITLE_RE.search(cue.group())


def is_nickname(text: str, sp: Span) -> bool:
    """Jan “Spike” Roe: a short quote between two capitalised words."""
    if len(text[sp.start:sp.end].split()) > 3 or text[sp.end - 1] in ".!?,":
        return False  # a nickname ends in no sentence mark ("… Calls The Toll “Unfair.”")
    before = text[max(0, sp.open_at - 20):sp.open_at].split()
    after = text[sp.close_at:sp.close_at + 20].split("\n", 1)[0].split()  # on the same line
    return bool(before and after and before[-1][:1].isupper() and after[0][:1].isupper()
                and before[-1][-1:].isalpha())


# Words that announce a label rather than someone's words: "the so-called “reform”".
_LABEL_CUE_RE = re.compile(
    r"\b(?:so-called|so called|dubbed|nicknamed|termed|the (?:word|term|phrase|label)s?)[\s,:]*[“\"‘']?$", re.I)


def is_label(text: str, sp: Span) -> bool:
    """ "the so-called “reform”", "the term “gig work”": a short quoted label."""
    if len(text[sp.start:sp.end].split()) > 4:
        return False
    return bool(_LABEL_CUE_RE.search(text[max(0, sp.open_at - 30):sp.open_at + 1]))


# "a move called “the harbour turn”", "a ferry known as “the Old Lady”": a thing and the name it goes by.
_NAMED_THING_RE = re.compile(
    r"\b(?:[Aa]n?|[Tt]he|[Ii]ts|[Tt]heir|[Hh]is|[Hh]er)\s+(?:[a-z-]+\s+)?(?P<noun>[a-z-]+),?\s+"
    r"(?:(?:also|commonly|popularly|better|widely|locally)\s+)?(?:called|named|nicknamed|dubbed|known\s+as|"
    r"titled|entitled|labell?ed|branded)\s+(?:a\s+|an\s+|the\s+)?[“\"‘']?$")
_SPEAKING_NOUNS = TITLE_WORDS | ORG_DESCRIPTIONS | DOC_NOUNS | INDEFINITE


def is_name_given(text: str, sp: Span) -> bool:
    """ "a move called “the harbour turn”": a short quote naming the thing before it. Not when that
    noun may speak ("the minister called “reckless” the plan", "the report called …")."""
    if len(text[sp.start:sp.end].split()) > 5:
        return False
    m = _NAMED_THING_RE.search(text, max(0, sp.open_at - 60), sp.open_at + 1)
    if m is None or m.group("noun") in _SPEAKING_NOUNS or m.group("noun") == "so":  # "so called": is_label
        return False
    return text[sp.close_at:sp.close_at + 5].split()[:1] != ["by"]  # "… dubbed “a retreat” by Roe": Roe's words
