"""Plugin commands, added all or nothing and removable with their plugin.

A plugin's ``register_commands`` hook writes into a staging group first: if the
hook raises, or one of its names is taken, none of its commands reach the
``ganzoo`` group (docs/plugins.md promises a failed plugin contributes nothing),
and ganzoo remembers which plugin added which command (in ``STATE``) so that
unregistering a plugin, or finding later that it failed in another hook, takes
its commands too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import PluginError
from .failures import fail
from .registries import COMMANDS_HOOK, impls
from .state import STATE

if TYPE_CHECKING:  # pragma: no cover
    import click


def _staging(target: click.Group) -> click.Group:
    """A group that collects one plugin's commands, refusing a taken name before any is added."""
    import click  # here, not at the top: ``import ganzoo`` (which imports this) stays free of click

    class Staging(click.Group):
        def add_command(self, cmd: click.Command, name: str | None = None) -> None:
            name = name or cmd.name
            if name in target.commands or name in self.commands:
                raise PluginError(f"command {name!r} already exists; choose another name")
            super().add_command(cmd, name)

    return Staging(target.name)


def add(group: click.Group, plugin: str, hook: Callable[..., Any]) -> None:
    """Run ``hook(cli=...)`` for ``plugin`` and add what it made to ``group``; raises on failure."""
    if (id(group), plugin) in STATE.commands_done:
        return
    STATE.commands_done.add((id(group), plugin))
    staging = _staging(group)
    hook(cli=staging)
    for name, cmd in staging.commands.items():
        group.commands[name] = cmd
        STATE.command_owners[(id(group), name)] = plugin


def add_from(group: click.Group, plugin_name: str) -> None:
    """Give ``group`` the commands of ``plugin_name`` unless it failed; a failure here fails it."""
    info = STATE.infos[plugin_name]
    for name, function in impls(COMMANDS_HOOK):
        if name == plugin_name and not info.error:
            try:
                add(group, plugin_name, function)
            except Exception as exc:
                fail(info, f"in {COMMANDS_HOOK}", exc)


def owner(group: click.Group, name: str) -> str | None:
    """The plugin that added command ``name`` to ``group`` (None: ganzoo's own or unknown)."""
    return STATE.command_owners.get((id(group), name))
