"""The ``ganzoo`` command line: the group, error handling, and plugin-provided commands.

Each subcommand lives in ``ganzoo/commands/``.  Nothing here imports torch, so
``ganzoo --help`` and ``ganzoo --version`` answer instantly.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from . import plugins
from .commands import check, datasets, extractors, launch, models, plugin, trackers
from .commands import plugins as plugins_commands
from .commands.compare import compare_cmd
from .commands.eval import eval_cmd
from .commands.export import export_cmd
from .commands.leaderboard import leaderboard_cmd
from .commands.options import options_from
from .commands.sample import sample_cmd
from .commands.train import train_cmd
from .commands.zoo import zoo_cmd
from .config import option
from .errors import (
    GanzooError,
    Interrupted,
    PluginError,
    Terminated,
    debug_enabled,
    print_traceback,
    secondary_rank,
    set_debug,
    warn,
)
from .versions import __version__


class GanzooGroup(click.Group):
    """Every user error ends as one line on stderr (``Error: ...``) and a non-zero exit.

    ``GanzooError`` exits 1, a usage error 2 (click's three-line usage block is
    reduced to its message), Ctrl-C 130 and SIGTERM 143.  Python warnings are
    printed as one ``ganzoo: warning:`` line, without the source line.  With
    ``GANZOO_DEBUG=1`` or ``--traceback`` the traceback comes first, for the
    author of the code that raised.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _as_click(Interrupted("interrupted")) from None
        except Terminated:
            raise _as_click(Interrupted("terminated (SIGTERM)", signal.SIGTERM)) from None
        except GanzooError as exc:
            if debug_enabled():
                print_traceback(exc)
            raise _as_click(exc) from None

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, cmd, rest = super().resolve_command(ctx, args)
        owner = plugins.command_owner(self, name) if name else None
        failed = plugins.failed(owner) if owner is not None else None
        if failed is not None:  # it failed in another hook after adding its commands
            raise PluginError(
                f"command {name!r} is unavailable: plugin {owner!r} ({failed.origin}) failed "
                f"{failed.stage}: {failed.error}"
            )
        return name, cmd, rest

    def main(
        self, args: Sequence[str] | None = None, *rest: Any, standalone_mode: bool = True, **kw: Any
    ) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        if secondary_rank():  # under torchrun only rank 0 prints; errors still reach stderr
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
        if not standalone_mode:
            _apply_global_options(args)
            return super().main(args, *rest, standalone_mode=False, **kw)
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            try:
                _apply_global_options(args)
                code = super().main(args, *rest, standalone_mode=False, **kw)
            except GanzooError as exc:  # before a command ran: plugin loading
                if debug_enabled():
                    print_traceback(exc)
                _exit_with(" ".join(str(exc).split()), getattr(exc, "exit_code", 1))
            except click.UsageError as exc:
                hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
                _exit_with(f"{exc.format_message()}{hint}", exc.exit_code)
            except click.ClickException as exc:
                _exit_with(exc.format_message(), exc.exit_code)
            except click.Abort:
                _exit_with("interrupted", 130)
        sys.exit(code if isinstance(code, int) else 0)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:  # fmt: skip
        """The root context, holding the command line as given (``--nproc`` workers rerun it)."""
        given = list(args)  # before parsing consumes it
        ctx = super().make_context(info_name, args, parent, **extra)
        launch.record_command_line(ctx, given)
        return ctx

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        # click would silently replace an existing command; a plugin must not shadow another.
        name = name or cmd.name
        existing = self.commands.get(name) if name else None
        if existing is not None and existing is not cmd:
            raise PluginError(f"command {name!r} already exists; choose another name")
        super().add_command(cmd, name)


