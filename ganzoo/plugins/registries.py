"""Running the registration hooks and turning what they register into registries.

Every registration hook (all but ``register_commands``) of every plugin runs
once, into a staging list, before any registry is read: a plugin that fails
half-way, or in another hook, then registers nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..errors import PluginError, did_you_mean
from .checks import check_model_class
from .failures import fail
from .state import STATE, PluginInfo, Registered, Staged

COMMANDS_HOOK = "register_commands"


def impls(hook_name: str) -> Iterator[tuple[str, Callable[..., Any]]]:
    """(plugin name, hook function) of every implementation of ``hook_name``."""
    for impl in getattr(STATE.pm.hook, hook_name).get_hookimpls():
        yield impl.plugin_name, impl.function


def stage(hook_name: str) -> None:
    """Run ``hook_name`` of every plugin not failed yet, once, keeping what each registered."""
    if hook_name in STATE.staged:
        return
    per_plugin: dict[str, Staged] = {}
    STATE.staged[hook_name] = per_plugin
    for plugin_name, function in impls(hook_name):
        info = STATE.infos.setdefault(plugin_name, PluginInfo(plugin_name, None, None))
        if info.error:
            continue
        # Staged so that a plugin failing half-way registers nothing at all.
        found: Staged = []
        try:
            function(register=_adapter(hook_name, _stager(found)))
        except Exception as exc:
            fail(info, f"in {hook_name}", exc)
            continue
        per_plugin[plugin_name] = found


def build(hook_name: str) -> dict[str, Registered]:
    """What plugins that failed nowhere registered through ``hook_name``, keyed by name."""
    stage(hook_name)
    if hook_name in STATE.registries:
        return STATE.registries[hook_name]
    candidates: dict[str, list[Registered]] = {}
    for plugin_name, found in STATE.staged[hook_name].items():
        if STATE.infos[plugin_name].error:
            continue
        for name, obj, extra in found:
            candidates.setdefault(name, []).append(Registered(name, obj, plugin_name, extra))
    entries = {name: _settle(found) for name, found in candidates.items()}
    STATE.registries[hook_name] = entries
    return entries


def _settle(found: list[Registered]) -> Registered:
    """One entry per name, the same whichever plugin registered first."""
    if len(found) == 1:
        return found[0]
    entry = min(found, key=lambda reg: reg.plugin)  # min keeps the first of equal names
    entry.conflicts = sorted({reg.plugin for reg in found})
    return entry


def _stager(found: Staged) -> Callable[..., None]:
    def register(name: str, obj: Any, **extra: Any) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"registered names must be non-empty strings, got {name!r}")
        found.append((name, obj, extra))

    return register


def _adapter(hook_name: str, register: Callable[..., None]) -> Callable[..., None]:
    """Each hook's public ``register`` signature, mapped onto the generic one."""
    if hook_name == "register_models":

        def register_model(model_cls: Any, *, aliases: tuple[str, ...] = ()) -> None:
            check_model_class(model_cls)
            register(model_cls.name, model_cls)
            for alias in aliases:
                register(alias, model_cls, alias_of=model_cls.name)

        return register_model
    return register


def find(entries: dict[str, Registered], name: str, kind: str) -> Registered:
    """One registered entry, or an error suggesting close names or naming both clashing plugins."""
    entry = entries.get(name)
    if entry is None:
        hint = did_you_mean(name, list(entries))
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
