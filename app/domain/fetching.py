"""What a fetch returns. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one successful (2xx or 304) fetch, after redirects.

    `headers` has lower-case keys; repeated headers are joined with ", ".
    `body` is decompressed (gzip, deflate, br) and empty for 304.
    `permanent_redirect` is the final URL when *every* hop was 301/308, so the caller may
    update the stored feed URL (RFC 9110 §15.4.2/§15.4.9); None otherwise.
    `redirects` lists (status, location) per hop in order.
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    permanent_redirect: str | None = None
    redirects: list[tuple[int, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
