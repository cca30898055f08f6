"""A board as the terminal shows it: every line within 120 columns unless ``--wide`` is asked.

A table wider than the terminal wraps into an unreadable block, so by default
a table keeps the columns a reader compares first (rank, group, model, step,
NFE and the ranking metric), adds the other columns in order of use while
they fit, and names in one line the ones left out; ``--wide`` shows every
column.  The paragraphs above a table are wrapped to the same width.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from . import notes
from .protocols import describe_protocol
from .table import LABELS, METRICS, Board
from .text import display_frame

#: Columns of a terminal (``ganzoo leaderboard``, the zoo's last screen) by default.
WIDTH = 120
#: Always shown, in this order (the ranking metric joins them).
MAIN = ("rank", "group", "model", "from", "step", "NFE", "s/image")
#: Added after the metrics while the table fits.
LATER = ("sampling", "params", "train time", "family", "plugin", "device", "run")


def to_terminal(
    board: Board,
    sort: str | None = None,
    view: str = "final",
    run_base: Path | None = None,
    wide: bool = False,
) -> str:
    """Every table of ``board`` with the paragraphs a reader needs above it."""
    parts = [f"Leaderboard {board.stem} ({board.dataset}, extractor {board.extractor})"]
    if not board.rows:
        parts.append("  no results yet")
    for pid in board.protocol_ids():
        frame = board.table(pid, sort, view, floor=True)
        metric = frame.attrs["sort"]
        better = "lower" if METRICS[metric][1] else "higher"
        paragraphs = [
            f"protocol {pid}: {describe_protocol(board.protocols[pid])}",
            f"ranked by {LABELS[metric]} ({better} is better). {notes.view(frame)}",
            notes.floor(board, pid),
            *notes.above_floor(frame),
        ]
        parts.append("")
        parts += [_wrapped(p) for p in paragraphs]
        shown = display_frame(frame, run_base)
        parts.append("")
        parts += _table(shown, LABELS[metric], wide)
    return "\n".join(parts)


def _wrapped(paragraph: str) -> str:
    return textwrap.fill(paragraph, WIDTH, break_on_hyphens=False, subsequent_indent="  ")


def _table(shown: pd.DataFrame, ranked_by: str, wide: bool) -> list[str]:
    """The table's lines, and a line naming the columns left out to fit ``WIDTH``."""
    if wide:
        return [shown.to_string(index=False)]
    kept = [c for c in (*MAIN, ranked_by) if c in shown.columns]
    metrics = [c for c in shown.columns if c not in (*MAIN, *LATER, ranked_by)]
    left_out = []
    for column in [*metrics, *(c for c in LATER if c in shown.columns)]:
        trial = [c for c in shown.columns if c in (*kept, column)]
        if _width(shown[trial]) <= WIDTH:
            kept.append(column)
        else:
            left_out.append(column)
    lines = [shown[[c for c in shown.columns if c in kept]].to_string(index=False)]
    if left_out:
        lines.append(_wrapped(f"not shown: {', '.join(left_out)} (ganzoo leaderboard --wide)"))
    return lines


def _width(frame: pd.DataFrame) -> int:
    return max(len(line) for line in frame.to_string(index=False).splitlines())
