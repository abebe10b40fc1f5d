"""A calibration figure printed beside every throughput: how fast this machine runs plain Python
right now. The machine is often shared, so a throughput means little without it."""

from __future__ import annotations

import statistics
import time


def cpu_loop_ms(rounds: int = 5) -> float:
    """Median wall ms of a fixed pure-Python loop (about 50 ms on an idle 2020s core)."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
