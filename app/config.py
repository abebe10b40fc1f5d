"""One Settings class, built once at the edge (CLI or create_app) and passed down.

Every setting is an environment variable with the prefix ``NEWS_INGEST_``; the database URL
also reads the conventional plain ``DATABASE_URL``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWS_INGEST_", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./news-ingest.db",
        validation_alias=AliasChoices("DATABASE_URL", "NEWS_INGEST_DATABASE_URL"),
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    host: str = Field("127.0.0.1", description="Bind address of the HTTP API")
    port: int = Field(8000, description="Port of the HTTP API")
    log_format: Literal["text", "json"] = Field("text", description="Log line format")
    log_level: str = Field("INFO", description="Python log level")
    log_summary_s: float = Field(60.0, gt=0, description=(
        "Workers log one INFO line of what they did (polls, errors, articles, deliveries) this often"))

    # Outgoing requests (feeds, article pages, webhooks).
    allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated CIDRs that outgoing requests may reach although private/loopback",
    )
    user_agent: str = Field(
        "news-ingest/0.1 (+https://github.com/news-ingest/news-ingest)",
        description="User-Agent of every outgoing request",
    )
    connect_timeout_s: float = Field(10.0, description="Connect timeout of outgoing requests")
    request_timeout_s: float = Field(30.0, description="Total timeout of one outgoing request")
    max_body_bytes: int = Field(10 * 1024 * 1024, description="Largest decompressed response body")
    per_host_concurrency: int = Field(2, description="Concurrent requests per remote host")
    min_host_spacing_s: float = Field(0.0, description="Minimum spacing of requests to one host")
    allow_http_webhooks: bool = Field(False, description="Allow plain http:// webhook URLs")

    # Polling.
    min_poll_interval_s: int = Field(300, description="Shortest adaptive poll interval")
    max_poll_interval_s: int = Field(86400, description="Longest adaptive poll interval")
    max_backoff_s: int = Field(6 * 3600, description="Cap of the failure backoff")
    worker_concurrency: int = Field(32, description="Feeds polled at once by one worker process")
    poll_batch_size: int = Field(32, description="Feeds claimed per scheduler round")
    lease_s: int = Field(300, description="Lease on a claimed feed (a poll or a pushed document); expires if a worker dies")
    idle_sleep_s: float = Field(1.0, description="Scheduler sleep when no work is due")
    fetch_articles: bool = Field(True, description="Fetch each entry's page and extract its main text")
    obey_robots_txt: bool = Field(True, description=(
        "Fetch an article page only when the site's robots.txt allows it (RFC 9309); turn off only "
        "for sources that gave permission"))
    robots_ttl_s: int = Field(3600, ge=60, le=86400, description="How long a site's robots.txt is cached")
    extract_processes: int = Field(-1, description="Processes for extraction; -1: one per CPU, 0: in-process")
    max_entries_per_poll: int = Field(100, ge=1, description=(
        "New or edited entries (feed items, sitemap URLs) one poll fetches and analyses, newest first; "
        "the rest wait for the next polls, which come soon"))
    max_feed_entries: int = Field(1000, ge=1, description=(
        "Entries read from one feed document, newest first; older ones beyond this are ignored"))

    # Time budgets of the CPU-bound steps (issue 12). A step over its budget is abandoned (its
    # worker process killed and replaced) and the reason recorded where the user sees it.
    parse_budget_s: float = Field(20.0, gt=0, description="Parsing one feed document or discovery page")
    extract_budget_s: float = Field(10.0, gt=0, description=(
        "Extracting one page's text, fingerprint and search tokens"))
    quotes_budget_s: float = Field(5.0, gt=0, description="Finding the quotes of one text (ingestion and API)")
    api_extract_processes: int = Field(1, ge=0, description=(
        "Processes of each API process for its CPU-bound work: POST /v1/quotes:extract, documents met "
        "while registering feeds, OPML import checks and export, long-text search snippets (0: a thread)"))

    # Registering a feed (discovery).
    discovery_candidates: int = Field(4, ge=0, description=(
        "Advertised or common feed URLs tried when a registered URL is a page, not a feed"))
    discovery_deadline_s: float = Field(20.0, gt=0, description="Time allowed for all of one discovery")

    # API.
    open_read: bool = Field(False, description="Serve read endpoints without an API key")
    key_cache_s: float = Field(5.0, ge=0, le=300, description=(
        "How long a server process trusts an API key it has checked; a revoked key is refused by "
        "every process within this time (0: look the key up on every request)"))
    read_cache_mb: float = Field(32.0, ge=0, description=(
        "Memory of each API process's cache of read responses (README, API, Conditional GET and the "
        "response cache); it never serves a response older than the last commit it can see; 0 turns it off "
        "(ETags and 304 answers stay)"))
    metrics_enabled: bool = Field(True, description="Serve /metrics")
    access_log: bool = Field(False, description=(
        "Log every HTTP request at INFO (uvicorn's access log); off by default: a line per read costs "
        "~5% of its CPU, and /metrics counts requests by route and status"))

    # Webhooks (issue 6).
    webhook_timeout_s: float = Field(10.0, description="Total timeout of one webhook delivery attempt")
    webhook_retry_schedule_s: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        description="Comma-separated delays before each retry (Standard Webhooks schedule); then dead",
    )
    webhook_retry_jitter: float = Field(0.2, ge=0.0, le=1.0, description="Random extra delay, as a fraction")
    webhook_lease_s: int = Field(60, ge=1, description="Lease on claimed deliveries/events; expires if a worker dies")
    webhook_batch_size: int = Field(500, ge=2, description="Deliveries claimed per round")
    webhook_concurrency: int = Field(64, ge=1, description="Deliveries in flight per worker process")
    webhook_per_host_concurrency: int = Field(16, ge=1, description="Deliveries in flight per receiving host")
    webhook_disable_after_s: int = Field(5 * 86400, description="Disable a subscription failing this long")
    webhook_response_excerpt_bytes: int = Field(1024, description="Bytes of a receiver's answer read and kept")
    webhook_secret_overlap_s: int = Field(86400, description="How long a rotated-out secret keeps signing")
    webhook_dispatch_batch_size: int = Field(500, ge=1, description="Events fanned out per round")
    event_retention_s: int = Field(7 * 86400, ge=3600, description=(
        "Outbox events, with their deliveries and delivery log, are deleted this long after dispatch "
        "once no delivery is pending"))

    # WebSub (issue 15): push from the hubs that feeds advertise.
    public_url: str | None = Field(None, description=(
        "Base URL at which hubs reach this service (e.g. https://news.example.com); WebSub callbacks live "
        "under {public_url}/websub/. Unset: no subscriptions, every feed is polled"))
    websub_lease_s: int = Field(10 * 86400, ge=1, description="Lease asked of hubs (they decide); renewed at 80%")
    websub_poll_interval_s: int = Field(3600, ge=1, description=(
        "Safety-net poll interval of a feed that a hub pushes (the adaptive interval when longer)"))
    websub_verify_timeout_s: int = Field(300, ge=1, description=(
        "A hub that has not verified a (un)subscription this long after accepting it has failed"))
    websub_allow_http_hubs: bool = Field(False, description=(
        "Send subscription requests (which carry hub.secret) to http:// hubs as advertised; otherwise https"))

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("public_url must be an http(s) URL without query or fragment, e.g. https://news.example.com")
        return value.strip().rstrip("/")

    @field_validator("webhook_retry_schedule_s", mode="before")
    @classmethod
    def _split_schedule(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)  # raises a clear ValueError
        return value

    @cached_property
    def allowed_ip_networks(self) -> list[IPNetwork]:
        return [ipaddress.ip_network(c, strict=False) for c in self.allowed_networks]


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """NEWS_INGEST_* variables that are no setting (a typo, or one that was removed): they would
    otherwise be ignored without a word."""
    known = {f"NEWS_INGEST_{name}".upper() for name in Settings.model_fields}
    return sorted(k for k in environ if k.upper().startswith("NEWS_INGEST_") and k.upper() not in known)
