"""``ganzoo eval TARGET``: score a run, checkpoint, sample folder or ``.npz`` under a recorded protocol.

``eval`` is a group so that later subcommands (``ganzoo eval leaderboard``)
fit beside it: a first argument that is not a subcommand is the TARGET (a run
directory literally named like a subcommand is reached as ``./NAME``).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import click

from ..eval.request import EvalRequest
from ..eval.score import ScoreOptions
from .eval_leaderboard import eval_leaderboard_cmd
from .launch import LaunchOptions, command_line, relaunched
from .options import options_from, pop_options


class EvalGroup(click.Group):
    """A group whose unknown first argument is the TARGET of the default ``score`` command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["score", *args]
        return super().parse_args(ctx, args)


@click.group("eval", cls=EvalGroup, context_settings={"help_option_names": ["-h", "--help"]})
def eval_cmd() -> None:
    """Score generated images: IS, FID, KID, precision/recall (torch-fidelity); intra-FID, accuracy.

    \b
    ganzoo eval TARGET [OPTIONS]      (same as: ganzoo eval score TARGET)
    TARGET: a run directory, a checkpoint file, a folder of images or an .npz.
    Options: ganzoo eval score --help
    """


@eval_cmd.command("score")
@click.argument("target", type=click.Path())
@options_from(EvalRequest)
@options_from(ScoreOptions)
@options_from(LaunchOptions)
def score_cmd(target: str, **options: Any) -> None:
    """Score TARGET; run directories get RUN/eval/<protocol-hash>.json.

    On several processes (--nproc N, or torchrun -m ganzoo eval ...) each samples and
    encodes its share; the numbers equal one process's (docs/distributed.md).
    """
    from ..eval.progress import silenced
    from ..eval.score import as_json, score

    request = pop_options(EvalRequest, options)
    chosen = pop_options(ScoreOptions, options)
    if relaunched(pop_options(LaunchOptions, options).nproc, command_line()):
        return
    with silenced() if chosen.as_json else contextlib.nullcontext():
        results = score(target, request, chosen)
    if chosen.as_json:
        click.echo(json.dumps(as_json(results, chosen), indent=2, sort_keys=True))
        return
    for result in results:
        click.echo(result.summary())


eval_cmd.add_command(eval_leaderboard_cmd)
