"""Plugin commands, added all or nothing and removable with their plugin.

A plugin's ``register_commands`` hook writes into a staging group first: if the
hook raises, or one of its names is taken, none of its commands reach the
``ganzoo`` group (docs/plugins.md promises a failed plugin contributes nothing),
and ganzoo remembers which plugin added which command so that unregistering a
plugin, or finding later that it failed in another hook, takes its commands too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .errors import PluginError

#: (group, command name) -> the plugin that added it.
_owners: dict[tuple[int, str], str] = {}
#: (group, plugin) pairs whose hook has run, commands or not.
_done: set[tuple[int, str]] = set()
#: Groups that receive plugin commands (the ``ganzoo`` CLI once it is imported).
groups: list[click.Group] = []


class _Staging(click.Group):
    """Collects one plugin's commands; a name already taken is refused before any is added."""

    def __init__(self, target: click.Group) -> None:
        super().__init__(target.name)
        self.target = target

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name in self.target.commands or name in self.commands:
            raise PluginError(f"command {name!r} already exists; choose another name")
        super().add_command(cmd, name)


def add(group: click.Group, plugin: str, hook: Callable[..., Any]) -> None:
    """Run ``hook(cli=...)`` for ``plugin`` and add what it made to ``group``; raises on failure."""
    if (id(group), plugin) in _done:
        return
    _done.add((id(group), plugin))
    staging = _Staging(group)
    hook(cli=staging)
    for name, cmd in staging.commands.items():
        group.commands[name] = cmd
        _owners[(id(group), name)] = plugin


def owner(group: click.Group, name: str) -> str | None:
    return _owners.get((id(group), name))


def remove(plugin: str | None = None) -> None:
    """Take the commands of ``plugin`` (all plugins: None) out of every group."""
    _done.difference_update({done for done in _done if plugin is None or done[1] == plugin})
    for group in groups:
        for key, who in list(_owners.items()):
            if key[0] == id(group) and (plugin is None or who == plugin):
                group.commands.pop(key[1], None)
                del _owners[key]
