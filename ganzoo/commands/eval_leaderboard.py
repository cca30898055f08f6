"""``ganzoo eval leaderboard``: score the runs a board lacks, then rebuild it (``leaderboard.refresh``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..eval.request import EvalRequest
from ..leaderboard.scoring import ScoringOptions
from .options import options_from, pop_options


@click.command("leaderboard")
@click.argument("run_dirs", nargs=-1, type=click.Path())
@options_from(ScoringOptions)
@options_from(EvalRequest, exclude=("ema",))
def eval_leaderboard_cmd(run_dirs: tuple[str, ...], **options: Any) -> None:
    """Score every run (checkpoint) lacking a result under this protocol, then rebuild the leaderboard.

    Results already in RUN/eval/ under the same protocol are reused.  Writes
    OUT/<dataset>-<extractor>.{json,csv,md,html} and -curves.png; each
    protocol's real-data floor (held-out real images scored the same way) is
    scored once and cached in OUT/floors/.  A damaged
    OUT/<dataset>-<extractor>.json stops it before anything is scored or
    written.  --rebuild moves each damaged board in OUT aside (renamed to
    .damaged, never deleted) and rebuilds it from the runs' RUN/eval/*.json
    alone, scoring nothing: rows of runs that no longer exist are lost.
    """
    from ..leaderboard.scoring import score_boards
    from ..leaderboard.terminal import to_terminal

    chosen = pop_options(ScoringOptions, options)
    request = pop_options(EvalRequest, options)
    echo = lambda s: click.echo(s, err=True)  # noqa: E731
    for board in score_boards(run_dirs, request, chosen, echo):
        click.echo(to_terminal(board, run_base=Path(chosen.out)))
        click.echo(
            f"\nwritten: {Path(chosen.out) / board.stem}.{{json,csv,md,html}} and -curves.png\n"
        )
