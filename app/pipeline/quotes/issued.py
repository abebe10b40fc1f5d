"""Who issued the document a participle describes: "Roe’s campaign mailed a flier saying …",
"She fired off a memo stating, “…”". The participle's own subject slot holds only the document (an
indefinite noun that names nobody), so the speaker is the subject of the clause that issued it.
"""

from __future__ import annotations

from .context import Context, Resolved
from .coref import resolve_pronoun, sentence_subject
from .lexicon import ISSUED_NOUNS, PRONOUN_GENDER

_DETERMINERS = frozenset("a an the its his her their".split())
# Verbs by which a document reaches someone other than its author: "Roe read a letter saying …"
_NOT_ISSUING = frozenset("read received receive got get obtained obtain cited cite quoted quote saw see reviewed"
                         " found find leaked published".split())


def document_issuer(cx: Context, sent_start: int, verb_start: int) -> Resolved | None:
    """The subject of the clause whose object is the document right before the participle at
    `verb_start` ("… mailed a flier to households saying"), or None."""
    region = cx.masked[sent_start:verb_start]
    words = region.split()
    tail = [w.lower().strip("“”\"") for w in words[-6:]]
    k = next((j for j in range(len(tail) - 1, -1, -1) if tail[j] in ISSUED_NOUNS), -1)
    if k < 0 or len(tail) - 1 - k > 3:
        return None
    d = next((j for j in range(k - 1, max(-1, k - 4), -1) if tail[j] in _DETERMINERS), -1)
    if any(w.endswith((",", ";", ":")) for w in words[-6:][max(0, d - 1):]):
        return None  # "…, a statement, saying": another clause
    if d < 1 or tail[d - 1] in _NOT_ISSUING or tail[d - 1] in ("of", "in", "from", "by", "with", "to", "on"):
        return None  # no verb issuing it right before ("a memo from Roe saying", "Roe read a letter saying")
    doc_pos = sent_start + len(region.rstrip()) - len(" ".join(words[-6:][d:]))
    first = words[0].lower() if words else ""
    if first in ("his", "her"):
        # "Her campaign sent …": the campaign of the pronoun's person (but "His wife sent …" is
        # someone else, and "His office" too often someone other than the pronoun's first guess)
        who = resolve_pronoun(cx, sent_start, PRONOUN_GENDER["he" if first == "his" else "she"])
        if who is None or who[2] != "person" or len(words) < 2 or words[1].lower() != "campaign":
            return None
        return f"{who[0].split()[-1]} campaign", None, "organisation", 0.6
    for m in reversed(list(cx.names.mentions_in(sent_start, doc_pos))):
        if m.possessive and not m.org and cx.text[m.end:m.end + 14].lstrip("’'s ").startswith("campaign"):
            return f"{m.name.split()[-1]} campaign", None, "organisation", 0.6  # "Roe’s campaign sent …"
    res = sentence_subject(cx, sent_start, doc_pos)
    return None if res is None else (res[0], res[1], res[2], min(res[3], 0.6))
