"""Quoted statements found in an article: plain data, no I/O."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

QuoteKind = Literal["direct", "partial", "post"]
SpeakerType = Literal["person", "organisation"]


@dataclass(frozen=True, slots=True)
class Quote:
    """One quotation: the words inside the marks and who said them.

    `start`/`end` are Python str offsets into the article text, so
    `article[start:end] == text` always holds.
    """

    text: str
    start: int
    end: int
    kind: QuoteKind
    speaker: str | None
    speaker_title: str | None
    speaker_type: SpeakerType | None
    verb: str | None
    channel: str | None
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
