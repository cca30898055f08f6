"""What the rest of ganzoo asks of the plugins: registries, one entry, each plugin's status.

Every question first loads the plugins and runs every registration hook once
(``collect``), so a plugin failing in any hook is known as failed, and
contributes nothing, whichever registry is asked first.
"""

from __future__ import annotations

from .manager import load_plugins
from .registries import COMMANDS_HOOK, build, find, stage
from .state import STATE, PluginInfo, Registered


def collect() -> None:
    """Run every registration hook of every plugin once, so each failure is known everywhere."""
    load_plugins()
    for hook_name in sorted(STATE.specs()):
        if hook_name != COMMANDS_HOOK:
            stage(hook_name)


def registry(hook_name: str) -> dict[str, Registered]:
    """Everything registered through ``hook_name`` by plugins that failed nowhere, keyed by name."""
    collect()
    return build(hook_name)


def lookup(hook_name: str, name: str, kind: str) -> Registered:
    """One registered entry, or an error suggesting close names or naming both clashing plugins."""
    return find(registry(hook_name), name, kind)


def plugin_infos(*, run_hooks: bool = True) -> list[PluginInfo]:
    """Every plugin loaded, sorted by name.

    A failure in a registration hook is part of a plugin's status, so the hooks
    run first; ``run_hooks=False`` reports what loading alone found, for code
    that must not import what the hooks import (torch, at ``ganzoo --help``).
    """
    if run_hooks:
        collect()
    else:
        load_plugins()
    return sorted(STATE.infos.values(), key=lambda info: info.name)


def recorded_failures() -> list[PluginInfo]:
    """Plugins that failed so far (without running the hooks not run yet)."""
    return [info for info in STATE.infos.values() if info.error]


def failed(name: str) -> PluginInfo | None:
    """The plugin ``name`` if it failed in any hook (every hook is run to know)."""
    collect()
    info = STATE.infos.get(name)
    return info if info is not None and info.error else None
