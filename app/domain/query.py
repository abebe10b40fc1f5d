"""The search query language, pure: parse once, then match with a Python predicate that gives the
same answers as the databases (webhook subscription filters); app.domain.fulltext writes the
query for SQLite FTS5 and PostgreSQL tsquery.

    climate summit          every word must appear (case and accents ignored)
    "carbon tax"            the exact phrase
    wind OR solar           either one (OR binds tighter than the implicit AND)
    -opinion                no article containing it
    electri*                words starting with "electri" (at least 2 letters before the *)

Stemming: a word typed in lower case also matches its English variants ("protests" finds
"protest", "protesting"), through a small suffix stripper that both backends and the Python
matcher share, so every backend answers alike. A word typed with a capital letter is taken as a
name and matched exactly ("Gates" does not find "gate"); phrases and prefixes are exact too.
Documents keep names the same way: a capitalised word inside a sentence is not stemmed.

One analyser (``analyze``) turns text into the tokens every index stores: NFKD-folded, accents
removed, casefolded, split on anything that is not a letter or a digit (as FTS5's unicode61
does). The databases index those tokens verbatim, so SQLite and PostgreSQL tokenise alike.
Search snippets (excerpts with the matches marked) are app.domain.snippets.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.domain.errors import InvalidQueryError

MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 32
MIN_PREFIX_CHARS = 2
MAX_TOKEN_CHARS = 64          # longer "words" are noise (hashes, base64); neither index keeps them
MAX_BODY_TOKENS = 16_000      # PostgreSQL positions stop at 16383; both backends cut at the same place

_TOKEN = re.compile(r"[^\W_]+")
_SENTENCE_END = frozenset(".!?:;\"'“”‘’«»()[]-—–\n")
_NOT_PLURAL = frozenset({"news", "series", "species", "chaos", "bias", "atlas", "lens", "always",
                         "perhaps", "thus", "whereas", "does", "various", "previous", "serious"})


# ---------------------------------------------------------------- analysis
def fold(text: str) -> str:
    """Casefolded, accents removed (NFKD, combining marks dropped): "Ça Été" -> "ca ete"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """The folded tokens of `text`, in order."""
    return [t for t in _TOKEN.findall(fold(text)) if len(t) <= MAX_TOKEN_CHARS]


def stem(word: str) -> str:
    """A light English suffix stripper (plural -s/-es/-ies, -ed, -ing, -ly, final -e).

    Not Porter: it only has to map a word and its inflections to one key, the same way on every
    backend. Short, non-ASCII or non-alphabetic tokens are left alone.
    """
    if len(word) <= 3 or not word.isascii() or not word.isalpha() or word in _NOT_PLURAL:
        return word
    w = word
    if w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ingly", "edly", "ing", "ed", "ly"):
        base = w[: -len(suffix)]
        if w.endswith(suffix) and len(base) >= 3 and any(v in base for v in "aeiouy"):
            w = base
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouylsz":
                w = w[:-1]  # running -> run, but falling -> fall
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def is_english(language: str | None) -> bool:
    """Stem English text only; unknown language counts as English (most feeds omit it)."""
    return language is None or language.strip().lower()[:2] in ("", "en")


@dataclass(frozen=True, slots=True)
class Analyzed:
    """What an index stores for one document: exact tokens per field, and its distinct stem keys."""

    title: tuple[str, ...]
    body: tuple[str, ...]
    stems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IndexText:
    """A document's analysis in the form a database writes it, made where the analysis runs (the
    extraction pool), so the storing process only passes strings on: a thousand tokens cost more
    to send and to take apart again than one string.

    `fts5`: title, body and stem keys, each its tokens joined by two spaces (tokens contain no
    spaces; relevance counts " word " occurrences with str.count, and a shared single space
    would hide every second one of "word word"). `tsvector`: the PostgreSQL literal (`to_tsvector`).
    """

    fts5: tuple[str, str, str] | None = None
    tsvector: str | None = None


def index_text(title: str | None, body: str | None, *, english: bool, fts5: bool = False,
               tsvector: bool = False) -> IndexText:
    doc = analyze(title, body, english=english)
    return IndexText(("  ".join(doc.title), "  ".join(doc.body), "  ".join(doc.stems)) if fts5 else None,
                     to_tsvector(doc) if tsvector else None)


