"""In-process hints that work is waiting, so a loop need not sleep out its idle interval.

The database is the only record of work: a hint carries nothing and may be lost (a worker in
another process never sees it and finds the work on its next round, `idle_sleep_s` later).
When the API and the workers share a process (`serve`), a hub's push reaches the WebSub
worker, and the events it stores reach the delivery worker, without that wait.
"""

from __future__ import annotations

import asyncio


class Wakeups:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, name: str) -> asyncio.Event:
        return self._events.setdefault(name, asyncio.Event())

    def notify(self, name: str) -> None:
        self.event(name).set()

    async def wait(self, name: str, stop: asyncio.Event, idle_s: float) -> None:
        """Until `name` is notified, `stop` is set or `idle_s` seconds pass; clears the hint."""
        hint = self.event(name)
        waiters = [asyncio.ensure_future(hint.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=idle_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            hint.clear()
