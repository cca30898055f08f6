"""``ganzoo leaderboard`` as a library call: the boards in a folder, chosen and rendered.

``ViewOptions`` is defined once, here, for ``render_boards`` and for the
command, which derives its options from the fields (``ganzoo.commands.options``).
This module imports no pandas until it renders, so building the command line
(``ganzoo --help``) stays fast; the board modules are imported inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..config import option
from ..errors import GanzooError, warn

#: Every metric a board can be ranked by (``table.METRICS``' keys, listed here without pandas).
SORT_METRICS = (
    "fid",
    "fid_inf",
    "is",
    "kid",
    "precision",
    "recall",
    "density",
    "coverage",
    "cmmd",
    "copy_rate",
    "bpd",
    "intra_fid",
    "accuracy",
    "class_tv",
)
FORMATS = ("table", "md", "csv", "html", "json")


@dataclass(kw_only=True)
class ViewOptions:
    """Which boards of a folder are shown, which of their rows, and as what."""

    dataset: str | None = option(None, "Only this dataset's leaderboards.")
    extractor: str | None = option(None, "Only this extractor's leaderboards.")
    sort: str | None = option(
        None,
        "Rank by this metric (default: as written).",
        choices=SORT_METRICS,
        case_sensitive=False,
    )
    format: Literal["table", "md", "csv", "html", "json"] = option("table", "Output format.")
    latest: bool = option(False, "One row per run: its latest scored checkpoint (the default).")
    best: bool = option(
        False,
        "One row per run: its best checkpoint, chosen on the evaluation reference (optimistic).",
    )
    all_checkpoints: bool = option(False, "Every scored checkpoint.")
    runs: bool = option(
        False,
        "One row per run, its latest checkpoint, also where runs differ only in their training "
        "seed (default: those pooled into one entry, mean ± std over the seeds).",
    )
    wide: bool = option(
        False, "Every column in the terminal table (default: the main ones, within 120 columns)."
    )
    dir: str = option("leaderboards", "The folder of boards.", directory=True)

    def __post_init__(self) -> None:
        _rows(self)  # two view flags asking for different rows: refused before anything is read

    @property
    def rows(self) -> str:
        """The rows shown: ``final`` (each run's latest), ``best``, ``runs`` or ``all``."""
        return _rows(self)


def _rows(opts: ViewOptions) -> str:
    flags = {"--latest": opts.latest, "--best": opts.best}
    flags["--all-checkpoints"] = opts.all_checkpoints
    flags["--runs"] = opts.runs
    given = [name for name, on in flags.items() if on]
    if len(given) > 1:
        raise GanzooError(
            f"{' and '.join(given)} choose different rows; give one of --latest, --best, "
            "--runs, --all-checkpoints"
        )
    if opts.runs:
        return "runs"
    return "best" if opts.best else "all" if opts.all_checkpoints else "final"


def render_boards(opts: ViewOptions) -> str:
    """The chosen boards rendered; damaged boards are warned about, never rewritten.

    Only reads: a table's real-data floor shows when ``ganzoo eval leaderboard``
    has scored it.
    """
    from .store import scan

    boards, damaged = scan(opts.dir)
    chosen = [
        b
        for b in boards
        if opts.dataset in (None, b.dataset) and opts.extractor in (None, b.extractor)
    ]
    names = ", ".join(b.stem for b in boards) or "none"
    if damaged and not chosen:
        for exc in damaged[1:]:
            warn(str(exc))
        raise damaged[0]
    for exc in damaged:
        warn(str(exc))
    if not chosen:
        raise GanzooError(
            f"no leaderboard in {opts.dir!r} matches (available: {names}); "
            "create one with `ganzoo eval leaderboard RUN_DIR ...` or `ganzoo zoo`"
        )
    if opts.format in ("csv", "html", "json") and len(chosen) > 1:
        raise GanzooError(
            f"several leaderboards match ({names}); pick one with --dataset/--extractor"
        )
    return "".join(_render(board, opts) for board in chosen)


def _render(board, opts: ViewOptions) -> str:
    """One board in ``opts.format``; the terminal and Markdown views end in a blank line."""
    import json

    from . import terminal, text
    from .table import records

    sort, rows, folder = opts.sort, opts.rows, Path(opts.dir)
    if opts.format == "table":
        return terminal.to_terminal(board, sort, rows, run_base=folder, wide=opts.wide) + "\n\n"
    if opts.format == "md":
        return text.to_markdown(board, sort, rows) + "\n"
    if opts.format == "csv":
        return text.to_csv(board, sort, rows)
    if opts.format == "json":
        data = board.as_dict()
        data["rows"] = [
            r for pid in board.protocol_ids() for r in records(board.table(pid, sort, rows))
        ]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    from .page import render

    plot = folder / f"{board.stem}-curves.png"
    cost = folder / f"{board.stem}-cost.png"
    found = [p if p.is_file() else None for p in (plot, cost)]
    return render(board, folder, found[0], sort, rows, cost=found[1])
