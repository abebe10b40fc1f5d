"""Dedup: keys that find the same article under another URL or in another outlet. Pure.

    canonical_url(url) -> str                 one spelling per resource (tracking params, fragment,
                                              default port, case, dot-segments, param order)
    normalize_text(text) -> str               NFKC, casefold, whitespace collapsed
    body_hash(text) -> str                    hex SHA-256 of normalize_text(text)
    simhash64(text) -> int                    64-bit SimHash over word 3-shingles, as a SIGNED int

Comparing the keys (SimHash bands and distance, the site of a URL) is app.domain's: storage
needs it too.

SimHash values are returned in the signed 64-bit range [-2**63, 2**63) so they fit a BIGINT
column in PostgreSQL and SQLite as they are (app.domain.simhash compares them).

canonical_url is written here rather than taken from courlan: courlan keeps fragments, does not
resolve dot-segments, and its tracker list also drops ordinary parameters (`source`, `uid`,
`session`, `ref`...) that some news sites use as article ids.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from app.domain.simhash import MASK64
from app.domain.sites import DEFAULT_PORTS, host_key

# Query parameters that only say how the reader arrived (analytics, ad clicks, mail campaigns).
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "hsctatracking",
    "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid", "s_cid", "s_kwcid", "vero_id", "vero_conv",
    "wickedid", "spm", "scm", "cmpid", "icid", "ocid", "ncid", "ito", "sr_share", "smid", "smtyp",
    "share", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
    "__twitter_impression", "ref_src", "ref_url", "feature", "xtor", "trk", "trkcampaign", "sc_cid",
    "cid_source", "guccounter", "guce_referrer", "guce_referrer_sig", "rss", "dicbo", "mbid", "cndid",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "hsa_", "itm_", "_bta_", "ga_", "stm_", "at_")
_UNRESERVED = re.compile(r"%(2[DdEe]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa]|7[Ee])")
_PCT = re.compile(r"%[0-9a-fA-F]{2}")
_WORD = re.compile(r"\w+", re.UNICODE)


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _normalise_percent(component: str, safe: str) -> str:
    """RFC 3986 §6.2.2: upper-case percent escapes, decode unreserved characters, and escape
    whatever is not allowed unescaped (spaces, non-ASCII)."""
    component = _UNRESERVED.sub(lambda m: chr(int(m.group(1), 16)), component)
    component = _PCT.sub(lambda m: m.group(0).upper(), component)
    return quote(component, safe=safe + "%")


def canonical_url(url: str) -> str:
    """One spelling of `url` for equality checks (RFC 3986 §6 normalisation plus clean-ups).

    Lower-cases scheme and host (IDN to punycode), drops userinfo, default ports, the fragment
    and tracking parameters (utm_*, fbclid, gclid, ...), resolves "." and ".." path segments,
    normalises percent-escapes, sorts the remaining query parameters, and gives an empty path
    "/". "www." and trailing slashes are kept: they can name different resources.
    Non-http(s) or unparseable input is returned stripped but otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    netloc = host_key(parts.hostname)
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    if "." in path:
        trailing = path.endswith(("/", "/.", "/.."))
        path = posixpath.normpath(path)
        path = path.lstrip("/")  # normpath keeps a leading "//"
        path = "/" + path if path != "." else "/"
        if trailing and not path.endswith("/"):
            path += "/"
    path = _normalise_percent(path, safe="/:@!$&'()*+,;=~")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query.sort()
    query_string = urlencode(query, quote_via=quote, safe="/:@!$'()*,;~")
    return urlunsplit((scheme, netloc, path, query_string, ""))


def normalize_text(text: str) -> str:
    """NFKC, case-folded, all whitespace runs collapsed to one space, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def body_hash(text: str) -> str:
    """Hex SHA-256 of the normalised text: equal for copies that differ only in case,
    Unicode compatibility forms or whitespace."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def _to_signed(value: int) -> int:
    value &= MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


