"""The one exception type that means "the user can fix this", and the one way to warn.

The CLI prints a GanzooError as a single line and exits non-zero; anything else
is a bug and keeps its traceback.  Warnings are one line too, with no source
location: they are addressed to users, not to the developer of the line.
"""

import os
import signal
import sys
import traceback

_debug = False


def secondary_rank() -> bool:
    """A process other than rank 0 under torchrun: it stays quiet unless it fails."""
    try:
        rank, size = int(os.environ.get("RANK") or 0), int(os.environ.get("WORLD_SIZE") or 1)
    except ValueError:
        return False
    return rank > 0 and size > 1


def warn(message: str) -> None:
    """One line on stderr: ``ganzoo: warning: message`` (from rank 0 only under torchrun)."""
    if secondary_rank():
        return
    print(f"ganzoo: warning: {' '.join(message.split())}", file=sys.stderr)


def did_you_mean(name: str, known: list[str], cutoff: float = 0.5) -> str:
    """`` Did you mean: a, b?`` with up to three close names, or "": the one way a mistyped
    name (model, dataset, extractor, pretrained model) gets suggestions."""
    import difflib

    close = difflib.get_close_matches(name, known, n=3, cutoff=cutoff)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def is_on(value: str | None) -> bool:
    """An on/off environment value: anything but unset, empty, ``0``, ``false``, ``no`` is on."""
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def set_debug(on: bool = True) -> None:
    """``--traceback``: what ``GANZOO_DEBUG=1`` does, for this process."""
    global _debug
    _debug = on


def debug_enabled() -> bool:
    """Whether a plugin author asked for full tracebacks (``GANZOO_DEBUG`` or ``--traceback``).

    Users get one line per error; the author of a failing plugin needs the
    frame that raised, which the one line deliberately hides.
    """
    return _debug or is_on(os.environ.get("GANZOO_DEBUG"))


def print_traceback(exc: BaseException) -> None:
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def one_line(exc: BaseException) -> str:
    """An exception as one line: a GanzooError's message is already for users, others keep their type."""
    text = str(exc) if isinstance(exc, GanzooError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


class GanzooError(Exception):
    """A problem with the user's input or environment, stated with how to fix it."""


class ConfigError(GanzooError):
    """A --set / --config value that does not fit the model's hyperparameters."""


class PluginError(GanzooError):
    """A plugin failed to load or registered something that clashes."""


class DivergenceError(GanzooError):
    """Training produced a non-finite loss."""


class PeerLost(GanzooError):
    """Another process of a distributed job is gone: this one stops with one line, no traceback.

    The launcher reports the cause (which rank, killed by which signal); this
    rank's gloo or NCCL traceback would only bury it.
    """


class Interrupted(GanzooError):
    """Ctrl-C or SIGTERM: exit status 128 + the signal's number (130, 143), as shells expect."""

    def __init__(self, message: str, signum: int = 2) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


class Terminated(BaseException):
    """Raised by the CLI's SIGTERM handler so that cleanup runs exactly as for Ctrl-C."""


def interruption(exc: BaseException, advice: str) -> Interrupted:
    """Ctrl-C (``KeyboardInterrupt``) or SIGTERM (``Terminated``) as one line saying how to go on."""
    if isinstance(exc, Terminated):
        return Interrupted(f"terminated; {advice}", signal.SIGTERM)
    return Interrupted(f"interrupted; {advice}", signal.SIGINT)
