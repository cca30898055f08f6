"""How a plugin's failure or mistake is reported, and what a failure takes away.

Shared by loading (``manager``), registering commands (``commands``) and
running the registration hooks (``registry``): a failure found by any of them
marks the plugin failed, drops what it registered from every registry and
takes its commands away, so a failed plugin contributes nothing anywhere.
"""

from __future__ import annotations

import os
import sys
import traceback

from ..errors import PluginError, debug_enabled, is_on, one_line, warn
from .state import STATE, PluginInfo


def strict() -> bool:
    """Whether GANZOO_STRICT_PLUGINS turns plugin failures and mistakes into errors."""
    return is_on(os.environ.get("GANZOO_STRICT_PLUGINS"))


def fail(info: PluginInfo, where: str, exc: BaseException) -> None:
    """Mark ``info`` failed ``where``: one warning line, or an error in strict mode."""
    # One line, even for multi-line exception messages, so the warning stays one line.
    info.error, info.stage = one_line(exc), where
    info.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    STATE.registries.clear()  # rebuilt without this plugin
    STATE.drop_commands(info.name)
    message = f"plugin {info.name!r} ({info.origin}) failed {where}: {info.error}"
    if strict():
        raise PluginError(message + " (GANZOO_STRICT_PLUGINS is set)") from exc
    warn(message)
    if debug_enabled():
        print(info.traceback, end="", file=sys.stderr)


def caution(info: PluginInfo, problem: str) -> None:
    """A mistake that leaves the plugin working but not as its author meant: a warning."""
    message = f"plugin {info.name!r} ({info.origin}) {problem}"
    info.warnings.append(problem)
    if strict():
        raise PluginError(message + " (GANZOO_STRICT_PLUGINS is set)")
    warn(message)
