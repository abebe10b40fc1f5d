"""Runs the CPU-bound stage (extraction, fingerprints, quotes) off the event loop.

A process pool lets both cores work (the GIL would serialise threads). Processes are started
with 'spawn': forking a process that already runs database and event-loop threads can deadlock.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from app.cpus import usable_cpus

T = TypeVar("T")


class CpuPool:
    def __init__(self, processes: int) -> None:
        if processes < 0:
            processes = usable_cpus()  # affinity and cgroup quota, not the host's count
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.processes == 0:
            return await asyncio.to_thread(fn, *args)
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
