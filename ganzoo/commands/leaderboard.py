"""``ganzoo leaderboard``: show the boards ``ganzoo eval leaderboard`` and ``ganzoo zoo`` write."""

from __future__ import annotations

from typing import Any

import click

from ..leaderboard.view import ViewOptions
from .options import options_from, pop_options


@click.command("leaderboard")
@options_from(ViewOptions)
def leaderboard_cmd(**options: Any) -> None:
    """Show a leaderboard written by `ganzoo eval leaderboard` or `ganzoo zoo`.

    Only reads: each table's real-data floor shows when `ganzoo eval
    leaderboard` has scored it.  --format json prints the rows shown; the
    .json file itself keeps every checkpoint.
    """
    from ..leaderboard.view import render_boards

    click.echo(render_boards(pop_options(ViewOptions, options)), nl=False)
