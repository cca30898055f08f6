"""The ``ganzoo`` command line: the group, error handling, and plugin-provided commands.

Each subcommand lives in ``ganzoo/commands/``.  Nothing here imports torch, so
``ganzoo --help`` and ``ganzoo --version`` answer instantly.
"""

from __future__ import annotations

import signal
import sys
import warnings
from typing import Any

import click

from . import __version__, plugins
from .commands import info, leaderboard, train
from .commands.eval import eval_cmd
from .errors import GanzooError, Interrupted, PluginError, Terminated, warn


class GanzooGroup(click.Group):
    """Every user error ends as one line on stderr (``Error: ...``) and a non-zero exit.

    ``GanzooError`` exits 1, a usage error 2 (click's three-line usage block is
    reduced to its message), Ctrl-C 130 and SIGTERM 143.  Python warnings are
    printed as one ``ganzoo: warning:`` line, without the source line.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _as_click(Interrupted("interrupted")) from None
        except Terminated:
            raise _as_click(Interrupted("terminated (SIGTERM)", signal.SIGTERM)) from None
        except GanzooError as exc:
            raise _as_click(exc) from None

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            try:
                code = super().main(*args, standalone_mode=False, **kwargs)
            except click.UsageError as exc:
                hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
                _exit_with(f"{exc.format_message()}{hint}", exc.exit_code)
            except click.ClickException as exc:
                _exit_with(exc.format_message(), exc.exit_code)
            except click.Abort:
                _exit_with("interrupted", 130)
        sys.exit(code if isinstance(code, int) else 0)

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


def _as_click(exc: GanzooError) -> click.ClickException:
    error = click.ClickException(" ".join(str(exc).split()))
    error.exit_code = getattr(exc, "exit_code", 1)
    return error


def _exit_with(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    warn(str(message))


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="ganzoo")
