"""The plugin wing's public face: ``ganzoo.plugins.<name>`` for the rest of ganzoo and tests.

Plugins themselves use only ``ganzoo.hookimpl`` and ``ganzoo.register_plugin``;
this face is for ganzoo's own modules.  The wing's parts:

* ``hookspecs``: every extension point, one hookspec each.
* ``state``: ``STATE``, the one object holding the plugin manager, what is known
  of each plugin, the staged registrations, the registries and plugin commands.
* ``manager``: loading entry points, a plugins directory, in-process plugins.
* ``registries``: running the registration hooks into registries; clashes.
* ``query``: what the rest of ganzoo asks (``registry``, ``lookup``, statuses).
* ``commands``: plugin commands, all or nothing.  ``checks``: plugin mistakes.
  ``failures``: how a failure is reported and what it takes away.

Two plugins registering the same name never override each other silently:
the name is marked as a conflict and using it is an error naming both.
Nothing about a clash depends on which plugin was registered first (entry
point order is an accident of the install): every clashing plugin is listed,
sorted, and the entry shown is the one of the first plugin in that order.
"""

from .commands import owner as command_owner
from .manager import (
    add_plugin_commands,
    load_plugins,
    load_plugins_dir,
    register_plugin,
    reset,
    unregister_plugin,
)
from .query import collect, failed, lookup, plugin_infos, recorded_failures, registry
from .registries import clash_text
from .state import GROUP, STATE, PluginInfo, Registered

#: The pluggy manager; ``STATE`` owns it and never replaces it, so this name stays true.
pm = STATE.pm

__all__ = [
    "GROUP",
    "STATE",
    "PluginInfo",
    "Registered",
    "add_plugin_commands",
    "clash_text",
    "collect",
    "command_owner",
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
