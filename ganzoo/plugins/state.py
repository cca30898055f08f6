"""Everything the plugin machinery remembers, in one object.

The manager, the registries and the command bookkeeping used to be module
globals changed from three modules; a test that wanted a clean slate had to
know them all.  ``STATE`` (one ``PluginState``) now owns every piece, so
``STATE.reset()`` is the one way back to "nothing loaded", and a reader finds
all of it here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs

GROUP = "ganzoo"

#: One plugin's staged registrations for one hook: (name, object, extra fields).
Staged = list[tuple[str, Any, dict[str, Any]]]


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


def _manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    return pm


@dataclass
class PluginState:
    """The plugin manager and all that ganzoo derives from its plugins.

    ``pm`` is never replaced (``ganzoo.plugins.pm`` names it for the life of the
    process); ``reset`` empties it instead.
    """

    pm: pluggy.PluginManager = field(default_factory=_manager)
    #: plugin name -> what is known about it, failed plugins included.
    infos: dict[str, PluginInfo] = field(default_factory=dict)
    #: hook -> plugin -> what its implementation registered (each hook runs once per plugin).
    staged: dict[str, dict[str, Staged]] = field(default_factory=dict)
    #: hook -> name -> entry, built from ``staged`` without failed plugins; cleared on any change.
    registries: dict[str, dict[str, Registered]] = field(default_factory=dict)
    #: Whether the entry points (and GANZOO_PLUGINS_DIR) have been loaded.
    loaded: bool = False
    #: Groups that receive plugin commands (the ``ganzoo`` CLI once it is imported).
    groups: list[Any] = field(default_factory=list)
    #: (group id, command name) -> the plugin that added it.
    command_owners: dict[tuple[int, str], str] = field(default_factory=dict)
    #: (group id, plugin) pairs whose ``register_commands`` has run, commands or not.
    commands_done: set[tuple[int, str]] = field(default_factory=set)

    def specs(self) -> dict[str, list[str]]:
        """Each hookspec's name and argument names."""
        return {
            name: list(caller.spec.argnames)
            for name, caller in vars(self.pm.hook).items()
            if not name.startswith("_") and caller.spec is not None
        }

    def changed(self) -> None:
        """Forget what the registration hooks gave: the set of plugins is different now."""
        self.staged.clear()
        self.registries.clear()

    def drop_commands(self, plugin: str | None = None) -> None:
        """Take the commands of ``plugin`` (all plugins: None) out of every group."""
        self.commands_done -= {done for done in self.commands_done if plugin in (None, done[1])}
        for group in self.groups:
            for key, who in list(self.command_owners.items()):
                if key[0] == id(group) and plugin in (None, who):
                    group.commands.pop(key[1], None)
                    del self.command_owners[key]

    def reset(self) -> None:
        """Back to nothing loaded (the groups stay, without plugin commands): what tests call."""
        for name, _plugin in list(self.pm.list_name_plugin()):
            self.pm.unregister(name=name)
        self.drop_commands()
        self.infos.clear()
        self.changed()
        self.loaded = False


#: The one instance; every module of the plugin wing reads and changes this.
STATE = PluginState()
