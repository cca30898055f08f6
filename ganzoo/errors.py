"""The one exception type that means "the user can fix this", and the one way to warn.

The CLI prints a GanzooError as a single line and exits non-zero; anything else
is a bug and keeps its traceback.  Warnings are one line too, with no source
location: they are addressed to users, not to the developer of the line.
"""

import signal
import sys


def warn(message: str) -> None:
    """One line on stderr: ``ganzoo: warning: message``."""
    print(f"ganzoo: warning: {' '.join(message.split())}", file=sys.stderr)


class GanzooError(Exception):
    """A problem with the user's input or environment, stated with how to fix it."""


class ConfigError(GanzooError):
    """A --set / --config value that does not fit the model's hyperparameters."""


class PluginError(GanzooError):
    """A plugin failed to load or registered something that clashes."""


class DivergenceError(GanzooError):
    """Training produced a non-finite loss."""


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
