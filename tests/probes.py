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
        due = time.perf_counter() + 0.01
        await asyncio.sleep(0.01)
        response = await client.get(path)
        latencies.append(time.perf_counter() - due)
        assert response.status_code == 200, response.text
    return latencies