def _spans(text: str) -> Iterator[tuple[int, int, str, bool]]:
    """(start, end, folded token, is_name) for each token; a name is capitalised mid-sentence."""
    previous_end = -1
    for m in _TOKEN.finditer(text):
        word, start, end = m.group(), m.start(), m.end()
        name = False
        if previous_end >= 0 and word[0].isupper():
            i = start - 1
            while i >= previous_end and text[i].isspace():
                i -= 1
            name = i < previous_end or text[i] not in _SENTENCE_END
        previous_end = end
        if word.isascii():  # the common case: folding is lower-casing, no pieces
            if len(word) <= MAX_TOKEN_CHARS:
                yield start, end, word.lower(), name
            continue
        for piece in _fold_token(word):
            yield start, end, piece, name


@lru_cache(maxsize=65536)
def _fold_token(word: str) -> tuple[str, ...]:
    return tuple(t for t in _TOKEN.findall(fold(word)) if len(t) <= MAX_TOKEN_CHARS)


_ASCII = bytes(range(128))
# UTF-8 bytes -> lower-case ASCII letters and digits; every other byte (punctuation, "_", the bytes
# of non-ASCII characters) a space. Used only when every non-ASCII character is a separator.
_ASCII_TOKEN_BYTES = bytes(c + 32 if 65 <= c <= 90 else c if chr(c).isalnum() and c < 128 else 32
                           for c in range(256))
_CAPITALISED = re.compile(r"[A-Z][A-Za-z0-9]*")


@lru_cache(maxsize=4096)
def _separates(char: str) -> bool:
    """A character that is no part of a token, before or after folding (curly quotes, dashes,
    no-break spaces; not "é", "½" or "™")."""
    return not char.isalnum() and not _TOKEN.search(fold(char))


def _ascii_words(text: str) -> bool:
    """Every letter and digit in the text is ASCII; other characters (curly quotes, dashes,
    no-break spaces) only separate words. Then folding is lower-casing, and a case-insensitive
    search finds what the analysis would: most news text, curly quotes and all."""
    if text.isascii():
        return True
    others = text.encode("utf-8", "surrogatepass").translate(None, _ASCII).decode("utf-8", "surrogatepass")
    return all(map(_separates, set(others)))


def _body_tokens_and_names(body: str) -> tuple[list[str], list[str]]:
    """Folded body tokens in order, and the folded tokens that are names (as a multiset)."""
    if not _ascii_words(body):
        spans = list(_spans(body))
        return [t for _, _, t, _ in spans], [t for _, _, t, name in spans if name]
    # Fast path, taken by most news text (curly quotes and dashes are separators): the tokens are
    # the ASCII letter-and-digit runs, lower-cased, and folding is lower-casing. A name is a
    # capitalised word after white space whose previous word does not end a sentence.
    found = body.encode("utf-8", "surrogatepass").translate(_ASCII_TOKEN_BYTES).decode("ascii").split()
    if any(len(t) > MAX_TOKEN_CHARS for t in found):
        found = [t for t in found if len(t) <= MAX_TOKEN_CHARS]
    names = []
    for m in _CAPITALISED.finditer(body):
        i = m.start() - 1
        if i > 0 and body[i].isspace():
            while i > 0 and body[i].isspace():
                i -= 1
            if not body[i].isspace() and body[i] not in _SENTENCE_END:
                names.append(m.group().lower())
    return found, names


_STEM_CACHE: dict[str, str] = {}


def _stem_cached(word: str) -> str:
    key = _STEM_CACHE.get(word)
    if key is None:
        if len(_STEM_CACHE) > 500_000:
            _STEM_CACHE.clear()
        key = _STEM_CACHE[word] = stem(word)
    return key


