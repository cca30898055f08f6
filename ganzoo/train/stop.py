"""Stop training between steps: Ctrl-C or SIGTERM finishes the step, then checkpoints it.

A cluster that preempts a job sends SIGTERM and kills it a little later; a user
presses Ctrl-C. Raising at once (Python's default) would lose every step since
the last periodic checkpoint, and could interrupt an optimizer halfway through
its update. So while ``fit`` runs, the first signal only asks to stop: the
trainer finishes the step it is in, writes a checkpoint at that step and then
raises what the signal would have raised (``KeyboardInterrupt`` or
``Terminated``), so callers report it as before (exit status 130 or 143). A
second signal is not deferred: it raises at once, for a user who will not wait.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import Terminated

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Which signal asked training to stop (None: none did)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:  # the second signal: no more waiting
            self.raise_now(signum)
        self.signum = signum

    @staticmethod
    def raise_now(signum: int) -> None:
        if signum == signal.SIGTERM:
            raise Terminated()
        raise KeyboardInterrupt

    def name(self, signum: int | None = None) -> str:
        signum = self.signum if signum is None else signum
        return signal.Signals(signum).name if signum is not None else ""

    def agreed(self, world: Any) -> int | None:
        """The signal any rank got (the same answer on every rank, asked after every step),
        so that all ranks save the same step; None: none did."""
        signum = world.largest(self.signum or 0)
        return signum or None


@contextlib.contextmanager
def deferred_stop() -> Iterator[StopRequest]:
    """Signals become requests for the block; the previous handlers are restored after.

    Outside the main thread Python cannot install handlers, so there the
    request simply never comes and signals behave as before.
    """
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, request.handle)
    try:
        yield request
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
