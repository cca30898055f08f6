"""The plugin manager's state, and how a plugin's failure or mistake is reported.

Shared by ``plugins`` (loading, registering) and ``plugin_registry`` (running
the registration hooks): a failure found by either marks the plugin failed,
drops what it registered from every registry and takes its commands away.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs, plugin_commands
from .errors import PluginError, debug_enabled, is_on, one_line, warn

GROUP = "ganzoo"


@dataclass
class PluginInfo:
    """What ``ganzoo plugins`` shows about one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    #: The ``.py`` file of a plugin loaded from a plugins directory.
    path: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: Where it failed ("in register_models", "to import"), and the traceback for GANZOO_DEBUG.
    stage: str | None = None
    traceback: str | None = None

    @property
    def status(self) -> str:
        return "failed" if self.error else "loaded"

    @property
    def origin(self) -> str:
        return self.distribution or (f"file {self.path}" if self.path else "in-process")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "path": self.path,
            "hooks": self.hooks,
            "status": self.status,
            "error": self.error,
            "warnings": self.warnings,
        }


@dataclass
class Registered:
    """One registered object and the plugin that registered it.

    ``conflicts`` is empty, or every plugin that registered the name (sorted) when
    it clashes: the name is then unusable, whichever plugin ``plugin`` names.
    """

    name: str
    obj: Any
    plugin: str
    extra: dict[str, Any] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


pm = pluggy.PluginManager(GROUP)
pm.add_hookspecs(hookspecs)

infos: dict[str, PluginInfo] = {}
#: hook -> plugin -> what its implementation registered (each hook runs once per plugin).
staged: dict[str, dict[str, list[tuple[str, Any, dict[str, Any]]]]] = {}
registries: dict[str, dict[str, Registered]] = {}


def strict() -> bool:
    return is_on(os.environ.get("GANZOO_STRICT_PLUGINS"))


def specs() -> dict[str, list[str]]:
    """Each hookspec's name and argument names."""
    return {
        name: list(caller.spec.argnames)
        for name, caller in vars(pm.hook).items()
        if not name.startswith("_") and caller.spec is not None
    }


def fail(info: PluginInfo, where: str, exc: BaseException) -> None:
    """Mark ``info`` failed ``where``: one warning line, or an error in strict mode."""
    # One line, even for multi-line exception messages, so the warning stays one line.
    info.error, info.stage = one_line(exc), where
    info.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    registries.clear()  # rebuilt without this plugin
    plugin_commands.remove(info.name)
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
