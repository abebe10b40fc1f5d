"""Speaker name normalisation: the simple, explainable rule that makes one person one speaker."""

from __future__ import annotations

import re
import unicodedata

_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "rev"})


def normalize_name(name: str) -> str:
    """'Dr. José  Álvarez-Peña' -> 'jose alvarez pena': accents, case, punctuation and honorifics dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[^\w@]+", " ", text).split()
    return " ".join(w for w in words if w not in _HONORIFICS)
