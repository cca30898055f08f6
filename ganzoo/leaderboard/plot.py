"""Curves of every scored checkpoint, one line per run, one row of panels per protocol.

FID against training steps, FID against training wall time, IS against steps.
A step costs different time in different models (WGAN-GP's critic updates, a
transformer's sequence), so only the wall-time panel compares them at equal
compute.  The real-data floor is not a run and has no curve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..files.write import atomic_write
from .table import LABELS, Board

#: (metric, x column, x label, against what) of each panel of a row.
PANELS = (
    ("fid", "step", "training step", "steps"),
    ("fid", "train_time_s", "training wall time (s)", "wall time"),
    ("is", "step", "training step", "steps"),
)


def figure(board: Board) -> Any:
    """The matplotlib Figure; a metric a protocol did not measure gets an empty panel."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    pids = board.protocol_ids() or ["-"]
    fig = Figure(figsize=(15, 3.6 * len(pids)), dpi=90)
    axes = fig.subplots(len(pids), len(PANELS), squeeze=False)
    for r, pid in enumerate(pids):
        frame = board.table(pid, view="all") if pid in board.protocols else None
        for c, (metric, x, xlabel, against) in enumerate(PANELS):
            ax = axes[r][c]
            ax.set_xlabel(xlabel)
            ax.set_ylabel(LABELS[metric])
            ax.set_title(f"{LABELS[metric]} against {against}, protocol {pid}", fontsize=10)
            ax.grid(alpha=0.3)
            points = None if frame is None else frame.dropna(subset=[metric, x])
            if points is None or points.empty:
                ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
                continue
            names = frame.groupby("model")["run"].nunique()
            for run, line in points.groupby("run", sort=True):
                line = line.sort_values([x, "step"], kind="mergesort")
                model = str(line["model"].iloc[0])
                label = model if names.get(model, 1) == 1 else f"{model} ({Path(str(run)).name})"
                ax.plot(line[x], line[metric], marker="o", label=label)
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_plot(board: Board, path: Path) -> None:
    """A PNG beside the leaderboard."""
    fig = figure(board)
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png")
