"""Politeness: `HostGate` admits at most N requests per host at a time, spaces request starts
per host, and after a 429 refuses the whole host until Retry-After has passed (RFC 9110 §10.2.3).
Feed fetching and webhook deliveries each hold one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from app.domain.errors import FetchError

# --------------------------------------------------------------------------- Retry-After


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (RFC 9110 §10.2.3): delay-seconds or HTTP-date.

    A date in the past gives 0.0; anything unparseable gives None. `now` must be aware.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" or obsolete zones: HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --------------------------------------------------------------------------- politeness


@dataclass
class _HostState:
    semaphore: asyncio.Semaphore
    next_start: float = 0.0
    blocked_until: float = 0.0
    users: int = 0


class HostGate:
    """Per-host admission: at most `concurrency` at once, starts spaced by `min_spacing_s`,
    and the whole host refused while blocked (after a 429).

    `clock` is monotonic seconds and `sleep` an awaitable sleep; both injectable for tests.
    """

    def __init__(self, *, concurrency: int = 2, min_spacing_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 max_hosts: int = 10_000) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.concurrency = concurrency
        self.min_spacing_s = min_spacing_s
        self._clock = clock
        self._sleep = sleep
        self._max_hosts = max_hosts
        self._hosts: dict[str, _HostState] = {}

    def _state(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            if len(self._hosts) >= self._max_hosts:
                self._prune()
            state = self._hosts[host] = _HostState(asyncio.Semaphore(self.concurrency))
        return state

    def _prune(self) -> None:
        now = self._clock()
        for host, st in list(self._hosts.items()):
            if st.users == 0 and st.next_start <= now and st.blocked_until <= now:
                del self._hosts[host]

    def blocked_for(self, host: str) -> float:
        """Seconds until `host` may be contacted again (0.0 when not blocked)."""
        state = self._hosts.get(host.lower())
        return max(0.0, state.blocked_until - self._clock()) if state else 0.0

    def block(self, host: str, seconds: float) -> None:
        state = self._state(host.lower())
        state.blocked_until = max(state.blocked_until, self._clock() + seconds)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of the host's slots. Raises FetchError(kind="rate_limited") if blocked."""
        host = host.lower()
        state = self._state(host)
        state.users += 1
        try:
            async with state.semaphore:
                while True:
                    now = self._clock()
                    if state.blocked_until > now:
                        wait = state.blocked_until - now
                        raise FetchError(f"fetch: {host} is rate limited for {wait:.0f}s more",
                                         kind="rate_limited", status=429, retry_after=wait)
                    if state.next_start <= now:
                        break
                    await self._sleep(state.next_start - now)
                state.next_start = now + self.min_spacing_s
                yield
        finally:
            state.users -= 1
