"""``ganzoo compare A B``: is A better than B, or can these images not tell (``ganzoo.eval.compare``)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import click

from ..errors import GanzooError
from ..eval.compare import CompareOptions
from ..eval.request import EvalRequest
from .options import options_from, pop_options


@click.command("compare")
@click.argument("targets", nargs=-1, metavar="A B")
@options_from(EvalRequest)
@options_from(CompareOptions)
def compare_cmd(targets: tuple[str, ...], **options: Any) -> None:
    """Compare A and B metric by metric: A-B, its paired 95% interval, and whether it is real.

    A and B are anything ganzoo eval scores: run directories, checkpoints, model
    folders, pretrained names, image folders, .npz files; both are scored under
    the same options.  A run's stored result under these options is reused;
    otherwise it is scored, and its result written once both are scored and
    comparable.  The same target twice compares two independent draws of it.
    """
    from ..eval.compare import compare
    from ..eval.progress import silenced

    if len(targets) != 2:
        given = f"got {len(targets)}" + (f" ({' '.join(targets)})" if targets else "")
        raise GanzooError(
            f"compare takes two targets, A and B, e.g. ganzoo compare dcgan-mnist5k "
            f"gan-mnist5k; {given}"
        )
    request = pop_options(EvalRequest, options)
    chosen = pop_options(CompareOptions, options)
    with silenced() if chosen.as_json else contextlib.nullcontext():
        comparison = compare(*targets, request)
    if chosen.as_json:
        click.echo(json.dumps(comparison.as_dict(), indent=2, sort_keys=True))
        return
    click.echo("\n".join(comparison.lines()))