def analyze(title: str | None, body: str | None, *, english: bool = True) -> Analyzed:
    title_tokens = tokens(title or "")[:200]
    body_tokens, names = _body_tokens_and_names(body or "")
    body_tokens = body_tokens[:MAX_BODY_TOKENS]
    keys: dict[str, None] = {}
    if english:
        # Stem keys are a set: a stemmed word matches by presence, and phrases use the exact
        # tokens. Storing each key once (not once per occurrence) halves what the index writes for
        # them on real news text. A word counts if it occurs at least once other than as a name.
        cache = _STEM_CACHE
        keys = dict.fromkeys([cache.get(t) or _stem_cached(t) for t in title_tokens])
        counts = Counter(body_tokens)
        counts.subtract(names)
        for t, left in counts.items():
            if left > 0:
                keys[cache.get(t) or _stem_cached(t)] = None
    return Analyzed(tuple(title_tokens), tuple(body_tokens), tuple(keys))


# ---------------------------------------------------------------- the query
@dataclass(frozen=True, slots=True)
class Term:
    """A word, a phrase (several tokens in a row), or either with a prefix on its last token."""

    tokens: tuple[str, ...]
    prefix: bool = False
    stemmed: bool = False  # a single lower-case word: also matches its stem key

    @property
    def key(self) -> str:
        return _stem_cached(self.tokens[0])  # asked per snippet window and per hit


@dataclass(frozen=True, slots=True)
class Clause:
    """Any one of the alternatives must match (`a OR b`)."""

    alternatives: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Query:
    """Every clause must match and no excluded term may."""

    required: tuple[Clause, ...]
    excluded: tuple[Term, ...]

    @property
    def positive_terms(self) -> tuple[Term, ...]:
        return tuple(t for c in self.required for t in c.alternatives)


@dataclass(frozen=True, slots=True)
class _Item:
    term: Term | None      # None for OR
    negated: bool = False


def _check_characters(q: str) -> None:
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidQueryError(f"query: too long ({len(q)} characters; at most {MAX_QUERY_CHARS})")
    for i, ch in enumerate(q):
        if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r":
            raise InvalidQueryError(f"query: control character U+{ord(ch):04X} at position {i}")


def _term(raw: str, *, phrase: bool) -> Term | None:
    prefix = not phrase and raw.endswith("*")
    body = raw.rstrip("*") if prefix else raw
    if prefix and not body.strip("*"):
        raise InvalidQueryError("query: '*' must follow a word, as in electri*")
    found = tokens(body)
    if not found:
        return None  # punctuation only ("^", "NEAR("): nothing to search for
    if prefix and len(found[-1]) < MIN_PREFIX_CHARS:
        raise InvalidQueryError(f"query: a prefix needs at least {MIN_PREFIX_CHARS} letters before '*'")
    stemmed = not phrase and not prefix and len(found) == 1 and not any(ch.isupper() for ch in body)
    return Term(tuple(found), prefix=prefix, stemmed=stemmed)


def _lex(q: str) -> list[_Item]:
    items: list[_Item] = []
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        negated = q[i] == "-" and i + 1 < n and not q[i + 1].isspace()
        if negated:
            i += 1
        if q[i] == '"':
            close = q.find('"', i + 1)
            if close < 0:
                raise InvalidQueryError(f'query: the quote opened at position {i} is not closed')
            term = _term(q[i + 1:close], phrase=True)
            i = close + 1
        else:
            j = i
            while j < n and not q[j].isspace() and q[j] != '"':
                j += 1
            chunk = q[i:j]
            i = j
            if chunk == "OR" and not negated:
                items.append(_Item(None))
                continue
            term = _term(chunk, phrase=False)
        if term is not None:
            items.append(_Item(term, negated))
    return items


def parse_query(q: str) -> Query:
    """Parse the query language; InvalidQueryError says what is wrong (-> HTTP 422)."""
    _check_characters(q)
    items = _lex(q)
    if sum(len(it.term.tokens) for it in items if it.term) > MAX_QUERY_TERMS:
        raise InvalidQueryError(f"query: too many terms (at most {MAX_QUERY_TERMS} words)")
    required: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    for index, item in enumerate(items):
        if item.term is None:
            before = items[index - 1] if index else None
            if before is None or before.term is None or before.negated or pending_or:
                raise InvalidQueryError("query: OR needs a word or phrase on each side")
            pending_or = True
            continue
        if item.negated:
            if pending_or:
                raise InvalidQueryError("query: OR cannot join an excluded term")
            excluded.append(item.term)
        elif pending_or:
            required[-1].append(item.term)
            pending_or = False
        else:
            required.append([item.term])
    if pending_or:
        raise InvalidQueryError("query: OR needs a word or phrase on each side")
    if not required:
        if excluded:
            raise InvalidQueryError("query: only excluded terms; add a word to search for")
        raise InvalidQueryError("query: no words to search for")
    return Query(tuple(Clause(tuple(alts)) for alts in required), tuple(excluded))


