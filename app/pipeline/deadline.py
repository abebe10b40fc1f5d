"""A time limit for one phase of a step that runs in a pool worker, without killing the worker.

    with soft_deadline(5.0):       # raises Overrun in this thread after 5 s of wall-clock time
        quotes = find_quotes(text)

A pool worker runs several phases in one task (extraction, then quotes: one hand-over per
article instead of two), and each phase keeps a budget of its own: SIGALRM (setitimer) raises
`Overrun` between two bytecodes of the phase, also inside `re` matching, which checks for
signals. A call into C that never returns to Python is not stopped: the pool's own budget for
the whole task (which kills the worker) stays the backstop. Signals reach only the main thread;
elsewhere (the pool's in-process mode, which runs steps in threads) this limits nothing, and
the pool's budget is again what stops the task.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Overrun(BaseException):
    """The phase ran past its soft deadline. A BaseException, as KeyboardInterrupt is: the
    `except Exception` that extraction keeps for the zoo of errors lxml and trafilatura raise on
    hostile pages must not take a deadline for a page without text."""


_state = {"armed": False, "installed": False}


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    # An alarm that arrives after the phase has ended (disarmed) is ignored.
    if _state["armed"]:
        _state["armed"] = False
        raise Overrun


def enforceable() -> bool:
    """Whether soft_deadline can stop a phase here (the main thread of a process)."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def soft_deadline(seconds: float) -> Iterator[None]:
    if not enforceable():
        yield
        return
    if not _state["installed"]:
        # Installed once and never put back: a handler swapped back and forth could meet an
        # alarm already delivered to the process but not yet run.
        signal.signal(signal.SIGALRM, _on_alarm)
        _state["installed"] = True
    _state["armed"] = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _state["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
