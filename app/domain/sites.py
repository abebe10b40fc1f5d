"""The site of a URL: its registrable domain by the Public Suffix List. Pure (the list is the
snapshot tldextract ships; nothing is downloaded).

    site_of(url) -> str | None; same_site(a, b) -> bool     registrable domain (eTLD+1)
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

DEFAULT_PORTS = {"http": 80, "https": 443}


def host_key(hostname: str) -> str:
    """A host name as compared: lower case, no trailing dot, IDN as punycode, IPv6 in brackets."""
    host = hostname.rstrip(".").lower()
    if ":" in host:  # IPv6 literal
        return f"[{host}]"
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


# The Public Suffix List snapshot that tldextract ships, with the private suffixes (github.io,
# blogspot.com: each user's subdomain is a site of its own); no download, no cache on disk.
_PSL = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@lru_cache(maxsize=16384)
def _site_of_host(host: str) -> str:
    parts = _PSL(host)
    return f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else host


def site_of(url: str) -> str | None:
    """The site of an http(s) URL: its registrable domain (eTLD+1 by the Public Suffix List:
    "news.example.co.uk" -> "example.co.uk"), or the whole host when it has none (an IP address,
    "localhost", a name under an unlisted suffix). None for anything else."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not host:
        return None
    return _site_of_host(host_key(host))


def same_site(a: str | None, b: str | None) -> bool:
    """Whether two URLs belong to one site (see `site_of`): who may speak for an article. Hosts
    alone would split www.example.com from news.example.com; the last two labels would join
    every *.co.uk."""
    if not a or not b:
        return False
    site = site_of(a)
    return site is not None and site == site_of(b)