# ---------------------------------------------------------------- PostgreSQL tsvector
# Weights in the stored tsvector: A title, B body, D stem keys (see app/storage/search_index.py); the
# query side is app.domain.fulltext.
def lexeme(token: str) -> str:
    if "'" not in token and "\\" not in token:
        return "'" + token + "'"
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


# "1A", "2A", ... per weight, made once: formatting every position was half of to_tsvector's time.
_POSITION_LABELS = {weight: tuple(f"{p}{weight}" for p in range(16384)) for weight in "ABD"}


def to_tsvector(doc: Analyzed) -> str:
    """A tsvector literal with positions and weights (title A, body B, stem keys D)."""
    positions: dict[str, list[str]] = {}
    found_for = positions.get
    pos = 0
    for field, weight in ((doc.title, "A"), (doc.body, "B"), (doc.stems, "D")):
        labels = _POSITION_LABELS[weight]
        pos += 1  # a gap, so a phrase never runs from the title into the body
        for tok in field:
            pos += 1
            found = found_for(tok)
            if found is None:
                positions[tok] = [labels[pos if pos < 16383 else 16383]]
            elif len(found) < 256:
                found.append(labels[pos if pos < 16383 else 16383])
    return " ".join([f"{lexeme(tok)}:{','.join(p)}" for tok, p in positions.items()])


# ---------------------------------------------------------------- Python matcher
def _contains(haystack: Sequence[str], needle: Sequence[str], prefix: bool) -> bool:
    n = len(needle)
    last = needle[-1]
    for i in range(len(haystack) - n + 1):
        if all(haystack[i + k] == needle[k] for k in range(n - 1)):
            tail = haystack[i + n - 1]
            if tail == last or (prefix and tail.startswith(last)):
                return True
    return False


def _term_matches(term: Term, doc: Analyzed, stems: frozenset[str]) -> bool:
    if term.stemmed and term.key in stems:
        return True
    return any(_contains(field, term.tokens, term.prefix) for field in (doc.title, doc.body))


def matches(query: Query, doc: Analyzed) -> bool:
    stems = frozenset(doc.stems)
    if any(_term_matches(t, doc, stems) for t in query.excluded):
        return False
    return all(any(_term_matches(t, doc, stems) for t in c.alternatives) for c in query.required)


def compile_matcher(q: str) -> Callable[[str], bool]:
    """A predicate over one text with the search semantics (English stemming). Raises
    InvalidQueryError for a query the search API would refuse."""
    query = parse_query(q)
    possible = prefilter(query)

    def match(text: str) -> bool:
        return possible(text) and matches(query, analyze(None, text))

    return match


# ---------------------------------------------------------------- prefilter (used by the matcher and snippets)
def _head(term: Term) -> str:
    """A prefix every matching word starts with: the stem key is a prefix of each word that stems
    to it, except for "-ies"/"-ied" -> "-y", hence the dropped "y"."""
    if term.stemmed:
        return term.key[:-1] if term.key.endswith("y") and len(term.key) > 1 else term.key
    return term.tokens[0]


def _heads_pattern(terms: Sequence[Term]) -> re.Pattern[str]:
    heads = sorted({_head(t) for t in terms})
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, heads)) + ")", re.IGNORECASE)


def prefilter(query: Query) -> Callable[[str], bool]:
    """A fast necessary condition for `matches` on one text: when its words are ASCII, every
    required clause must have one of its heads somewhere. Other text always passes (accents fold)."""
    patterns = [_heads_pattern(c.alternatives) for c in query.required]

    def possible(text: str) -> bool:
        return not _ascii_words(text) or all(p.search(text) for p in patterns)

    return possible
