"""Progress of sampling and feature extraction: a bar on a terminal, nothing anywhere else.

An Inception evaluation of a few thousand images runs for minutes; on a
terminal the user sees images/s and the time left, as training shows steps/s.
On a pipe, in a log file, under ``--json`` or inside a caller that asked for
silence (``silenced()``) nothing extra is written, so machine-read output and
logs stay clean.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Callable, Iterator

_SILENT: contextvars.ContextVar[bool] = contextvars.ContextVar("ganzoo_eval_silent", default=False)


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """No progress bars inside this block (``ganzoo eval --json`` uses it)."""
    token = _SILENT.set(True)
    try:
        yield
    finally:
        _SILENT.reset(token)


def shown() -> bool:
    """Whether a bar would be drawn now: stderr is a terminal and nobody silenced it."""
    return not _SILENT.get() and _terminal()


def _terminal() -> bool:
    from ..errors import secondary_rank

    return sys.stderr.isatty() and not secondary_rank()


@contextlib.contextmanager
def progress(total: int, what: str) -> Iterator[Callable[[int], None]]:
    """``advance(n)`` for ``total`` images of ``what`` ("sampling", "features"); a no-op when
    no bar is shown, and a bar that is always closed (an error leaves no half-drawn line)."""
    if total <= 0 or not shown():
        yield lambda n: None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=what, unit="img", dynamic_ncols=True, leave=False)
    try:
        yield bar.update
    finally:
        bar.close()
