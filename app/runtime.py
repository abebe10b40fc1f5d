"""What a process needs at run time, built once from Settings and passed down (no globals)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.config import Settings
from app.cpu_pool import CpuPool
from app.metrics import Metrics
from app.pipeline.analyse import load_modules, warm_up
from app.pipeline.fetch import Fetcher
from app.pipeline.robots import RobotsCache
from app.storage.database import Database
from app.storage.keys import KeyScopes
from app.wakeups import Wakeups


def utcnow() -> datetime:
    return datetime.now(UTC)


# The whole of an "analyse" task (extraction, then quotes, each within its own budget inside the
# worker: app.pipeline.deadline) is stopped by killing its worker only if both phases' deadlines
# could not stop it (a call into C that does not return): their sum and this much more.
ANALYSE_SLACK_S = 1.0


def cpu_budgets(settings: Settings) -> dict[str, float]:
    return {"parse": settings.parse_budget_s, "extract": settings.extract_budget_s,
            "quotes": settings.quotes_budget_s,
            "analyse": settings.extract_budget_s + settings.quotes_budget_s + ANALYSE_SLACK_S}


def make_fetcher(settings: Settings) -> Fetcher:
    return Fetcher(
        user_agent=settings.user_agent,
        allowed_networks=settings.allowed_ip_networks,
        connect_timeout=settings.connect_timeout_s,
        total_timeout=settings.request_timeout_s,
        max_body_bytes=settings.max_body_bytes,
        per_host_concurrency=settings.per_host_concurrency,
        min_host_spacing_s=settings.min_host_spacing_s,
    )


@dataclass
class Runtime:
    settings: Settings
    db: Database
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = utcnow
    # Identifies this process in leases, so a stuck lease can be traced to its worker.
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}")
    wakeups: Wakeups = field(default_factory=Wakeups)
    _fetcher: Fetcher | None = None
    _cpu: CpuPool | None = None
    _robots: RobotsCache | None = None
    _api_cpu: CpuPool | None = None
    _keys: KeyScopes | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings=settings, db=Database(settings.database_url))

    @property
    def keys(self) -> KeyScopes:
        """API keys' scopes, remembered for `key_cache_s` (app/storage/keys.py)."""
        if self._keys is None:
            self._keys = KeyScopes(self.db.sessions, ttl_s=self.settings.key_cache_s)
        return self._keys

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = make_fetcher(self.settings)
        return self._fetcher

    @property
    def robots(self) -> RobotsCache:
        """robots.txt rules per site, cached; discovery reads its sitemaps even when
        `obey_robots_txt` is off."""
        if self._robots is None:
            self._robots = RobotsCache(self.fetcher, user_agent=self.settings.user_agent,
                                       ttl_s=self.settings.robots_ttl_s)
        return self._robots

    @property
    def cpu(self) -> CpuPool:
        if self._cpu is None:
            self._cpu = CpuPool(self.settings.extract_processes, cpu_budgets(self.settings), warm_up=warm_up)
        return self._cpu

    @property
    def api_cpu(self) -> CpuPool:
        """The pool of the API's own CPU work (POST /v1/quotes:extract): apart from ingestion's,
        so a request never queues behind a backlog of feeds, and small (started on first use), as
        every API process of a scaled-out deployment has one."""
        if self._api_cpu is None:
            self._api_cpu = CpuPool(self.settings.api_extract_processes, cpu_budgets(self.settings),
                                    slots_per_process=1, warm_up=load_modules)
        return self._api_cpu

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None
        if self._robots is not None:
            self._robots.close()
            self._robots = None
        for pool in (self._cpu, self._api_cpu):
            if pool is not None:
                await pool.aclose()
        self._cpu = self._api_cpu = None
        await self.db.dispose()
