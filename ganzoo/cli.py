"""The ``ganzoo`` command line: the group, error handling, and plugin-provided commands.

Each subcommand lives in ``ganzoo/commands/``.  Nothing here imports torch, so
``ganzoo --help`` and ``ganzoo --version`` answer instantly.
"""

from __future__ import annotations

import click

from . import __version__, plugins
from .commands import info, leaderboard, train
from .commands.eval import eval_cmd
from .errors import GanzooError, PluginError


class GanzooGroup(click.Group):
    """Turns user errors (``GanzooError``) into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanzooError as exc:
            raise click.ClickException(str(exc)) from None

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        # click would silently replace an existing command; a plugin must not shadow another.
        name = name or cmd.name
        existing = self.commands.get(name) if name else None
        if existing is not None and existing is not cmd:
            raise PluginError(f"command {name!r} already exists; choose another name")
        super().add_command(cmd, name)


@click.group(cls=GanzooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ganzoo")
def cli() -> None:
    """ganzoo: train, compare and share generative image models.

    \b
    Quick start (CPU, embedded MNIST, no downloads):
      ganzoo models                      # the zoo
      ganzoo train --model dcgan         # train one model
      ganzoo sample runs/<run> --out grid.png
    """


for command in (
    info.plugins_cmd,
    info.models_cmd,
    info.datasets_cmd,
    *train.COMMANDS,
    eval_cmd,
    *leaderboard.COMMANDS,
):
    cli.add_command(command)


def _add_plugin_commands() -> None:
    try:
        plugins.load_plugins()
        plugins.call_hook_isolated("register_commands", cli=cli)
    except GanzooError as exc:  # strict mode: report and stop
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None


_add_plugin_commands()


def main() -> None:
    cli(prog_name="ganzoo")
