"""Keeping the cyclic garbage collector's pauses short on the event loop.

A full (generation 2) collection walks every tracked object of the process, holding the
interpreter, on whichever thread allocated last: with what startup leaves (modules, the app,
its routes and schemas, compiled statements: ~150,000 objects) one took 70-130 ms, and a poll
storing thousands of quotes and events sets off several. Startup's objects live as long as the
process, so they are moved out of the collector's reach once, before serving (`gc.freeze`);
collections then walk only what the process made since.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect what startup left as garbage, then exempt the survivors from later collections;
    how many were frozen. Call once, when the process has set itself up."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
