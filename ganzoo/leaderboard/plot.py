"""FID and IS against training steps, one line per run, one row of panels per protocol."""

from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_write
from .table import LABELS, Board


def write_plot(board: Board, path: Path) -> None:
    """A PNG beside the leaderboard; a metric a protocol did not measure gets an empty panel."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    pids = board.protocol_ids() or ["-"]
    fig = Figure(figsize=(11, 3.6 * len(pids)), dpi=90)
    axes = fig.subplots(len(pids), 2, squeeze=False)
    for r, pid in enumerate(pids):
        frame = board.table(pid) if pid in board.protocols else None
        for c, metric in enumerate(("fid", "is")):
            ax = axes[r][c]
            ax.set_xlabel("training step")
            ax.set_ylabel(LABELS[metric])
            ax.set_title(f"{LABELS[metric]}, protocol {pid}", fontsize=10)
            ax.grid(alpha=0.3)
            if frame is None or frame.empty or not frame[metric].notna().any():
                ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
                continue
            names = frame.groupby("model")["run"].nunique()
            for run, points in frame.dropna(subset=[metric]).groupby("run", sort=True):
                points = points.sort_values("step")
                model = str(points["model"].iloc[0])
                label = model if names.get(model, 1) == 1 else f"{model} ({Path(str(run)).name})"
                ax.plot(points["step"], points[metric], marker="o", label=label)
            ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png")
