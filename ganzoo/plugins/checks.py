"""Mistakes in a plugin caught where they are made, each as one line naming what to fix.

pluggy accepts a function whose name matches no hookspec (it simply never
calls it) and ignores a hook function that lacks the ``@hookimpl`` marker, so
a misspelt ``register_model`` used to leave a plugin "loaded" with its models
silently missing.  A ``Config`` field without a default used to be accepted
and then fail as a long ``TypeError`` at train time.  These checks run at
registration, where the plugin is still known by name.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import sys
from typing import Any

from ..errors import PluginError


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"the hooks are {', '.join(known)}"


def hook_problems(plugin: Any, specs: dict[str, list[str]], marker: str) -> list[str]:
    """Warnings for hook implementations pluggy would never call.

    ``specs`` maps each hookspec name to its argument names; ``marker`` is the
    attribute ``@hookimpl`` sets.
    """
    problems = []
    for attr in sorted(dir(plugin)):
        if attr.startswith("_"):
            continue
        try:
            value = getattr(plugin, attr, None)
        except Exception:  # a property of a plugin object may raise; it is no hook either way
            continue
        marked = callable(value) and hasattr(value, marker)
        if marked and attr not in specs:
            problems.append(
                f"implements {attr!r}, which is not a ganzoo hook and is never called; "
                f"{_suggest(attr, sorted(specs))}"
            )
        elif callable(value) and attr in specs and not marked and not inspect.isclass(value):
            problems.append(
                f"defines {attr!r} without @ganzoo.hookimpl, so it is never called; "
                "decorate it with @ganzoo.hookimpl"
            )
    return problems


def signature_problem(plugin: Any, specs: dict[str, list[str]], marker: str) -> str | None:
    """pluggy refuses a hook whose argument names differ from the spec, in four lines; this says it in one."""
    for name, argnames in sorted(specs.items()):
        value = getattr(plugin, name, None)
        if not (callable(value) and hasattr(value, marker)):
            continue
        try:
            params = [p for p in inspect.signature(value).parameters if p not in ("self", "cls")]
        except (TypeError, ValueError):
            continue
        unknown = [p for p in params if p not in argnames]
        if unknown:
            return (
                f"{name}({', '.join(params)}) must take the argument "
                f"{', '.join(map(repr, argnames))}, not {', '.join(map(repr, unknown))} "
                "(pluggy passes hook arguments by name)"
            )
    return None


def check_model_class(cls: Any) -> None:
    """Refuse at registration what would only fail at train time, naming the field or attribute."""
    model_module = sys.modules.get("ganzoo.model")  # loaded whenever a Model subclass exists
    if not (
        inspect.isclass(cls) and model_module is not None and issubclass(cls, model_module.Model)
    ):
        raise PluginError(f"register() expects a ganzoo.Model subclass, got {cls!r}")
    label = getattr(cls, "name", None)
    for attr in ("name", "family", "description", "Config"):
        if not hasattr(cls, attr):
            raise PluginError(f"model class {cls.__name__} has no {attr!r} class attribute")
    if not isinstance(label, str) or not label:
        raise PluginError(f"model class {cls.__name__}: 'name' must be a non-empty string")
    config = cls.Config
    if not (inspect.isclass(config) and dataclasses.is_dataclass(config)):
        raise PluginError(f"model {label!r}: Config must be a dataclass, got {config!r}")
    missing = [
        f.name
        for f in dataclasses.fields(config)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        fields = ", ".join(repr(m) for m in missing)
        raise PluginError(
            f"model {label!r}: Config field{'s' if len(missing) > 1 else ''} {fields} "
            f"{'have' if len(missing) > 1 else 'has'} no default; give every field a default "
            "(ganzoo builds Config() and users change values with --set)"
        )
    names = {f.name for f in dataclasses.fields(config)}
    stray = [f for f in getattr(cls, "sampling_fields", ()) if f not in names]
    if stray:
        raise PluginError(
            f"model {label!r}: sampling_fields names {', '.join(map(repr, stray))}, which "
            f"{'are' if len(stray) > 1 else 'is'} not a Config field; list only Config fields"
        )