@dataclass(kw_only=True)
class GlobalOptions:
    """Options before the command, read from the command line before click parses it (plugins
    load first, so that their commands exist to be parsed); click lists them in the help."""

    plugins_dir: tuple[str, ...] = option(
        (),
        "Also load each .py file in DIR as a plugin (as GANZOO_PLUGINS_DIR does).",
        metavar="DIR",
        expose=False,
    )
    traceback: bool = option(
        False,
        "Print the full traceback of errors and plugin failures (as GANZOO_DEBUG=1 does).",
        expose=False,
    )


@click.group(cls=GanzooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ganzoo")
@options_from(GlobalOptions)
def cli() -> None:
    """ganzoo: train, compare and share generative image models.

    \b
    Quick start (CPU, embedded MNIST, no downloads):
      ganzoo models                      # the zoo
      ganzoo train --model dcgan         # train one model
      ganzoo sample runs/<run> --out grid.png
    """


#: The built-in commands, in the order ``ganzoo --help`` lists them.
BUILTIN_COMMANDS = (
    plugins_commands.plugins_cmd,
    models.models_cmd,
    datasets.datasets_cmd,
    extractors.extractors_cmd,
    trackers.trackers_cmd,
    train_cmd,
    sample_cmd,
    eval_cmd,
    compare_cmd,
    leaderboard_cmd,
    zoo_cmd,
    check.check_cmd,
    plugin.plugin_group,
    export_cmd,
)
for command in BUILTIN_COMMANDS:
    cli.add_command(command)

#: A plugin failure that is fatal (GANZOO_STRICT_PLUGINS) while the plugins load at import;
#: reported by ``main``, once ``--traceback`` is known.
_startup_error: GanzooError | None = None


def _add_plugin_commands() -> None:
    global _startup_error
    try:
        plugins.add_plugin_commands(cli)
    except GanzooError as exc:
        _startup_error = exc


_add_plugin_commands()


def _global_options(args: list[str]) -> GlobalOptions:
    """``--traceback`` and the ``--plugins-dir`` values among the options before the command."""
    traceback, dirs, i = False, [], 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg == "--traceback":
            traceback = True
        elif arg == "--plugins-dir" and i + 1 < len(args):
            dirs.append(args[i + 1])
            i += 1
        elif arg.startswith("--plugins-dir="):
            dirs.append(arg.partition("=")[2])
        i += 1
    return GlobalOptions(plugins_dir=tuple(dirs), traceback=traceback)


def _apply_global_options(args: list[str]) -> None:
    given = _global_options(args)
    if given.traceback and not debug_enabled():
        set_debug()
        for failed in plugins.recorded_failures() if _startup_error is None else ():
            print(failed.traceback, end="", file=sys.stderr)  # warned at import, before we knew
    if _startup_error is not None:
        raise _startup_error
    for directory in given.plugins_dir:
        plugins.load_plugins_dir(directory)


def _as_click(exc: GanzooError) -> click.ClickException:
    error = click.ClickException(" ".join(str(exc).split()))
    error.exit_code = getattr(exc, "exit_code", 1)
    return error


def _exit_with(message: str, code: int) -> None:
    rank = f" (rank {os.environ['RANK']})" if secondary_rank() else ""
    click.echo(f"Error{rank}: {message}", err=True)
    sys.exit(code)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    warn(str(message))


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> None:
    """The ``ganzoo`` console script; ``argv`` (without the program name) defaults to sys.argv."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(args=None if argv is None else list(argv), prog_name="ganzoo")
    except SystemExit as exc:
        _end_if_broken(exc.code)
        raise
    finally:
        # Exiting now, with the one line said: a SIGTERM during the interpreter's clean-up (the
        # launcher stopping the survivors of a failed job) ends the process quietly instead of
        # raising inside an atexit callback, which Python would print as a traceback.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _end_if_broken(code: Any) -> None:
    """A rank whose peer was lost ends now, its line said, without tearing the broken process
    group down (see ``ganzoo.dist.world.broken``); only if torch was ever loaded."""
    world = sys.modules.get("ganzoo.dist.world")
    if world is not None and world.broken():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)
