"""``ganzoo eval TARGET``: score a run, checkpoint, sample folder or ``.npz`` under a recorded protocol.

``eval`` is a group so that later subcommands (``ganzoo eval leaderboard``)
fit beside it: a first argument that is not a subcommand is the TARGET (a run
directory literally named like a subcommand is reached as ``./NAME``).
"""

from __future__ import annotations

import contextlib
import json

import click

from ..eval.request import EvalRequest
from .eval_leaderboard import eval_leaderboard_cmd
from .launch import command_line, nproc_option, relaunched
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
@click.option("--checkpoint", type=int, help="Checkpoint step of a run (default: latest).")
@click.option("--all-checkpoints", is_flag=True, help="Every checkpoint of a run: a curve.")
@click.option("--json", "as_json", is_flag=True, help="Numbers and protocol as JSON on stdout.")
@nproc_option
def score_cmd(
    target: str, checkpoint: int | None, all_checkpoints: bool, as_json: bool, nproc: int,
    **options: object,
) -> None:  # fmt: skip
    """Score TARGET; run directories get RUN/eval/<protocol-hash>.json.

    On several processes (--nproc N, or torchrun -m ganzoo eval ...) each samples and
    encodes its share; the numbers equal one process's (docs/distributed.md).
    """
    from ..errors import GanzooError
    from ..eval.api import evaluate, evaluate_all_checkpoints
    from ..eval.progress import silenced

    if relaunched(nproc, command_line()):
        return
    request = pop_options(EvalRequest, options)
    if all_checkpoints and checkpoint is not None:
        raise GanzooError("use either --checkpoint or --all-checkpoints, not both")
    with silenced() if as_json else contextlib.nullcontext():
        if all_checkpoints:
            results = evaluate_all_checkpoints(target, request)
        else:
            results = [evaluate(target, request, checkpoint=checkpoint)]
    if as_json:
        data = [r.as_dict() for r in results]
        for item, result in zip(data, results, strict=True):
            item["written_to"] = str(result.path) if result.path else None
        click.echo(json.dumps(data if all_checkpoints else data[0], indent=2, sort_keys=True))
        return
    for result in results:
        click.echo(result.summary())


eval_cmd.add_command(eval_leaderboard_cmd)
