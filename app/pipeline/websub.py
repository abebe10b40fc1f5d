"""WebSub, the subscriber's side of the protocol (W3C Recommendation 2018-01-23): discovery,
signatures, and the one client that talks to hubs. The decisions about one subscription
(intent_verdict, next_step, hub_request_url) are app.domain.websub's: storage records them.

    parse_link_header(value) -> [(url, rels)]        RFC 8288 Link header
    discover(headers, parsed, url) -> WebSubLinks     §4: Link headers first, then the document
    check_signature(header, body, secret)             §7.1: X-Hub-Signature, SHA-256 or stronger
    HubClient.send(hub, form) -> HubAnswer            §5.1: the (un)subscription request

Why a Link header parser of our own: httpx's `Response.links` keys links by rel, so of two
rel="hub" links, or a link with rel="hub self", only one survives; the RFC 8288 parsers on PyPI
were last released in 2015 and 2020. This one is 25 lines and tested against the RFC's examples.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.domain.errors import FetchError
from app.domain.feeds import ParsedFeed
from app.domain.limits import clean_text, key_fits
from app.domain.websub import PushVerdict, WebSubLinks, hub_request_url
from app.pipeline.guard import GuardedTransport, IPNetwork
from app.pipeline.markup import absolute_url

MAX_HUB_REDIRECTS = 3
ANSWER_EXCERPT_BYTES = 300

# --------------------------------------------------------------------------- discovery

_LINK_VALUE = re.compile(r'\s*<([^>]*)>')
_LINK_PARAM = re.compile(r'\s*;\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^\s;,]*))?')


def parse_link_header(value: str | None) -> list[tuple[str, tuple[str, ...]]]:
    """The links of an HTTP Link header (RFC 8288 §3) in order: (target, relation types in lower
    case). Repeated headers joined with "," parse as one. Malformed parts are skipped."""
    links: list[tuple[str, tuple[str, ...]]] = []
    pos, text = 0, value or ""
    while pos < len(text):
        start = _LINK_VALUE.match(text, pos)
        if start is None:  # garbage: skip to the next link-value
            comma = text.find(",", pos)
            pos = len(text) if comma < 0 else comma + 1
            continue
        target, pos, rels = start.group(1).strip(), start.end(), ()
        while (param := _LINK_PARAM.match(text, pos)) is not None:
            pos = param.end()
            if param.group(1).lower() == "rel" and not rels:  # §3.3: only the first rel counts
                raw = param.group(2) or ""
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
                rels = tuple(raw.lower().split())
        links.append((target, rels))
        comma = text.find(",", pos)
        pos = len(text) if comma < 0 else comma + 1
    return links


def _http_url(value: str | None, base: str) -> str | None:
    # Bounded as every URL from a document is (absolute_url): a 4 KB hub in a Link header failed
    # the poll's transaction on PostgreSQL (feeds.websub_hub is VARCHAR(2048)), every poll.
    url = absolute_url(value, base)
    return url if url is not None and urlsplit(url).hostname else None


def _hub_url(value: str | None, base: str) -> str | None:
    # A hub is asked at its https URL (hub_request_url), one character longer than "http://...".
    url = _http_url(value, base)
    return url if url is not None and key_fits(hub_request_url(url, allow_http=False)) else None


def discover(headers: Mapping[str, str], parsed: ParsedFeed | None, url: str) -> WebSubLinks | None:
    """The hub and topic a fetched feed advertises, or None (§4). Link headers are checked first;
    without a hub among them, the document's links. The topic is the rel=self URL from the same
    place, else from the other, else the URL the document was fetched from."""
    header_hubs: list[str] = []
    header_self: str | None = None
    for target, rels in parse_link_header({k.lower(): v for k, v in headers.items()}.get("link")):
        resolved = _http_url(target, url)
        if "hub" in rels and (hub := _hub_url(target, url)):
            header_hubs.append(hub)
        if resolved and "self" in rels and header_self is None:
            header_self = resolved
    doc_hubs = [h for h in (_hub_url(h, url) for h in (parsed.hubs if parsed else ())) if h]
    doc_self = _http_url(parsed.self_link, url) if parsed else None
    if header_hubs:
        return WebSubLinks(header_hubs[0], header_self or doc_self or url)
    if doc_hubs:
        return WebSubLinks(doc_hubs[0], doc_self or header_self or url)
    return None


def callback_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/websub/{token}"


# --------------------------------------------------------------------------- distribution

_SIGNING: dict[str, Any] = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def check_signature(header: str | None, body: bytes, secret: str) -> PushVerdict:
    """§7.1: `X-Hub-Signature: method=hexdigest`, an HMAC of the body keyed with hub.secret.
    sha1 is refused (§8.3: "a minimum of SHA-256 should be used"); comparison in constant time."""
    if not header or not header.strip():
        return PushVerdict.MISSING_SIGNATURE
    method, sep, digest = header.strip().partition("=")
    if not sep or not digest.strip():
        return PushVerdict.MALFORMED_SIGNATURE
    method = method.strip().lower()
    if method == "sha1":
        return PushVerdict.WEAK_SIGNATURE
    algorithm = _SIGNING.get(method)
    if algorithm is None:
        return PushVerdict.UNSUPPORTED_SIGNATURE
    expected = hmac.new(secret.encode("utf-8"), body, algorithm).hexdigest().encode("ascii")
    given = digest.strip().lower().encode("utf-8", "replace")
    return PushVerdict.ACCEPTED if hmac.compare_digest(expected, given) else PushVerdict.BAD_SIGNATURE


# --------------------------------------------------------------------------- the hub client


def subscription_form(mode: str, *, topic: str, callback: str, secret: str | None = None,
                      lease_s: int | None = None) -> dict[str, str]:
    """§5.1 parameters (sent as application/x-www-form-urlencoded, UTF-8)."""
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if lease_s is not None:
        form["hub.lease_seconds"] = str(lease_s)
    if secret is not None:
        form["hub.secret"] = secret
    return form


@dataclass(frozen=True, slots=True)
class HubAnswer:
    accepted: bool
    hub_url: str  # where the request ended, after 307/308 redirects (§5.1.2)
    status: int | None
    error: str | None


class HubClient:
    """POSTs subscription requests to hubs, through the same address guard as every fetch: a hub
    that resolves to a private or loopback address is refused when connecting."""

    def __init__(self, *, allowed_networks: tuple[IPNetwork, ...] | list[IPNetwork], user_agent: str,
                 timeout_s: float) -> None:
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=30.0)
        self._client = httpx.AsyncClient(transport=GuardedTransport(allowed_networks, limits=limits),
                                         timeout=timeout_s, follow_redirects=False, trust_env=False,
                                         headers={"User-Agent": user_agent})

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, hub_url: str, form: Mapping[str, str]) -> HubAnswer:
        url = hub_url
        for _ in range(MAX_HUB_REDIRECTS + 1):
            try:
                async with self._client.stream("POST", url, data=dict(form)) as response:
                    excerpt = b""
                    async for chunk in response.aiter_bytes():
                        excerpt += chunk
                        if len(excerpt) >= ANSWER_EXCERPT_BYTES:
                            break
            except FetchError as exc:  # the address guard refused the hub
                return HubAnswer(False, url, None, str(exc))
            except httpx.HTTPError as exc:
                return HubAnswer(False, url, None, f"websub: cannot reach hub {url}: {type(exc).__name__}: {exc}")
            location = response.headers.get("location")
            if response.status_code in (307, 308) and location:
                target = _http_url(location, url)
                if target is None:
                    return HubAnswer(False, url, response.status_code, f"websub: hub {url} redirected to {location!r}")
                url = target
                continue
            if 200 <= response.status_code < 300:
                return HubAnswer(True, url, response.status_code, None)
            # The hub's words go to websub_subscriptions.last_error: no NUL (PostgreSQL text refuses it).
            text = clean_text(excerpt[:ANSWER_EXCERPT_BYTES].decode("utf-8", "replace")).strip()
            return HubAnswer(False, url, response.status_code,
                             f"websub: hub {url} answered {response.status_code}" + (f": {text}" if text else ""))
        return HubAnswer(False, url, None, f"websub: more than {MAX_HUB_REDIRECTS} redirects from hub {hub_url}")
