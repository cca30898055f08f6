"""Finding and registering plugins: entry points, a plugins directory, in-process objects.

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
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Any

from ..errors import PluginError
from . import checks, commands
from .failures import caution, fail
from .state import GROUP, STATE, PluginInfo


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
    STATE.infos[info.name] = info
    marker = f"{GROUP}_impl"
    problem = checks.signature_problem(obj, STATE.specs(), marker)
    if problem is not None:
        fail(info, "to register", PluginError(problem))
        return
    STATE.pm.register(obj, name=info.name)
    known = STATE.specs()
    hook_callers = STATE.pm.get_hookcallers(obj) or []
    info.hooks = sorted(c.name for c in hook_callers if c.name in known)
    for message in checks.hook_problems(obj, known, marker):
        caution(info, message)
    STATE.changed()
    for group in STATE.groups:
        commands.add_from(group, info.name)


def load_plugins() -> None:
    """Import every allowed entry point of the ``ganzoo`` group and the plugins directory, once."""
    if STATE.loaded:
        return
    STATE.loaded = True
    allowed = _allowed_distributions()
    for ep in importlib.metadata.entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist else None
        if allowed is not None and (dist is None or _normalise(dist) not in allowed):
            continue
        info = PluginInfo(ep.name, dist, ep.dist.version if ep.dist else None)
        STATE.infos[ep.name] = info
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
    infos = STATE.infos
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
    if name in STATE.infos or STATE.pm.has_plugin(name):
        raise PluginError(f"a plugin named {name!r} is already registered; choose another name")
    try:
        _register(module, PluginInfo(name, None, None))
    except PluginError:  # strict mode: leave nothing of it behind
        unregister_plugin(name)
        raise


def unregister_plugin(name: str) -> None:
    """Take plugin ``name`` out with all it registered and its commands (unknown names: nothing)."""
    if STATE.pm.has_plugin(name):
        STATE.pm.unregister(name=name)
    STATE.infos.pop(name, None)
    STATE.drop_commands(name)
    STATE.changed()


def add_plugin_commands(group: Any) -> None:
    """Give ``group`` (the ``ganzoo`` CLI) every plugin's commands now and whenever one loads."""
    if group not in STATE.groups:
        STATE.groups.append(group)
    load_plugins()
    for plugin_name in list(STATE.infos):
        commands.add_from(group, plugin_name)


def reset() -> None:
    """Forget loaded plugins, registries and plugin commands: one call, for tests that install plugins."""
    STATE.reset()
