"""``ganzoo eval leaderboard``: score the runs a board lacks, then rebuild it (``leaderboard.refresh``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..eval.request import EvalRequest
from ..leaderboard.view import SORT_METRICS
from .options import options_from, pop_options


@click.command("leaderboard")
@click.argument("run_dirs", nargs=-1, type=click.Path())
@click.option("--runs", "runs_root", type=click.Path(file_okay=False), help="Every run below DIR.")
@options_from(EvalRequest, exclude=("ema",))
@click.option(
    "--all-checkpoints", is_flag=True, help="Score every checkpoint, not only the latest."
)
@click.option(
    "--sort",
    type=click.Choice(SORT_METRICS, case_sensitive=False),
    help="Rank by this metric (default: FID when measured).",
)
@click.option("--out", default="leaderboards", show_default=True, type=click.Path(file_okay=False))
@click.option(
    "--rebuild",
    is_flag=True,
    help="Recover damaged boards in OUT: move each aside (.damaged) and rebuild it from the runs' "
    "results; scores nothing.",
)
def eval_leaderboard_cmd(
    run_dirs: tuple[str, ...], runs_root: str | None, all_checkpoints: bool, sort: str | None,
    out: str, rebuild: bool, **options: Any,
) -> None:  # fmt: skip
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
    from ..errors import GanzooError
    from ..leaderboard.refresh import find_runs, rebuild_damaged, score_and_rebuild
    from ..leaderboard.text import to_terminal

    if not run_dirs and runs_root is None:
        raise GanzooError("give run directories (RUN_DIR ...) or --runs DIR")
    runs = find_runs(run_dirs, runs_root, out)
    request = pop_options(EvalRequest, options)
    echo = lambda s: click.echo(s, err=True)  # noqa: E731
    if rebuild:
        boards = rebuild_damaged(runs, request, out, sort=sort, echo=echo)
    else:
        boards = score_and_rebuild(runs, request, out, sort, echo, all_checkpoints)
    for board in boards:
        click.echo(to_terminal(board, run_base=Path(out)))
        click.echo(f"\nwritten: {Path(out) / board.stem}.{{json,csv,md,html}} and -curves.png\n")
