"""The plugin manager: finds plugins, isolates their failures, collects registrations.

First-party families live in ``plugins/`` and are registered through the
``ganzoo`` entry-point group exactly like third-party packages, so there is one
route in and one set of rules:

* Entry points are loaded lazily, once, on first use; so are the ``.py`` files
  of ``GANZOO_PLUGINS_DIR`` (or ``--plugins-dir``), for trying an idea before
  packaging it.
* ``GANZOO_LOAD_PLUGINS`` (comma-separated distribution names) restricts which
  distributions' plugins load.  Unset: all of them.  Set but empty: none, not
  even ganzoo's own (useful to debug a broken install).  The first-party
  plugins belong to the distribution ``ganzoo``.
* A plugin that raises on import or inside any hook is reported with one
  warning on stderr, marked failed, and contributes nothing: no registered
  name of any hook, no command.  ``GANZOO_STRICT_PLUGINS=1`` turns such a
  failure (and a hook function pluggy would never call) into an error.
* Two plugins registering the same name never override each other silently:
  the name is marked as a conflict and using it is an error naming both.
  Nothing about a clash depends on which plugin was registered first (entry
  point order is an accident of the install): every clashing plugin is listed,
  sorted, and the entry shown is the one of the first plugin in that order.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Any

from . import plugin_checks, plugin_commands
from .errors import PluginError
from .plugin_registry import COMMANDS_HOOK, build, clash_text, find, impls, stage
from .plugin_state import (
    GROUP,
    PluginInfo,
    Registered,
    caution,
    fail,
    infos,
    pm,
    registries,
    specs,
    staged,
)

__all__ = [
    "GROUP",
    "PluginInfo",
    "Registered",
    "add_plugin_commands",
    "clash_text",
    "collect",
    "failed",
    "load_plugins",
    "load_plugins_dir",
    "lookup",
    "plugin_infos",
    "pm",
    "recorded_failures",
    "register_plugin",
    "registry",
    "reset",
    "unregister_plugin",
]

_infos = infos  # the same dict, under the name tests and tools have long read
_loaded = False


def _allowed_distributions() -> set[str] | None:
    value = os.environ.get("GANZOO_LOAD_PLUGINS")
    if value is None:
        return None
    return {_normalise(part) for part in value.split(",") if part.strip()}


def _normalise(dist_name: str) -> str:
    # PEP 503: "My_Plugin", "my.plugin" and "my-plugin" name the same distribution.
    return re.sub(r"[-_.]+", "-", dist_name.strip()).lower()


def _register(obj: Any, info: PluginInfo) -> None:
    """Register ``obj`` under ``info.name``, failing or warning for hooks that would never run."""
    infos[info.name] = info
    marker = f"{GROUP}_impl"
    problem = plugin_checks.signature_problem(obj, specs(), marker)
    if problem is not None:
        fail(info, "to register", PluginError(problem))
        return
    pm.register(obj, name=info.name)
    known = specs()
    info.hooks = sorted(c.name for c in pm.get_hookcallers(obj) or [] if c.name in known)
    for message in plugin_checks.hook_problems(obj, known, marker):
        caution(info, message)
    staged.clear()
    registries.clear()
    for group in plugin_commands.groups:
        _add_commands(group, info.name)


def load_plugins() -> None:
    """Import every allowed entry point of the ``ganzoo`` group and the plugins directory, once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    allowed = _allowed_distributions()
    for ep in importlib.metadata.entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist else None
        if allowed is not None and (dist is None or _normalise(dist) not in allowed):
            continue
        info = PluginInfo(ep.name, dist, ep.dist.version if ep.dist else None)
        infos[ep.name] = info
        try:
            module = ep.load()
        except Exception as exc:
            fail(info, "to import", exc)
            continue
        _register(module, info)
    directory = os.environ.get("GANZOO_PLUGINS_DIR")
    if directory:
        load_plugins_dir(directory, "GANZOO_PLUGINS_DIR")


def load_plugins_dir(directory: str | os.PathLike, source: str = "--plugins-dir") -> None:
    """Each ``*.py`` file of ``directory`` as a plugin named after the file (no packaging needed)."""
    load_plugins()
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise PluginError(f"{source} {str(folder)!r} is not a directory")
    for path in sorted(folder.resolve().glob("*.py")):
        name = path.stem
        if name.startswith("_") or getattr(infos.get(name), "path", None) == str(path):
            continue
        info = PluginInfo(name, None, None, path=str(path))
        if name in infos:
            fail(info, "to load", PluginError(f"a plugin named {name!r} exists; rename {path}"))
            continue
        infos[name] = info
        try:
            module = _import_file(path)
        except Exception as exc:
            fail(info, "to import", exc)
            continue
        _register(module, info)


def _import_file(path: Path) -> Any:
    module_name = f"ganzoo_plugins_dir_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses resolve their annotations through it
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def register_plugin(module: Any, name: str) -> None:
    """Register an in-process plugin object (tests and notebooks); undo with unregister_plugin."""
    load_plugins()
    if name in infos or pm.has_plugin(name):
        raise PluginError(f"a plugin named {name!r} is already registered; choose another name")
    try:
        _register(module, PluginInfo(name, None, None))
    except PluginError:  # strict mode: leave nothing of it behind
        unregister_plugin(name)
        raise


def unregister_plugin(name: str) -> None:
    if pm.has_plugin(name):
        pm.unregister(name=name)
    infos.pop(name, None)
    plugin_commands.remove(name)
    staged.clear()
    registries.clear()


def plugin_infos() -> list[PluginInfo]:
    collect()  # hook failures are part of a plugin's status
    return sorted(infos.values(), key=lambda info: info.name)


def recorded_failures() -> list[PluginInfo]:
    """Plugins that failed so far (without running the hooks not run yet)."""
    return [info for info in infos.values() if info.error]


def failed(name: str) -> PluginInfo | None:
    """The plugin ``name`` if it failed in any hook (every hook is run to know)."""
    collect()
    info = infos.get(name)
    return info if info is not None and info.error else None


def collect() -> None:
    """Run every registration hook of every plugin once, so each failure is known everywhere."""
    load_plugins()
    for hook_name in sorted(specs()):
        if hook_name != COMMANDS_HOOK:
            stage(hook_name)


def registry(hook_name: str) -> dict[str, Registered]:
    """Everything registered through ``hook_name`` by plugins that failed nowhere, keyed by name."""
    collect()
    return build(hook_name)


def lookup(hook_name: str, name: str, kind: str) -> Registered:
    """One registered entry, or an error suggesting close names or naming both clashing plugins."""
    return find(registry(hook_name), name, kind)


def add_plugin_commands(group: Any) -> None:
    """Give ``group`` (the ``ganzoo`` CLI) every plugin's commands now and whenever one loads."""
    if group not in plugin_commands.groups:
        plugin_commands.groups.append(group)
    load_plugins()
    for plugin_name in list(infos):
        _add_commands(group, plugin_name)


def _add_commands(group: Any, plugin_name: str) -> None:
    info = infos[plugin_name]
    for name, function in impls(COMMANDS_HOOK):
        if name == plugin_name and not info.error:
            try:
                plugin_commands.add(group, plugin_name, function)
            except Exception as exc:
                fail(info, f"in {COMMANDS_HOOK}", exc)


def reset() -> None:
    """Forget loaded plugins and registries (tests that install plugins use this)."""
    global _loaded
    for name, _plugin in list(pm.list_name_plugin()):
        pm.unregister(name=name)
    plugin_commands.remove()
    infos.clear()
    staged.clear()
    registries.clear()
    _loaded = False
