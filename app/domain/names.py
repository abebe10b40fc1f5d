"""Speaker name normalisation: the simple, explainable rule that makes one person one speaker."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "rev"})


# Cached: storing a feed's quotes asks for each speaker's key several times (speaker counts, quote
# rows), and the same speakers recur from article to article (about 5 us a call otherwise).
@lru_cache(maxsize=8192)
def normalize_name(name: str) -> str:
    """'Dr. José  Álvarez-Peña' -> 'jose alvarez pena': accents, case, punctuation and honorifics dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[^\w@]+", " ", text).split()
    return " ".join(w for w in words if w not in _HONORIFICS)
