"""Starts and stops the background loops of one process (embedded `serve` or `worker`).

Graceful shutdown: stop claiming, let in-flight work finish for a while; anything cut off
keeps its lease, which expires so another worker (or this one, restarted) picks it up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from app.runtime import Runtime
from app.workers.deliver import DeliveryWorker
from app.workers.ingest import IngestWorker
from app.workers.summary import ActivitySummary
from app.workers.websub import WebSubWorker

log = logging.getLogger("news_ingest.workers")


class Supervisor:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def loops(self) -> list[tuple[str, Callable[[asyncio.Event], Coroutine[Any, Any, None]]]]:
        summary = ActivitySummary(self.runtime.metrics, self.runtime.settings.log_summary_s)
        return [("ingest", IngestWorker(self.runtime).run), ("deliver", DeliveryWorker(self.runtime).run),
                ("websub", WebSubWorker(self.runtime).run), ("summary", summary.run)]

    async def start(self) -> None:
        for name, run in self.loops():
            task = asyncio.create_task(run(self.stop_event), name=f"news-ingest-{name}")
            self.tasks.append(task)
        log.info("workers: started", extra={"worker_id": self.runtime.worker_id})

    async def stop(self, grace_s: float = 20.0) -> None:
        self.stop_event.set()
        if not self.tasks:
            return
        done, pending = await asyncio.wait(self.tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                log.error("workers: loop ended with an error", exc_info=task.exception())
        self.tasks.clear()

    async def run_until_stopped(self) -> None:
        await self.start()
        await self.stop_event.wait()
        await self.stop()
