"""The plugin manager: finds plugins, isolates their failures, collects registrations.

First-party families live in ``plugins/`` and are registered through the
``ganzoo`` entry-point group exactly like third-party packages, so there is one
route in and one set of rules:

* Entry points are loaded lazily, once, on first use.
* ``GANZOO_LOAD_PLUGINS`` (comma-separated distribution names) restricts which
  distributions' plugins load.  Unset: all of them.  Set but empty: none, not
  even ganzoo's own (useful to debug a broken install).  The first-party
  plugins belong to the distribution ``ganzoo``.
* A plugin that raises on import or inside a hook is reported with one warning
  on stderr and marked failed; everything else keeps working.
  ``GANZOO_STRICT_PLUGINS=1`` turns such a failure into an error.
* Two plugins registering the same name never override each other silently:
  the name is marked as a conflict and using it is an error naming both.
  Nothing about a clash depends on which plugin was registered first (entry
  point order is an accident of the install): every clashing plugin is listed,
  sorted, and the entry shown is the one of the first plugin in that order.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError

GROUP = "ganzoo"


@dataclass
class PluginInfo:
    """What ``ganzoo plugins`` shows about one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def status(self) -> str:
        return "failed" if self.error else "loaded"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": self.hooks,
            "status": self.status,
            "error": self.error,
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


pm = pluggy.PluginManager("ganzoo")
pm.add_hookspecs(hookspecs)

_infos: dict[str, PluginInfo] = {}
_loaded = False
_registries: dict[str, dict[str, Registered]] = {}


def _strict() -> bool:
    return os.environ.get("GANZOO_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


def _allowed_distributions() -> set[str] | None:
    value = os.environ.get("GANZOO_LOAD_PLUGINS")
    if value is None:
        return None
    return {_normalise(part) for part in value.split(",") if part.strip()}


def _normalise(dist_name: str) -> str:
    # PEP 503: "My_Plugin", "my.plugin" and "my-plugin" name the same distribution.
    return re.sub(r"[-_.]+", "-", dist_name.strip()).lower()


def _fail(info: PluginInfo, where: str, exc: BaseException) -> None:
    # One line, even for multi-line exception messages, so the warning stays one line.
    info.error = " ".join(f"{type(exc).__name__}: {exc}".split())
    source = info.distribution or "in-process"
    message = f"plugin {info.name!r} ({source}) failed {where}: {info.error}"
    if _strict():
        raise PluginError(message + " (GANZOO_STRICT_PLUGINS is set)") from exc
    print(f"ganzoo: warning: {message}", file=sys.stderr)


def load_plugins() -> None:
    """Import every allowed entry point of the ``ganzoo`` group, once."""
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
        _infos[ep.name] = info
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:
            _fail(info, "to import", exc)
            continue
        info.hooks = sorted(caller.name for caller in pm.get_hookcallers(module) or [])


def register_plugin(module: Any, name: str) -> None:
    """Register an in-process plugin object (tests and notebooks); undo with unregister_plugin."""
    load_plugins()
    pm.register(module, name=name)
    hooks = sorted(caller.name for caller in pm.get_hookcallers(module) or [])
    _infos[name] = PluginInfo(name, None, None, hooks)
    _registries.clear()


def unregister_plugin(name: str) -> None:
    pm.unregister(name=name)
    _infos.pop(name, None)
    _registries.clear()


def plugin_infos() -> list[PluginInfo]:
    load_plugins()
    _collect_all()  # hook failures are part of a plugin's status
    return sorted(_infos.values(), key=lambda info: info.name)


def _collect_all() -> None:
    for hook in ("register_models", "register_datasets", "register_feature_extractors"):
        registry(hook)


def _impls(hook_name: str) -> Iterator[tuple[str, Callable[..., Any]]]:
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        yield impl.plugin_name, impl.function


def call_hook_isolated(hook_name: str, **kwargs: Any) -> None:
    """Call each plugin's implementation separately so one failure cannot hide the rest."""
    for plugin_name, function in _impls(hook_name):
        info = _infos.setdefault(plugin_name, PluginInfo(plugin_name, None, None))
        try:
            function(**kwargs)
        except Exception as exc:
            _fail(info, f"in {hook_name}", exc)


def registry(hook_name: str) -> dict[str, Registered]:
    """Everything registered through ``hook_name``, keyed by name, built once."""
    load_plugins()
    if hook_name in _registries:
        return _registries[hook_name]
    candidates: dict[str, list[Registered]] = {}
    for plugin_name, function in _impls(hook_name):
        info = _infos.setdefault(plugin_name, PluginInfo(plugin_name, None, None))
        # Staged so that a plugin failing half-way registers nothing at all.
        staged: list[tuple[str, Any, dict[str, Any]]] = []
        try:
            function(register=_adapter(hook_name, _stager(staged)))
        except Exception as exc:
            _fail(info, f"in {hook_name}", exc)
            continue
        for name, obj, extra in staged:
            candidates.setdefault(name, []).append(Registered(name, obj, plugin_name, extra))
    entries = {name: _settle(found) for name, found in candidates.items()}
    _registries[hook_name] = entries
    return entries


def _settle(found: list[Registered]) -> Registered:
    """One entry per name, the same whichever plugin registered first."""
    if len(found) == 1:
        return found[0]
    entry = min(found, key=lambda reg: reg.plugin)  # min keeps the first of equal names
    entry.conflicts = sorted({reg.plugin for reg in found})
    return entry


def _stager(staged: list[tuple[str, Any, dict[str, Any]]]) -> Callable[..., None]:
    def register(name: str, obj: Any, **extra: Any) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"registered names must be non-empty strings, got {name!r}")
        staged.append((name, obj, extra))

    return register


def _adapter(hook_name: str, register: Callable[..., None]) -> Callable[..., None]:
    """Each hook's public ``register`` signature, mapped onto the generic one."""
    if hook_name == "register_models":

        def register_model(model_cls: Any, *, aliases: tuple[str, ...] = ()) -> None:
            register(model_cls.name, model_cls)
            for alias in aliases:
                register(alias, model_cls, alias_of=model_cls.name)

        return register_model
    return register


def lookup(hook_name: str, name: str, kind: str) -> Registered:
    """One registered entry, or an error suggesting close names or naming both clashing plugins."""
    entries = registry(hook_name)
    entry = entries.get(name)
    if entry is None:
        import difflib

        close = difflib.get_close_matches(name, list(entries), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        known = ", ".join(sorted(entries)) or "none (are the plugins installed?)"
        raise PluginError(f"unknown {kind} {name!r}.{hint} Known {kind}s: {known}.")
    if entry.conflicts:
        raise PluginError(
            f"{kind} {name!r} is registered by {clash_text(entry.conflicts, repr)}; "
            "uninstall one of them or restrict plugins with GANZOO_LOAD_PLUGINS."
        )
    return entry


def clash_text(names: list[str], show: Callable[[str], str] = str) -> str:
    """One wording of a clash for ``ganzoo models`` and the lookup error; ``names`` come sorted."""
    if len(names) == 1:
        return f"plugin {show(names[0])} twice"
    return f"plugins {', '.join(map(show, names[:-1]))} and {show(names[-1])}"


def reset() -> None:
    """Forget loaded plugins and registries (tests that install plugins use this)."""
    global _loaded
    for name, _plugin in list(pm.list_name_plugin()):
        pm.unregister(name=name)
    _infos.clear()
    _registries.clear()
    _loaded = False