# Lines that outlets add around a syndicated story: credits, rights notices, calls to action.
# Matched against the lower-cased line as plain substrings (str's own search): one regex
# alternation of all of them cost a quarter of SimHash's time, tried at every position of every
# line. Only two need a pattern, and each is tried only on lines that hold its literal part.
_BOILERPLATE_PHRASES = (
    "copyright", "all rights reserved", "\u00a9", "reporting by", "editing by", "writing by",
    "additional reporting", "may not be published", "may not be reproduced", "redistributed", "subscribe",
    "newsletter", "sign up", "follow us", "follow @", "read more", "click here", "advertisement", "sponsored",
    "related:", "more from", "share this", "trust principles",
    *(f"contributed {to}{which} {what}" for to in ("", "to ") for which in ("this", "the")
      for what in ("report", "story")),
)
_BOILERPLATE_PATTERNS = (("(c) ", re.compile(r"\(c\) \d{4}")), ("our standards", re.compile(r"\bour standards\b")))


def _boilerplate(lowered: str) -> bool:
    """A credit, rights or call-to-action line (`lowered`: the line in lower case)."""
    if any(phrase in lowered for phrase in _BOILERPLATE_PHRASES):
        return True
    return any(literal in lowered and pattern.search(lowered) for literal, pattern in _BOILERPLATE_PATTERNS)


# A dateline opening the story: "LONDON (Reuters) -", "WASHINGTON, Oct 1 (AP) \u2014".
_DATELINE = re.compile(r"^[A-Z][A-Za-z .,'/-]{1,40}(?:\([^)]{1,40}\))?\s*[-\u2013\u2014]+\s+")
MIN_LINE_WORDS = 6


def content_text(text: str) -> str:
    """The story without what syndication changes: lines under MIN_LINE_WORDS words (captions,
    "Advertisement", bylines), credit and rights lines, and a leading dateline. Falls back to the
    whole text if nothing would be left."""
    kept: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if len(line.split()) < MIN_LINE_WORDS or _boilerplate(line.lower()):
            continue
        if not kept:
            line = _DATELINE.sub("", line, count=1)
        kept.append(line)
    return "\n".join(kept) if kept else text


def _features(text: str, shingle: int) -> list[str]:
    """Word `shingle`-grams of the normalised story text, one per occurrence (a repeated
    shingle counts once per occurrence, which is its weight)."""
    words = _WORD.findall(normalize_text(content_text(text)))
    if len(words) < shingle:
        return [" ".join(words)] if words else []
    if shingle == 3:  # the default, without a slice and a join per position
        return [f"{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:], strict=False)]
    return [" ".join(words[i : i + shingle]) for i in range(len(words) - shingle + 1)]


def simhash64(text: str, *, shingle: int = 3) -> int:
    """64-bit SimHash (Charikar) over word `shingle`-grams of `content_text(text)`, normalised,
    each weighted by its count and hashed with BLAKE2b-64. Returned as a signed 64-bit int (see
    module doc). Empty text hashes to 0.

    SimHash moves about 6 bits when 10% of the features change, so outlet boilerplate is removed
    first (content_text); what stays within 3 bits is then the same story, give or take a
    sentence, while unrelated stories sit around 32 bits apart (min ~19 over the news corpus)."""
    blake2b = hashlib.blake2b
    features = _features(text, shingle)
    digests = b"".join([blake2b(feature.encode("utf-8"), digest_size=8).digest() for feature in features])
    return _to_signed(_majority_bits(digests, len(features)))


def _majority_bits(digests: bytes, total: int) -> int:
    """The 64-bit value whose bit p is set when more than half of the `total` 8-byte big-endian
    `digests` have bit p set (a tie leaves it clear).

    Counted with C loops only, column by column: the digests' bytes at one position are a
    strided slice of their concatenation, read as one integer, and the features having bit j
    of that byte are `(column & ones << j).bit_count()`. 64 AND-and-popcounts on integers of a
    few hundred bytes, 4 times faster than a bytes.translate and count per bit."""
    ones = int.from_bytes(b"\x01" * total, "little")  # 1 in bit 0 of every digest's byte
    masks = [ones << j for j in range(8)]
    value = 0
    for k in range(8):  # byte k counted from the least significant end of the big-endian digest
        column = int.from_bytes(digests[7 - k::8], "little")
        for j in range(8):
            if 2 * (column & masks[j]).bit_count() > total:
                value |= 1 << (8 * k + j)
    return value
