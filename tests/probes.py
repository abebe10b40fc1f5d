"""Waiting on observable events and measuring how late the event loop answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

# How late a probe may be answered while hostile input is processed. Generous: the tests share
# two cores with other work, which alone delays a probe by a few hundred milliseconds at times;
# the stalls this catches were 2.7-14.5 s. bench/hostile.py measures the real figures.
STALL_S = 1.0


async def idle_worst(client: httpx.AsyncClient, path: str, probes: int = 20) -> float:
    """The worst latency of `path`, probed as probe_while does, with nothing else to do: what
    the machine and the test's own process add right now."""
    return max([await _probe(client, path) for _ in range(probes)])


def stall_bound(idle: float) -> float:
    """How late a probe may be answered during hostile input, given the idle worst: generous
    (STALL_S more), so that only a stall fails a test, not a busy machine."""
    return STALL_S + idle


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll `condition` (something another thread or process changes) without blocking the loop."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.02)


async def probe_while(task: asyncio.Task[Any], client: httpx.AsyncClient, path: str) -> list[float]:
    """Latencies of `path`, asked every 10 ms until `task` is done. Each counts from when the
    probe was due: the in-process client may serve a request without ever yielding, so only the
    lateness of the wake-up shows that something held the event loop."""
    latencies = []
    while not task.done():
        latencies.append(await _probe(client, path))
    return latencies


async def _probe(client: httpx.AsyncClient, path: str) -> float:
    due = time.perf_counter() + 0.01
    await asyncio.sleep(0.01)
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return time.perf_counter() - due
