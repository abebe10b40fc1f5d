"""Quoted words that are no statement: titles of works and nicknames."""

from __future__ import annotations

import re

from .marks import Span

_WORK_CUE_RE = re.compile(
    r"(?:book|memoir|biography|autobiography|film|movie|documentary|song|album|show|series|novel|poem|play|"
    r"musical|article|op-ed|essay|"
    r"column|headline|titled|entitled|headlined|program|programme|podcast|episode|hashtag|slogan|"
    r"banner|sign|signs|shirt|shirts|hat|hats|motto)s?[\s,:]*[“\"‘']?$",
    re.I,
)
_SMALL_WORDS = frozenset("of the a an and in on to for at by with".split())


def is_title_of_work(text: str, sp: Span) -> bool:
    """ "the novel “The Salt Road”": title-cased words after a work noun."""
    words = text[sp.start:sp.end].split()
    if not words or len(words) > 12:
        return False
    if any(not (w[:1].isupper() or w.lower() in _SMALL_WORDS) for w in words):
        return False
    return bool(_WORK_CUE_RE.search(text[max(0, sp.open_at - 40):sp.open_at + 1]))


def is_nickname(text: str, sp: Span) -> bool:
    """Jan “Spike” Roe: a short quote between two capitalised words."""
    if len(text[sp.start:sp.end].split()) > 3:
        return False
    before = text[max(0, sp.open_at - 20):sp.open_at].split()
    after = text[sp.close_at:sp.close_at + 20].split()
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
