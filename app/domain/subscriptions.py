"""Webhook subscriptions as matching sees them: the event types, the secrets' format, and the
in-memory `SubscriptionIndex` that finds the subscriptions an event may match without scanning
every subscription in Python. Pure; app.pipeline.notify sends, app.storage keeps the rows.
"""

from __future__ import annotations

import base64
import secrets as _secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.errors import InvalidRequestError
from app.domain.names import normalize_name
from app.domain.query import compile_matcher

EVENT_TYPES: tuple[str, ...] = ("article.created", "article.updated", "quote.created", "feed.failing",
                                "feed.recovered")
PING = "ping"
QUOTE_CREATED = "quote.created"
SECRET_PREFIX = "whsec_"  # Standard Webhooks' secret format


def generate_secret(nbytes: int = 24) -> str:
    """`whsec_` + base64 of 24-32 random bytes (the spec's format)."""
    if not 24 <= nbytes <= 64:
        raise ValueError("notify: secrets are 24 to 64 bytes")
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(nbytes)).decode()


def ping_data(subscription_id: int) -> dict[str, Any]:
    return {"subscription_id": subscription_id, "message": "ping from news-ingest"}


# --------------------------------------------------------------------------- matching


def compile_query(q: str) -> Callable[[str], bool]:
    """A matcher for the search query language: the same semantics as GET /v1/articles?q=.

    Raises InvalidRequestError (InvalidQueryError) for a query that does not parse."""
    return compile_matcher(q)


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """What matching needs to know of one subscription."""

    id: int
    events: frozenset[str]
    feed_ids: frozenset[int] | None = None
    languages: frozenset[str] | None = None
    speakers: frozenset[str] | None = None  # normalised names
    min_confidence: float | None = None  # quote events only
    q: str | None = None
    matcher: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(cls, id: int, events: Iterable[str], flt: Mapping[str, Any] | None) -> SubscriptionSpec:
        flt = flt or {}
        q = flt.get("q") or None
        min_confidence = flt.get("min_confidence")  # 0 is a threshold too: test for None
        return cls(
            id=id, events=frozenset(events),
            feed_ids=frozenset(int(f) for f in flt["feed_ids"]) if flt.get("feed_ids") else None,
            languages=frozenset(lang.lower() for lang in flt["languages"]) if flt.get("languages") else None,
            speakers=frozenset(normalize_name(s) for s in flt["speakers"]) if flt.get("speakers") else None,
            min_confidence=float(min_confidence) if min_confidence is not None else None,
            q=q, matcher=compile_query(q) if q else None,
        )


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What of an event the filters look at. `speakers`/`document` may be loaded only when a
    candidate subscription needs them (they cost a query). `confidence`: quote events only."""

    type: str
    feed_id: int | None
    language: str | None
    speakers: frozenset[str] | None = None
    document: str | None = None
    confidence: float | None = None


def facts_of(event_type: str, payload: Mapping[str, Any]) -> EventFacts:
    article = payload.get("article") or {}
    if event_type.startswith("feed."):
        return EventFacts(event_type, (payload.get("feed") or {}).get("id"), None)
    language = (article.get("language") or "").lower() or None
    speakers = None
    document = None
    confidence = None
    if event_type == "quote.created":
        quote = payload.get("quote") or {}
        speaker = quote.get("speaker")
        speakers = frozenset({normalize_name(speaker)}) if speaker else frozenset()
        document = "\n".join(x for x in (quote.get("text"), speaker, article.get("title")) if x)
        confidence = quote.get("confidence")
    return EventFacts(event_type, article.get("feed_id"), language, speakers, document, confidence)


def article_document(title: str | None, summary: str | None, text: str | None) -> str:
    return "\n".join(x for x in (title, summary, text) if x)


class SubscriptionIndex:
    """Subscriptions indexed by event type, then feed_id and language, so an event's candidates
    come from a few dictionary lookups and set intersections; only candidates are checked for
    speakers and the (comparatively costly) query `q`.

    Filters: feed_ids applies to every event; languages, speakers and q to article and quote
    events (an article matches `speakers` when it quotes one of them); min_confidence to quote
    events only (an article is one event for all its quotes, which differ in confidence)."""

    def __init__(self, specs: Iterable[SubscriptionSpec]) -> None:
        self.specs: dict[int, SubscriptionSpec] = {}
        # type -> feed_id (None: any feed) -> ids; type -> language (None: any) -> ids
        self._by_feed: dict[str, dict[int | None, set[int]]] = {}
        self._by_lang: dict[str, dict[str | None, set[int]]] = {}
        for spec in specs:
            self.specs[spec.id] = spec
            for event_type in spec.events:
                feeds = self._by_feed.setdefault(event_type, {})
                for feed_id in spec.feed_ids if spec.feed_ids is not None else (None,):
                    feeds.setdefault(feed_id, set()).add(spec.id)
                langs = self._by_lang.setdefault(event_type, {})
                for lang in spec.languages if spec.languages is not None else (None,):
                    langs.setdefault(lang, set()).add(spec.id)

    def __len__(self) -> int:
        return len(self.specs)

    def candidates(self, facts: EventFacts) -> list[SubscriptionSpec]:
        """Subscriptions whose event type, feed and language filters accept the event."""
        feeds = self._by_feed.get(facts.type)
        if not feeds:
            return []
        ids = feeds.get(None, set())
        if facts.feed_id is not None and facts.feed_id in feeds:
            ids = ids | feeds[facts.feed_id]
        if ids and not facts.type.startswith("feed."):
            langs = self._by_lang[facts.type]
            allowed = langs.get(None, set())
            if facts.language is not None and facts.language in langs:
                allowed = allowed | langs[facts.language]
            ids = ids & allowed
        return [self.specs[i] for i in sorted(ids)]

    @staticmethod
    def accepts(spec: SubscriptionSpec, facts: EventFacts) -> bool:
        """The remaining filters of one candidate (speakers, min_confidence, q) against the
        event's facts."""
        if facts.type.startswith("feed.") or facts.type == PING:
            return True
        if (spec.min_confidence is not None and facts.type == QUOTE_CREATED
                and (facts.confidence is None or facts.confidence < spec.min_confidence)):
            return False  # a quote event without a confidence cannot show it meets the bar
        if spec.speakers is not None and not (spec.speakers & (facts.speakers or frozenset())):
            return False
        if spec.matcher is not None and not spec.matcher(facts.document or ""):
            return False
        return True

    def match(self, facts: EventFacts) -> list[int]:
        return [s.id for s in self.candidates(facts) if self.accepts(s, facts)]


def naive_match(specs: Iterable[SubscriptionSpec], facts: EventFacts) -> list[int]:
    """The obvious scan, kept for the benchmark and as the index's reference in tests."""
    out = []
    for spec in specs:
        if facts.type not in spec.events:
            continue
        if spec.feed_ids is not None and facts.feed_id not in spec.feed_ids:
            continue
        if not facts.type.startswith("feed."):
            if spec.languages is not None and facts.language not in spec.languages:
                continue
        if SubscriptionIndex.accepts(spec, facts):
            out.append(spec.id)
    return sorted(out)


def validate_filter(flt: Mapping[str, Any]) -> None:
    """What the HTTP schema cannot say (q parses), and min_confidence again for callers that
    do not come through the API."""
    bound = flt.get("min_confidence")
    if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)
                              or not 0.0 <= bound <= 1.0):
        raise InvalidRequestError("subscriptions: filter.min_confidence must be a number from 0 to 1")
    if flt.get("q"):
        try:
            compile_query(str(flt["q"]))
        except InvalidRequestError:
            raise
        except Exception as exc:  # a query parser error of any shape is the caller's mistake
            raise InvalidRequestError(f"subscriptions: filter.q does not parse: {exc}") from exc
