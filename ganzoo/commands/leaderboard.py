"""``ganzoo leaderboard`` (show), ``ganzoo eval leaderboard`` (score and rebuild), ``ganzoo zoo``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..eval.request import EvalRequest
from ..zoo import ZooOptions
from .options import options_from, pop_options

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


@click.command("leaderboard")
@click.argument("run_dirs", nargs=-1, type=click.Path())
@click.option("--runs", "runs_root", type=click.Path(file_okay=False), help="Every run below DIR.")
@options_from(EvalRequest, exclude=("ema",))
@click.option(
    "--all-checkpoints", is_flag=True, help="Score every checkpoint, not only the latest."
)
@click.option("--sort", type=SORT_CHOICES, help="Rank by this metric (default: FID when measured).")
@click.option("--out", default="leaderboards", show_default=True, type=click.Path(file_okay=False))
@click.option(
    "--rebuild",
    is_flag=True,
    help="Recover damaged boards in OUT: move each aside (.damaged) and rebuild it from the runs' "
    "results; scores nothing.",
)
def eval_leaderboard_cmd(
    run_dirs, runs_root, all_checkpoints, sort, out, rebuild, **options
) -> None:
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


@click.command("zoo")
@options_from(ZooOptions)
@click.option("--threads", type=click.IntRange(min=1),
              help="CPU threads for torch (default: torch's; on cores shared with other jobs, fewer is faster).")  # fmt: skip
def zoo_cmd(threads, **options) -> None:
    """Train every registered model on mnist5k for a short CPU budget, score it, show the board.

    \b
    Default: each model's own fixed step budget (gan 3000, dcgan 2000, wgan-gp
    800, vae 1000, transformer 500; a plugin model without one: what fits in 2
    minutes), 4 checkpoints each plus step 0, every one scored with the default
    extractor for the data (lenet-mnist).  Running it again resumes.
    """
    from ..errors import GanzooError
    from ..leaderboard.text import to_terminal
    from ..zoo import run_zoo

    opts = pop_options(ZooOptions, options)
    if opts.steps is not None and opts.minutes is not None:
        raise GanzooError("use either --steps or --minutes, not both")
    from ..device import cpu_threads

    with cpu_threads(threads):  # on shared cores fewer threads train several times faster
        report = run_zoo(opts, echo=lambda s: click.echo(s, err=True))
    boards = Path(opts.leaderboards)
    if report.board is not None:
        click.echo(to_terminal(report.board, run_base=boards))
        click.echo(
            f"\nboard: {boards / report.board.stem}.{{md,csv,html}}, every checkpoint: "
            f"{boards / report.board.stem}.json and -curves.png "
            "(ganzoo leaderboard --all-checkpoints)"
        )
    click.echo(f"zoo finished in {report.seconds / 60:.1f} min", err=True)
    if report.failures:
        failed = "; ".join(f"{k}: {v}" for k, v in report.failures.items())
        raise GanzooError(f"{len(report.failures)} model(s) failed: {failed}")


COMMANDS = [leaderboard_cmd, zoo_cmd]
