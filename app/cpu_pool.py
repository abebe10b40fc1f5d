"""Runs the CPU-bound steps (feed parsing, extraction, quote finding) off the event loop, each
within a time budget.

    pool = CpuPool(2, budgets={"parse": 20.0, "extract": 10.0, "quotes": 5.0})
    quotes = await pool.run("quotes", quotes_of, text, title)    # CpuBudgetError after 5 s

Processes (pebble's pool; started with 'spawn': forking a process that already runs database
and event-loop threads can deadlock). A step over its budget is abandoned: its worker process is
killed and a fresh one started, so a hostile input cannot keep a pool slot. A worker that dies
(a crash, the kernel's OOM killer) fails its step with CpuStepError and is replaced as well.
The budget counts from the moment a worker takes the step, not while it waits in the queue.
Workers run at a lower priority (WORKER_NICENESS) than the service process.

In-process mode (`processes=0`, used by the tests and for debugging) runs steps in threads. A
thread cannot be killed: a step over its budget is abandoned (the caller gets CpuBudgetError at
the deadline) but runs on to its end and keeps its slot until then. At most `IN_PROCESS_THREADS`
steps run at once, so wedged steps make later ones wait (or get BusyError when the caller bounds
its wait) rather than pile up. Pure-Python steps share the GIL with the event loop, which gets
the interpreter back within sys.getswitchinterval() (5 ms); a long call into C that holds the
GIL would still block it, which is why production runs with processes.

Slots: `run` takes one of `slots` places before handing work over, so a caller can bound its
wait (`wait_s`), and `skip` is asked once the place is taken (after a wait that may have
changed the answer) whether the step is still worth running.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from app.cpus import usable_cpus
from app.domain.errors import BusyError, CpuBudgetError, CpuStepError

T = TypeVar("T")
# Workers run a little below the service process's priority: on a machine with as many busy
# workers as cores, the event loop (API requests, probes, storing) is scheduled first and the
# workers take what is left; alone on the machine they lose nothing.
WORKER_NICENESS = 5
IN_PROCESS_THREADS = 4
SLOTS_PER_PROCESS = 2  # one running, one queued in the pool: no worker idles between steps


def _start_worker(warm_up: Callable[[], None] | None) -> None:
    os.nice(WORKER_NICENESS)
    if warm_up is not None:
        warm_up()


class CpuPool:
    def __init__(self, processes: int, budgets: Mapping[str, float] | None = None, *,
                 slots_per_process: int = SLOTS_PER_PROCESS,
                 warm_up: Callable[[], None] | None = None) -> None:
        if processes < 0:
            processes = usable_cpus()  # affinity and cgroup quota, not the host's count
        self.processes = processes
        self.budgets = dict(budgets or {})
        self.slots = processes * max(1, slots_per_process) if processes else IN_PROCESS_THREADS
        self._free = asyncio.Semaphore(self.slots)
        self._warm_up = warm_up
        self._pool: ProcessPool | None = None
        self._threads: ThreadPoolExecutor | None = None

    def full(self) -> bool:
        """Every slot is taken: the next step waits."""
        return self._free.locked()

    async def run(self, step: str, fn: Callable[..., T], *args: Any, wait_s: float | None = None,
                  skip: Callable[[], str | None] | None = None,
                  late: Callable[[], tuple[Any, ...]] | None = None) -> T:
        """`fn(*args, *late())` in a worker within the budget of `step` (none if the step has no
        budget); `late` is called once the slot is taken, as `skip` is.

        Raises CpuBudgetError past the budget, CpuStepError if the worker died or `skip` gave a
        reason, BusyError if no slot freed up within `wait_s`; `fn`'s own errors pass through."""
        try:
            async with asyncio.timeout(wait_s):
                await self._free.acquire()
        except TimeoutError:
            raise BusyError(f"{step}: every worker is busy; try again shortly",
                            retry_after_s=max(1.0, self.budgets.get(step, 1.0))) from None
        handed_over = False
        try:
            reason = skip() if skip is not None else None
            if reason:
                raise CpuStepError(reason, step=step)
            if late is not None:
                args = (*args, *late())
            budget = self.budgets.get(step)
            if self.processes:
                return await self._in_process_pool(step, fn, args, budget)
            handed_over = True  # the thread gives the slot back when it really ends
            return await self._in_thread(step, fn, args, budget)
        finally:
            if not handed_over:
                self._free.release()

    async def _in_process_pool(self, step: str, fn: Callable[..., T], args: tuple[Any, ...],
                               budget: float | None) -> T:
        future = self._process_pool().schedule(fn, args=args, timeout=budget)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError as exc:
            if budget is not None and exc.args[:1] == ("Task timeout",):  # pebble's own timeout
                raise CpuBudgetError(step, budget, killed=True) from None
            raise
        except ProcessExpired as exc:
            raise CpuStepError(f"{step}: the worker process died (exit code {exc.exitcode})", step=step) from exc

    async def _in_thread(self, step: str, fn: Callable[..., T], args: tuple[Any, ...],
                         budget: float | None) -> T:
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def call() -> T:
            loop.call_soon_threadsafe(started.set)
            return fn(*args)

        def give_back(_done: Future[T]) -> None:
            try:
                loop.call_soon_threadsafe(self._free.release)
            except RuntimeError:  # the loop is gone (shutdown); nobody waits for the slot
                pass

        future = self._thread_pool().submit(call)
        future.add_done_callback(give_back)
        waiter = asyncio.wrap_future(future)
        try:
            await started.wait()  # the budget counts from the start, as in the process pool
            async with asyncio.timeout(budget):
                return await waiter
        except TimeoutError:
            if waiter.cancelled():  # our deadline, not an error of fn
                raise CpuBudgetError(step, budget or 0.0) from None
            raise
        finally:
            if not future.done():
                future.cancel()  # drops a step not started yet; a running thread runs on

    def _process_pool(self) -> ProcessPool:
        if self._pool is not None and not self._pool.active:  # broken (a manager thread died)
            self._pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
            self._pool = None
        if self._pool is None:
            self._pool = ProcessPool(max_workers=self.processes, initializer=_start_worker,
                                     initargs=(self._warm_up,), context=multiprocessing.get_context("spawn"))
        return self._pool

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(IN_PROCESS_THREADS, thread_name_prefix="news-ingest-cpu")
        return self._threads

    async def aclose(self) -> None:
        """Stop the workers; a step still running is abandoned (its caller is gone by now)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.stop()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(pool.join)
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None
