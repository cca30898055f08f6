"""``ganzoo leaderboard``: show the boards that ``ganzoo eval leaderboard`` and ``ganzoo zoo`` write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..leaderboard import DamagedBoardError

SORT_CHOICES = click.Choice(
    [
        "fid",
        "fid_inf",
        "is",
        "kid",
        "precision",
        "recall",
        "bpd",
        "intra_fid",
        "accuracy",
        "class_tv",
    ],
    case_sensitive=False,
)


def _view(latest: bool, best: bool, every: bool) -> str:
    """The rows shown; two of the flags ask for different rows, which is a mistake, not a choice."""
    from ..errors import GanzooError

    flags = {"--latest": latest, "--best": best, "--all-checkpoints": every}
    given = [name for name, on in flags.items() if on]
    if len(given) > 1:
        raise GanzooError(
            f"{' and '.join(given)} choose different rows; give one of --latest, --best, "
            "--all-checkpoints"
        )
    return "best" if best else "all" if every else "final"


def _warn_damaged(damaged: list[DamagedBoardError]) -> None:
    from ..errors import warn

    for exc in damaged:
        warn(str(exc))


@click.command("leaderboard")
@click.option("--dataset", help="Only this dataset's leaderboards.")
@click.option("--extractor", help="Only this extractor's leaderboards.")
@click.option("--sort", type=SORT_CHOICES, help="Rank by this metric (default: as written).")
@click.option(
    "--format", "fmt", default="table", show_default=True,
    type=click.Choice(["table", "md", "csv", "html", "json"]),
)  # fmt: skip
@click.option(
    "--latest", is_flag=True, help="One row per run: its latest scored checkpoint (the default)."
)
@click.option(
    "--best",
    is_flag=True,
    help="One row per run: its best checkpoint, chosen on the evaluation reference (optimistic).",
)
@click.option("--all-checkpoints", "every", is_flag=True, help="Every scored checkpoint.")
@click.option(
    "--dir",
    "directory",
    default="leaderboards",
    show_default=True,
    type=click.Path(file_okay=False),
)
def leaderboard_cmd(dataset, extractor, sort, fmt, latest, best, every, directory) -> None:
    """Show a leaderboard written by `ganzoo eval leaderboard` or `ganzoo zoo`.

    Only reads: each table's real-data floor shows when `ganzoo eval
    leaderboard` has scored it.  --format json prints the rows shown; the
    .json file itself keeps every checkpoint.
    """
    from .. import leaderboard as lb
    from ..errors import GanzooError
    from ..leaderboard import text

    view = _view(latest, best, every)
    boards, damaged = lb.scan(directory)
    names = ", ".join(b.stem for b in boards) or "none"
    chosen = [
        b
        for b in boards
        if (dataset is None or b.dataset == dataset)
        and (extractor is None or b.extractor == extractor)
    ]
    if damaged and not chosen:
        _warn_damaged(damaged[1:])
        raise damaged[0]
    _warn_damaged(damaged)
    if not chosen:
        raise GanzooError(
            f"no leaderboard in {directory!r} matches (available: {names}); "
            "create one with `ganzoo eval leaderboard RUN_DIR ...` or `ganzoo zoo`"
        )
    if fmt in ("csv", "html", "json") and len(chosen) > 1:
        raise GanzooError(
            f"several leaderboards match ({names}); pick one with --dataset/--extractor"
        )
    for board in chosen:
        if fmt == "table":
            click.echo(text.to_terminal(board, sort, view, run_base=Path(directory)) + "\n")
        elif fmt == "md":
            click.echo(text.to_markdown(board, sort, view))
        elif fmt == "csv":
            click.echo(text.to_csv(board, sort, view), nl=False)
        elif fmt == "json":
            data = board.as_dict()
            data["rows"] = [
                row
                for pid in board.protocol_ids()
                for row in lb.records(board.table(pid, sort, view))
            ]
            click.echo(json.dumps(data, indent=2, sort_keys=True))
        else:
            from ..leaderboard.page import render

            plot = Path(directory) / f"{board.stem}-curves.png"
            shown = plot if plot.is_file() else None
            click.echo(render(board, Path(directory), shown, sort, view), nl=False)
