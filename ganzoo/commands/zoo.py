"""``ganzoo zoo``: every registered model trained briefly, scored, ranked (``ganzoo.train.zoo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..train.zoo import ZooOptions
from .options import options_from, pop_options


@click.command("zoo")
@options_from(ZooOptions)
def zoo_cmd(**options: Any) -> None:
    """Train every registered model on mnist5k for a short CPU budget, score it, show the board.

    \b
    Default: each model's own fixed step budget (ganzoo models -v lists it; a
    model that declares none: what fits in 2 minutes), 4 checkpoints each plus
    step 0, every one scored with the default extractor for the data
    (lenet-mnist).  Running it again resumes.
    """
    from ..errors import GanzooError
    from ..leaderboard.terminal import to_terminal
    from ..train.zoo import run_zoo

    opts = pop_options(ZooOptions, options)
    report = run_zoo(opts, echo=lambda s: click.echo(s, err=True))
    boards = Path(opts.leaderboards)
    if report.board is not None:
        click.echo(to_terminal(report.board, run_base=boards))
        click.echo(
            f"\nboard: {boards / report.board.stem}.{{md,csv,html}}, every checkpoint: "
            f"{boards / report.board.stem}.json and -curves.png "
            "(ganzoo leaderboard --all-checkpoints)"
        )
        if report.reference:
            click.echo(
                f"rows from `shipped` are {len(report.reference)} pretrained models (ganzoo "
                "models --pretrained), ranked from their cards; the step column says how long "
                "each trained (--no-reference leaves them out)"
            )
    click.echo(f"zoo finished in {report.seconds / 60:.1f} min", err=True)
    if report.failures:
        failed = "; ".join(f"{k}: {v}" for k, v in report.failures.items())
        raise GanzooError(f"{len(report.failures)} model(s) failed: {failed}")
